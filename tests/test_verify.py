"""briefgen verify: a bundle, its unpacked folder, an output folder or one PDF, against the
checksums that came with it; one line per file, exit 1 naming any failure."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from test_bundle import built, project  # noqa: F401  (fixtures)

from briefgen.commands import main
from briefgen.distribute.bundle import write_bundle
from briefgen.loading import load_project


@pytest.fixture
def bundle(project: Path) -> Path:  # noqa: F811
    return write_bundle(load_project(project), project / "output", "study-group")


def _rewrite(zip_path: Path, change: dict[str, bytes | None]) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    for name, data in change.items():
        if data is None:
            members.pop(name)
        else:
            members[name] = data
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_fresh_bundle_verifies(bundle: Path, capsys):
    assert main(["verify", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "ok       alpha.pdf" in out and "ok       manifest.json" in out


def test_one_changed_byte_fails_naming_the_file(bundle: Path, capsys):
    with zipfile.ZipFile(bundle) as archive:
        data = bytearray(archive.read("beta.pdf"))
    data[len(data) // 2] ^= 1
    _rewrite(bundle, {"beta.pdf": bytes(data)})
    assert main(["verify", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "changed  beta.pdf" in err and "(beta.pdf)" in err


def test_a_removed_and_an_added_file_fail(bundle: Path, capsys):
    _rewrite(bundle, {"alpha.pdf": None})
    assert main(["verify", str(bundle)]) == 1
    assert "missing  alpha.pdf" in capsys.readouterr().err
    _rewrite(bundle, {"extra.pdf": b"%PDF"})
    assert main(["verify", str(bundle)]) == 1
    assert "extra    extra.pdf" in capsys.readouterr().err


def test_unpacked_folder_output_folder_and_one_pdf(bundle: Path, tmp_path: Path, capsys):
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(unpacked)
    assert main(["verify", str(unpacked)]) == 0
    assert main(["verify", str(unpacked / "alpha.pdf")]) == 0
    (unpacked / "notes.txt").write_text("mine")
    assert main(["verify", str(unpacked)]) == 1
    assert "extra    notes.txt" in capsys.readouterr().err
    out = bundle.parent.parent
    shutil.rmtree(out / "bundles")
    assert main(["verify", str(out)]) == 0
    pdf = out / "study-group" / "alpha.pdf"
    assert main(["verify", str(pdf)]) == 0
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    assert main(["verify", str(pdf)]) == 1
    assert "changed  study-group/alpha.pdf" in capsys.readouterr().err
