"""Hostile input (SECURITY.md): note authors are not trusted. Each leak check has a positive
control, a file inside the project carrying its own marker, to prove the check would notice.

Faults: a failing pack fails alone (time and memory limits, clear messages), and writes
stay atomic under SIGKILL.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pypdf
from conftest import full_only
from hostile_helpers import (  # the suite's shared helpers
    ENV,
    add_audience,
    pdf_text,
    run_cli,
    write_note,
)

from briefgen.build import BuildOptions, atomic_write, build, remove_partial_writes
from briefgen.loading import load_project

# --- faults: each failing pack fails alone, with a clear message --------------------------------


def test_faulty_packs_fail_alone_with_exit_code_and_summary(basic_project):
    root = basic_project
    # The slow pack cannot finish: 100,000 columns over 1.9 MB of text take WeasyPrint about
    # ten minutes here (a 218 KB note took 62 s), far beyond the limit below. Only the slow
    # audience is cleared for the big note, so the other packs stay small.
    slow = add_audience(root, "slow", "body { column-count: 100000 }\n")
    (slow / "audience.yaml").write_text("title: slow readers\nclearance: RED\n")
    filler = "\n\n".join(f"Paragraph {i} of filler text that goes on to fill the columns."
                         for i in range(27_000))
    big = write_note(root, "alpha", "40-big.md", filler)
    big.write_text(big.read_text().replace("order: 50\n", "order: 50\nhandling: RED\n", 1))
    add_audience(root, "huge", "body { font-size: 1e9px }\n")           # does not fit an int
    for name in ("restricted",):
        shutil.rmtree(root / "styles" / name)
    (root / "sources" / "alpha" / "30-restricted.md").unlink()
    write_note(root, "beta", "20-deep.md", "<div>" * 5000 + "deep" + "</div>" * 5000)
    previous = root / "output" / "slow" / "alpha.pdf"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"%PDF-1.7 previous good pack")
    # A limit far above what a healthy pack needs (about 2 s), so even a busy machine does not make
    # one time out; the slow packs cannot finish within any limit.
    proc = run_cli("build", "--timeout", "20", "--jobs", "2", cwd=root)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = proc.stderr[proc.stderr.index(" failed -> "):]
    assert "1 built, 5 failed" in proc.stderr
    assert ("failed: slow/alpha: timed out after 20 s and was stopped (the limit is set with "
            "--timeout)") in summary
    assert "failed: huge/alpha: layout failed: a size is too large to lay out" in summary
    assert "failed: study-group/beta: layout failed: the document is nested too deeply" in summary
    for pack in ("slow/beta", "huge/beta"):
        assert f"failed: {pack}: " in summary
    built = (root / "output" / "study-group" / "alpha.pdf").read_bytes()
    assert "Alpha area" in pdf_text(built)
    assert previous.read_bytes() == b"%PDF-1.7 previous good pack"  # not replaced
    # ... and not vouched for: the manifest does not account for it (prove_output).
    assert "output/slow/alpha.pdf: should not be here: the pack failed" in summary
    assert not list(previous.parent.glob(".*.tmp"))                 # no half-written file


@full_only  # the timeout itself is tested above (slow/alpha)
def test_pathological_markdown_is_bounded_by_the_timeout(basic_project):
    # Python-Markdown is quadratic on unclosed brackets: HTML is rendered in the worker, so
    # the per-pack timeout covers it, and the other packs build.
    write_note(basic_project, "beta", "20-brackets.md", "[" * 300_000)  # days of work
    results = build(load_project(basic_project), basic_project / "output", BuildOptions(
        timeout=20, audiences=["study-group"], jobs=2))
    status = {r.area: r for r in results}
    assert status["alpha"].status == "built"
    assert status["beta"].status == "failed"
    assert status["beta"].message.startswith("timed out after 20 s")


@full_only  # 19 s of a runaway pack
def test_memory_limit_stops_a_runaway_pack_and_the_others_build(basic_project):
    add_audience(basic_project, "hog", "p { margin-top: 1e9px }\n")  # endless pages
    results = build(load_project(basic_project), basic_project / "output", BuildOptions(
        areas=["beta"], audiences=["study-group", "hog"], jobs=2, timeout=90, memory_limit_mb=520))
    status = {r.audience: r for r in results}
    assert status["study-group"].status == "built"
    assert status["hog"].status == "failed"
    assert "out of memory" in status["hog"].message    # the memory limit, not the timeout


# --- atomic writes under SIGKILL -----------------------------------------------------------------

WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from briefgen.build import atomic_write
    if sys.argv[2] == "pause":
        def pause(fd):
            print("WRITTEN", flush=True)
            time.sleep(60)
        os.fsync = pause
    print("START", flush=True)
    atomic_write(Path(sys.argv[1]), b"%PDF-new " + b"x" * int(sys.argv[3]))
    print("DONE", flush=True)
""")


def writer(target: Path, mode: str, size: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(target), mode, str(size)],
                            stdout=subprocess.PIPE, text=True, env=ENV)


def test_kill_between_write_and_rename_keeps_the_previous_pdf(tmp_path):
    target = tmp_path / "pack.pdf"
    old = b"%PDF-old complete"
    atomic_write(target, old)
    proc = writer(target, "pause", 20_000_000)
    assert proc.stdout.readline().strip() == "START"
    assert proc.stdout.readline().strip() == "WRITTEN"  # all data written, not yet renamed
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    assert target.read_bytes() == old
    leftovers = list(tmp_path.glob(".pack.pdf.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0
    remove_partial_writes(target)
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]


def test_written_files_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    atomic_write(tmp_path / "new.pdf", b"%PDF")
    assert (tmp_path / "new.pdf").stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path / "kept.pdf").write_bytes(b"old")
    (tmp_path / "kept.pdf").chmod(0o640)
    atomic_write(tmp_path / "kept.pdf", b"%PDF")
    assert (tmp_path / "kept.pdf").stat().st_mode & 0o777 == 0o640


def test_kill_at_any_moment_leaves_the_old_or_the_new_file_never_a_mix(tmp_path):
    target = tmp_path / "pack.pdf"
    old = b"%PDF-old complete"
    size = 32_000_000
    new = b"%PDF-new " + b"x" * size
    outcomes = set()
    for delay in (0.0, 0.05, 0.15, 0.4, 2.0):
        atomic_write(target, old)
        proc = writer(target, "run", size)
        assert proc.stdout.readline().strip() == "START"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        data = target.read_bytes()
        assert data in (old, new)
        outcomes.add(data == new)
        remove_partial_writes(target)
    assert True in outcomes  # the last, slow kill let the write finish


def test_killing_a_real_build_never_leaves_a_broken_pdf(basic_project):
    out = basic_project / "output"
    results = build(load_project(basic_project), out, BuildOptions(jobs=2))
    before = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    assert len(before) == 4 and all(r.status == "built" for r in results)
    proc = subprocess.Popen([sys.executable, "-m", "briefgen", "build", "--force", "--jobs", "2"],
                            cwd=basic_project, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stdout.readline().startswith("built")  # one pack written, others in flight
    os.killpg(proc.pid, signal.SIGKILL)                 # the parent and its workers
    proc.wait(30)
    proc.stdout.close()
    for path, old in before.items():
        data = path.read_bytes()
        assert data == old or len(pypdf.PdfReader(io.BytesIO(data)).pages) > 0
    json.loads((out / "manifest.json").read_text())
    rebuilt = build(load_project(basic_project), out, BuildOptions(jobs=2))
    assert all(r.status in ("built", "unchanged") for r in rebuilt)
    assert not list(out.rglob(".*.tmp"))
