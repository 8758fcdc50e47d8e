"""Reproducible output: the same inputs give byte-identical PDFs.

The builds run `python -m briefgen build --force`, each in a process of its own (with its own
worker processes), on a copy of tests/fixtures/basic. Between builds we vary what must not
matter: the process and its hash seed, the number of workers, SOURCE_DATE_EPOCH and the time
zone (dates in a pack come from the project, never from the clock), the project's folder, and
(in-process) the garbage collector's settings. No timings here: speed is measured by
benchmarks/bench.py.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from conftest import FULL, full_only

from briefgen import build as build_module
from briefgen.build import BuildOptions
from briefgen.loading import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
AS_OF = dt.date(2025, 3, 1)  # tests/fixtures/basic/briefgen.yaml
VARYING = ("SOURCE_DATE_EPOCH", "TZ", "PYTHONHASHSEED")

# name -> (environment, --jobs). Each is a separate `briefgen build` process.
RUNS = {
    "first": ({"PYTHONHASHSEED": "1", "TZ": "UTC"}, "2"),
    "second": ({"PYTHONHASHSEED": "2", "TZ": "UTC"}, "2"),
    "epoch-2000-los-angeles": ({"PYTHONHASHSEED": "3", "SOURCE_DATE_EPOCH": "946684800",
                                "TZ": "America/Los_Angeles"}, "1"),
    "epoch-2033-kathmandu": ({"PYTHONHASHSEED": "4", "SOURCE_DATE_EPOCH": "2000000000",
                              "TZ": "Asia/Kathmandu"}, "2"),
}
if not FULL:   # one varied run fewer here (another seed, epoch and zone remain); all in CI
    del RUNS["epoch-2000-los-angeles"]


def build_in_subprocess(project: Path, out: Path, env: dict[str, str], jobs: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in VARYING}
    environ.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "briefgen", "build", "--force", "-q", "--jobs", jobs,
         "--out", str(out)],
        cwd=project, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr


def pdf_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.pdf"))}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """The fixture project built once per entry of RUNS, each into its own folder."""
    base = tmp_path_factory.mktemp("reproducible")
    project = base / "basic"
    shutil.copytree(FIXTURE, project)
    built = {}
    for name, (env, jobs) in RUNS.items():
        built[name] = base / f"out-{name}"
        build_in_subprocess(project, built[name], env, jobs)
    return built


def test_every_pack_is_built(outputs):
    assert sorted(pdf_bytes(outputs["first"])) == [
        "restricted/alpha.pdf", "restricted/beta.pdf",
        "study-group/alpha.pdf", "study-group/beta.pdf"]


def test_two_separate_processes_give_byte_identical_pdfs(outputs):
    first, second = pdf_bytes(outputs["first"]), pdf_bytes(outputs["second"])
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], f"{name} differs between two builds"


@pytest.mark.parametrize("run", [r for r in RUNS if r.startswith("epoch-")])
def test_clock_time_zone_and_source_date_epoch_do_not_change_the_pdfs(outputs, run):
    reference, varied = pdf_bytes(outputs["first"]), pdf_bytes(outputs[run])
    assert reference.keys() == varied.keys()
    for name in reference:
        assert reference[name] == varied[name], f"{name} differs under {run}"


@pytest.mark.parametrize("run", list(RUNS))
def test_dates_in_the_pdf_come_from_the_project(outputs, run):
    for path in sorted(outputs[run].rglob("*.pdf")):
        meta = pypdf.PdfReader(path).metadata
        for key in ("/CreationDate", "/ModDate"):
            assert meta[key].startswith(f"D:{AS_OF:%Y%m%d}"), (path, key, meta[key])


@pytest.mark.parametrize("run", list(RUNS))
def test_manifest_lists_every_pack_with_the_sha256_of_its_file(outputs, run):
    out = outputs[run]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    listed = {p["file"]: p for p in manifest["packs"] if p["format"] == "pdf"}
    assert sorted(listed) == sorted(pdf_bytes(out))
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
        assert len(entry["input_hash"]) == 64 and entry["pages"] > 0


def test_same_inputs_give_the_same_input_hashes_in_every_run(outputs):
    def hashes(run: str) -> dict[str, str]:
        manifest = json.loads((outputs[run] / "manifest.json").read_text("utf-8"))
        return {p["file"]: p["input_hash"] for p in manifest["packs"]}

    reference = hashes("first")
    for run in RUNS:
        assert hashes(run) == reference, run


def test_the_project_folder_does_not_change_the_pdfs(outputs, tmp_path):
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(FIXTURE, moved)
    env, jobs = RUNS["first"]
    build_in_subprocess(moved, tmp_path / "out", env, jobs)
    assert pdf_bytes(tmp_path / "out") == pdf_bytes(outputs["first"])


@full_only  # the workers' setting built the recorded fixture hashes checked here
@pytest.mark.parametrize("threshold", [build_module.WORKER_GC_THRESHOLD, None])
def test_the_garbage_collector_settings_do_not_change_the_pdfs(tmp_path, threshold):
    """Workers raise the collector's threshold for speed (build.WORKER_GC_THRESHOLD): the
    bytes must be those CPython's defaults give, and those of no collection at all."""
    project_dir = tmp_path / "basic"
    shutil.copytree(FIXTURE, project_dir)
    project = load_project(project_dir)
    saved, enabled = gc.get_threshold(), gc.isenabled()
    outputs = {}
    try:
        for name, setting in (("default", (700, 10, 10)), ("varied", threshold)):
            gc.enable()
            if setting is None:
                gc.disable()
            else:
                gc.set_threshold(*setting)
            build_module.build(project, tmp_path / name, BuildOptions(force=True, in_process=True))
            outputs[name] = pdf_bytes(tmp_path / name)
    finally:
        gc.set_threshold(*saved)
        if enabled:
            gc.enable()
    assert outputs["default"].keys() == outputs["varied"].keys()
    for name in outputs["default"]:
        assert outputs["default"][name] == outputs["varied"][name], name


def _engine_versions() -> dict[str, object]:
    from importlib import metadata

    from weasyprint.text.ffi import pango

    versions: dict[str, object] = {d: metadata.version(d) for d in
                                   ("weasyprint", "pydyf", "jinja2", "markdown", "nh3")}
    versions["pango"] = pango.pango_version()
    return versions


def test_the_pdfs_are_those_built_before_the_restructure(outputs):
    """A refactoring changes no byte: the fixture's PDFs equal those recorded before the 2.0
    restructure (tests/fixtures/basic-pdfs.json), wherever the layout engine is the same one.
    A new WeasyPrint or Pango changes the bytes legitimately: then record them again."""
    recorded = json.loads((FIXTURE.parent / "basic-pdfs.json").read_text())
    if _engine_versions() != recorded["versions"]:
        pytest.skip(f"recorded with {recorded['versions']}, this is {_engine_versions()}")
    built = {name: hashlib.sha256(data).hexdigest()
             for name, data in pdf_bytes(outputs["first"]).items()}
    assert built == recorded["pdfs"]


def test_each_stream_is_compressed_once_and_the_pdf_is_the_same(tmp_path, monkeypatch):
    """pydyf reads every stream's bytes twice when it computes /ID; briefgen's finisher
    (pdf.compress_once) keeps the first: counted here, and the bytes compared with a build
    without it."""
    import pydyf

    from briefgen import pdf as pdf_module

    project = load_project(FIXTURE)
    options = BuildOptions(force=True, in_process=True, areas=["alpha"],
                           audiences=["study-group"])
    made: dict[tuple[int, str], int] = {}
    plain = pydyf.Stream.data.fget

    def counted(self):
        key = (id(self), str(self.extra.get("Type", "")))
        made[key] = made.get(key, 0) + 1
        return plain(self)

    monkeypatch.setattr(pydyf.Stream, "data", property(counted))
    pdf_module._frozen.cache_clear()
    try:
        build_module.build(project, tmp_path / "once", options)
        # Every stream once, but the object stream pydyf makes while it writes (after the
        # finisher), which it reads twice.
        twice = [kind for (_, kind), n in made.items() if n > 1]
        assert len(made) > 10 and twice == ["/ObjStm"], twice
        monkeypatch.setattr(pdf_module, "compress_once", lambda _document, _pdf: None)
        made.clear()
        build_module.build(project, tmp_path / "twice", options)
        assert sum(n == 2 for n in made.values()) > 10   # the control: pydyf's two passes
    finally:
        pdf_module._frozen.cache_clear()
    assert (tmp_path / "once" / "study-group" / "alpha.pdf").read_bytes() == (
        tmp_path / "twice" / "study-group" / "alpha.pdf").read_bytes()
