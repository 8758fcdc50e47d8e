"""Numbered copies: every page of every PDF stamped "Copy N of M · NAME" (read back), the
metadata records it, a register beside the copies, names escaped, handling kept."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_bundle import built, project  # noqa: F401  (fixtures)

from briefgen.commands import main
from briefgen.distribute.stamp import pdf_string

HOSTILE = "O'Brien (Ann) \\ Zoë) Tj ET"


def _copies(root: Path, text: str, suffix: str = ".yaml", audience: str = "restricted",
            build: bool = True) -> int:
    people = root / f"people{suffix}"
    people.write_text(text)
    extra = ["--build"] if build else []
    return main(["-C", str(root), "-q", "bundle", "--audience", audience,
                 "--recipients", str(people), *extra])


def test_every_page_of_every_copy_carries_its_line(project: Path):  # noqa: F811
    names = ["Ana Silva", HOSTILE]
    assert _copies(project, "- Ana Silva\n- {name: " + json.dumps(HOSTILE) + "}\n") == 0
    folder = project / "output" / "bundles" / "restricted-1.0"
    assert sorted(p.name for p in folder.iterdir()) == [
        "01-ana-silva.zip", "02-o-brien-ann-zo-tj-et.zip", "register.csv"]
    rows = list(csv.DictReader(io.StringIO((folder / "register.csv").read_text())))
    assert [r["recipient"] for r in rows] == names
    for number, row in enumerate(rows, 1):
        with zipfile.ZipFile(folder / row["file"]) as archive:
            assert "register.csv" not in archive.namelist()
            pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
            assert pdfs
            for name in pdfs:
                reader = PdfReader(io.BytesIO(archive.read(name)))
                line = f"Copy {number} of 2 \u00b7 {names[number - 1]}"
                for page in reader.pages:
                    assert line in page.extract_text()
                assert reader.metadata["/BriefgenCopy"] == line
                assert reader.metadata["/Keywords"].endswith(f", {line}")
                assert reader.metadata["/Title"]  # the pack's own metadata kept
        assert main(["verify", str(folder / row["file"])]) == 0


def test_copies_are_reproducible(project: Path):  # noqa: F811
    assert _copies(project, "- Ana\n", ".yaml") == 0
    target = project / "output" / "bundles" / "restricted-1.0" / "01-ana.zip"
    first = target.read_bytes()
    target.unlink()
    assert _copies(project, "name,team\nAna,x\n", ".csv", build=False) == 0
    assert target.read_bytes() == first


def test_clear_copies_hold_no_red_canary(project: Path):  # noqa: F811
    assert _copies(project, "- Ana\n", audience="study-group", build=False) == 0
    target = project / "output" / "bundles" / "study-group-1.0" / "01-ana.zip"
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            text = data.decode("latin-1")
            if name.endswith(".pdf"):
                text += "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
            assert "CANARY" not in text, name


@pytest.mark.parametrize(("text", "suffix", "message", "line"), [
    ("- Ana\n- \u738b\u4f1f\n", ".yaml", "U+4F1F, U+738B", 2),
    ("- Ana\n- Ana\n", ".yaml", "appears twice", 2),
    ("team\nx\n", ".csv", "no 'name' column", 1),
    ("name,team\nAna,x\n,y\n", ".csv", "without a name", 3),
    ("{a: 1}\n", ".yaml", "not a list", 1),
])
def test_recipients_files_are_checked_with_located_errors(project: Path, capsys,  # noqa: F811
                                                          text, suffix, message, line):
    assert _copies(project, text, suffix, build=False) == 1
    err = capsys.readouterr().err
    assert f"people{suffix}:{line}: error:" in err and message in err


def test_pdf_string_escapes_delimiters_and_high_bytes():
    assert pdf_string("a(b)c\\d\u00e9") == b"(a\\(b\\)c\\\\d\\351)"
