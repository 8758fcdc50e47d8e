"""briefgen bundle: one audience's built packs, reproducible, checked, confined."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_handling import make_canary_project

from briefgen.build import BuildOptions, build
from briefgen.commands import main
from briefgen.distribute.bundle import write_bundle
from briefgen.errors import BriefgenError
from briefgen.loading import load_project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_canary_project(tmp_path_factory.mktemp("bundle") / "p")
    build(load_project(root), root / "output",
          BuildOptions(audiences=("study-group",), in_process=True))
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(built, root)
    return root


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def test_bundle_is_reproducible_and_self_describing(project: Path):
    assert main(["-C", str(project), "-q", "bundle", "--audience", "study-group"]) == 0
    target = project / "output" / "bundles" / "study-group-1.0.zip"
    first = target.read_bytes()
    target.unlink()
    assert main(["-C", str(project), "-q", "bundle", "--audience", "study-group"]) == 0
    assert target.read_bytes() == first
    members = _members(target)
    assert sorted(members) == ["README.txt", "SHA256SUMS", "alpha.pdf", "beta.pdf",
                               "manifest.json"]
    for line in members["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(members[name]).hexdigest() == digest
    manifest = json.loads(members["manifest.json"])
    assert manifest["edition"] == "1.0" and manifest["as_of"] == "2025-03-01"
    assert manifest["clearance"] == "TLP:CLEAR" and manifest["audience"] == "study-group"
    assert {f["file"] for f in manifest["files"]} == {"alpha.pdf", "beta.pdf"}
    readme = members["README.txt"].decode()
    assert "sha256sum -c SHA256SUMS" in readme and "TLP:CLEAR" in readme
    with zipfile.ZipFile(target) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2025, 3, 1, 0, 0, 0)}


def test_bundle_of_a_clear_audience_holds_no_red_canary(project: Path):
    target = write_bundle(load_project(project), project / "output", "study-group")
    for name, data in _members(target).items():
        text = data.decode("latin-1")
        if name.endswith(".pdf"):
            text += "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert "CANARY" not in text, name


def test_bundle_refuses_stale_or_missing_output(project: Path, capsys):
    note = project / "sources" / "alpha" / next(
        p.name for p in (project / "sources" / "alpha").glob("*.md"))
    note.write_text(note.read_text() + "\nA new line.\n")
    assert main(["-C", str(project), "bundle", "--audience", "study-group"]) == 1
    err = capsys.readouterr().err
    assert "output/study-group/alpha.pdf" in err and "--build" in err
    assert main(["-C", str(project), "-q", "bundle", "--audience", "study-group",
                 "--build"]) == 0
    shutil.rmtree(project / "output")
    assert main(["-C", str(project), "bundle", "--audience", "study-group"]) == 1
    assert "build first" in capsys.readouterr().err


def test_amber_and_red_audiences_need_recipients(project: Path):
    with pytest.raises(BriefgenError, match="numbered copies"):
        write_bundle(load_project(project), project / "output", "restricted")
    with pytest.raises(BriefgenError, match="numbered copies"):
        write_bundle(load_project(project), project / "output", "red")


def test_clean_removes_the_bundles_briefgen_wrote(project: Path):
    write_bundle(load_project(project), project / "output", "study-group")
    (project / "output" / "bundles" / "mine.zip").write_bytes(b"user")
    assert main(["-C", str(project), "-q", "clean"]) == 0
    assert sorted(p.name for p in (project / "output" / "bundles").iterdir()) == ["mine.zip"]
