"""Distribution (issue #25, in part): bundles, verify and clean, end to end through the
command line on real builds."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_handling import CANARIES, make_canary_project

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
BUNDLE = Path("output") / "bundles" / "study-group-1.0.zip"


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=root,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory) -> Path:
    root = make_canary_project(tmp_path_factory.mktemp("bundle") / "p")
    proc = run(root, "bundle", "--audience", "study-group", "--build")
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def bundled(built_once, tmp_path) -> Path:
    """A copy of a project built and bundled once (each test may damage its own)."""
    root = tmp_path / "p"
    shutil.copytree(built_once, root)
    return root


def rewrite(path: Path, change: dict[str, bytes | None]) -> None:
    """The zip at `path` with members replaced (bytes) or removed (None), or added."""
    with zipfile.ZipFile(path) as old:
        members = {n: old.read(n) for n in old.namelist()}
    for name, data in change.items():
        if data is None:
            members.pop(name)
        else:
            members[name] = data
    with zipfile.ZipFile(path, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)


def test_a_bundle_holds_the_audiences_files_its_sums_and_a_readme(bundled):
    with zipfile.ZipFile(bundled / BUNDLE) as archive:
        names = sorted(archive.namelist())
        assert names == [f"study-group-1.0/{n}" for n in (
            "README.txt", "SHA256SUMS", "alpha.pdf", "beta.pdf", "index.html",
            "manifest.json")]
        sums = archive.read("study-group-1.0/SHA256SUMS").decode().splitlines()
        for line in sums:
            digest, name = line.split("  ")
            assert hashlib.sha256(archive.read(f"study-group-1.0/{name}")).hexdigest() == digest
        readme = archive.read("study-group-1.0/README.txt").decode()
        assert "TLP:CLEAR" in readme and "sha256sum -c SHA256SUMS" in readme
        everything = "".join(archive.read(n).decode("latin-1") for n in names)
    assert [c for c in CANARIES if c in everything] == []        # handling holds
    first = (bundled / BUNDLE).read_bytes()
    assert run(bundled, "bundle", "--audience", "study-group").returncode == 0
    assert (bundled / BUNDLE).read_bytes() == first               # reproducible


def test_stale_or_missing_output_is_refused_and_amber_needs_recipients(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    missing = run(root, "bundle", "--audience", "study-group")
    assert missing.returncode == 1 and "has not been built" in missing.stderr
    assert run(root, "build", "--audience", "study-group").returncode == 0
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + "\nA later sentence.\n")
    other = root / "sources" / "alpha" / "10-facts.md"
    other.write_text(other.read_text() + "\nA later sentence.\n")
    stale = run(root, "bundle", "--audience", "study-group")
    assert stale.returncode == 1
    assert "output/study-group/beta.pdf: error: built from older sources" in stale.stderr
    assert "output/study-group/alpha.pdf: error: built from older sources" in stale.stderr
    assert stale.stderr.count("hint:") == 1          # one remedy, said once
    assert "--build" in stale.stderr and not (root / BUNDLE).exists()
    assert run(root, "build", "--audience", "study-group", "--to", "html").returncode == 0
    note.write_text(note.read_text() + "\nAnother sentence.\n")
    rebuilt = run(root, "bundle", "--audience", "study-group", "--build")   # every edition
    assert rebuilt.returncode == 0, rebuilt.stderr
    with zipfile.ZipFile(root / BUNDLE) as archive:
        assert {"study-group-1.0/beta.pdf", "study-group-1.0/beta.html"} <= set(
            archive.namelist())
    amber = run(root, "bundle", "--audience", "restricted", "--build")
    assert amber.returncode == 1 and "named recipients only" in amber.stderr


@pytest.mark.parametrize("damage", ["byte", "removed", "extra"])
def test_verify_passes_a_bundle_and_fails_on_any_change(bundled, damage):
    ok = run(bundled, "verify", str(BUNDLE))
    assert ok.returncode == 0 and "ok       alpha.pdf" in ok.stdout
    with zipfile.ZipFile(bundled / BUNDLE) as archive:
        pdf = archive.read("study-group-1.0/alpha.pdf")
    change: dict[str, bytes | None] = {
        "byte": {"study-group-1.0/alpha.pdf": pdf[:-10] + bytes([pdf[-10] ^ 1]) + pdf[-9:]},
        "removed": {"study-group-1.0/beta.pdf": None},
        "extra": {"study-group-1.0/notes.txt": b"added later"},
    }[damage]
    rewrite(bundled / BUNDLE, change)
    bad = run(bundled, "verify", str(BUNDLE))
    expected = {"byte": "CHANGED  alpha.pdf", "removed": "MISSING  beta.pdf",
                "extra": "EXTRA    notes.txt"}[damage]
    assert bad.returncode == 1 and expected in bad.stderr


def test_verify_checks_an_output_folder_and_one_file_in_it(bundled):
    assert run(bundled, "verify", "output").returncode == 0
    pdf = bundled / "output" / "study-group" / "alpha.pdf"
    assert run(bundled, "verify", str(pdf)).returncode == 0
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    proc = run(bundled, "verify", str(pdf))
    assert proc.returncode == 1 and "CHANGED  study-group/alpha.pdf" in proc.stderr


def test_clean_removes_what_briefgen_wrote_and_nothing_else(bundled):
    out = bundled / "output"
    (out / "study-group" / "mine.txt").write_text("a file of my own")
    proc = run(bundled, "clean")
    assert proc.returncode == 0
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert left == ["study-group", "study-group/mine.txt"]
    assert "kept     study-group/mine.txt" in proc.stderr


def test_deleting_an_area_leaves_no_trace_of_it_in_output(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    assert run(root, "build", "--to", "pdf,html").returncode == 0
    shutil.rmtree(root / "sources" / "beta")
    assert run(root, "build", "--to", "pdf,html").returncode == 0
    assert not list((root / "output").glob("*/beta.*"))
    assert "beta" not in (root / "output" / "manifest.json").read_text()
    assert "beta" not in (root / "output" / "study-group" / "index.html").read_text()


def test_the_study_group_pack_prints_the_questions_and_graded_further_reading(tmp_path):
    import pypdf

    root = make_canary_project(tmp_path / "p")
    area = root / "sources" / "beta" / "_area.md"
    text = area.read_text()
    head, _, body = text[4:].partition("\n---\n")
    area.write_text("---\n" + head + '\nquestions:\n  - "What does [[BE-01]] stand on?"\n'
                    "further_reading:\n  - {ref: report-b, reason: \"READ-REASON-1 the "
                    "report itself.\"}\n  - {ref: red-source, reason: \"READ-REASON-2 "
                    "restricted.\"}\n---\n" + body)
    group = root / "styles" / "study-group" / "audience.yaml"   # the fixture's own
    if "extends: study-group" not in group.read_text():
        group.write_text(group.read_text() + "discussion: true\n")
    proc = run(root, "build", "--area", "beta")
    assert proc.returncode == 0, proc.stderr

    def text_of(audience: str) -> str:
        return "\n".join(p.extract_text() for p in pypdf.PdfReader(
            root / "output" / audience / "beta.pdf").pages)

    group = text_of("study-group")
    assert "For discussion" in group and "What does" in group and "READ-REASON-1" in group
    assert "READ-REASON-2" not in group and "CANARY-REDREF-4471" not in group  # withheld
    assert "For discussion" not in text_of("restricted")        # not switched on there
    red = root / "styles" / "red" / "audience.yaml"
    red.write_text(red.read_text() + "discussion: true\n")
    assert run(root, "build", "--area", "beta", "--audience", "red").returncode == 0
    assert "READ-REASON-2" in text_of("red")                     # positive control
