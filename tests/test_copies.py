"""Numbered copies (issue #25): one stamped copy per recipient, made from the built files,
read back page by page; the register; refusals with located messages; verify."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pypdf
import pytest
from test_distribute import run
from test_handling import CANARIES, make_canary_project

# A name with characters that mean something in HTML, in PDF strings and in CSV.
NAMES = ["Zoë Åström", "O'Brien, Seán", "<b>Ana</b> (chair) \\ & co", "Δημήτρης Παππάς"]
FOLDER = Path("output") / "bundles" / "restricted-1.0"


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> Path:
    root = make_canary_project(tmp_path_factory.mktemp("copies") / "p")
    with (root / "group.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email"])
        for name in NAMES:
            writer.writerow([name, ""])
    assert run(root, "build", "--audience", "restricted", "--to", "pdf,html,epub"
               ).returncode == 0
    proc = run(root, "bundle", "--audience", "restricted", "--recipients", "group.csv")
    assert proc.returncode == 0, proc.stderr
    return root


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}


def test_every_page_of_every_copy_carries_its_line_and_the_register_lists_them(copies):
    folder = copies / FOLDER
    register = list(csv.DictReader(io.StringIO((folder / "register.csv").read_text())))
    assert [r["recipient"] for r in register] == NAMES
    assert [r["copy"] for r in register] == ["1", "2", "3", "4"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [r["file"] for r in register] + ["register.csv"])
    for row in register:
        line = f"Copy {row['copy']} of 4 · {row['recipient']}"
        files = members(folder / row["file"])
        assert "register.csv" not in files                   # the register stays outside
        pdfs = [n for n in files if n.endswith(".pdf")]
        assert pdfs and {"alpha.html", "alpha.epub"} <= set(files)
        for name in pdfs:
            reader = pypdf.PdfReader(io.BytesIO(files[name]))
            for number, page in enumerate(reader.pages, 1):
                text = " ".join(page.extract_text().split())
                assert line in text, f"{row['file']}:{name} page {number}"
                for other in NAMES:
                    assert other == row["recipient"] or other not in text
            assert reader.metadata["/BriefgenCopy"] == line
            assert reader.outline                            # the bookmarks survive
        import html
        assert html.escape(line) != line or "<" not in line   # escaping is exercised
        for name in (n for n in files if n.endswith(".html") and n != "index.html"):
            assert f'<p class="cover-copy"><strong>{html.escape(line)}</strong>' in \
                files[name].decode()
        for name in (n for n in files if n.endswith(".epub")):
            with zipfile.ZipFile(io.BytesIO(files[name])) as epub:
                assert epub.namelist()[0] == "mimetype"
                cover = "".join(epub.read(n).decode() for n in epub.namelist()
                                if n.endswith(".xhtml"))
            assert f"{html.escape(line)}</strong>" in cover
        manifest = files["manifest.json"].decode()
        assert f'"copy": {row["copy"]}' in manifest
        everything = b"".join(files.values()).decode("latin-1")
        assert [c for c in CANARIES if c in everything] == []   # handling holds


def test_copies_are_reproducible_and_verify_checks_each_one(copies, tmp_path):
    folder = copies / FOLDER
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert run(copies, "bundle", "--audience", "restricted", "--recipients",
               "group.csv").returncode == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    ok = run(copies, "verify", str(FOLDER))
    assert ok.returncode == 0, ok.stderr
    assert "ok       02-o-brien-sean.zip:alpha.pdf" in ok.stdout
    import shutil
    damaged = tmp_path / "copies"
    shutil.copytree(folder, damaged)
    copy = damaged / "02-o-brien-sean.zip"
    data = copy.read_bytes()
    copy.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    bad = run(copies, "verify", str(damaged))
    assert bad.returncode == 1 and "02-o-brien-sean.zip" in bad.stderr


def test_the_stamp_is_a_pagination_artifact_in_an_embedded_font(copies):
    files = members(copies / FOLDER / "01-zoe-astrom.zip")
    reader = pypdf.PdfReader(io.BytesIO(files["alpha.pdf"]))
    page = reader.pages[0]
    assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in page.get_contents(
        ).get_data()
    form = page["/Resources"]["/XObject"]["/BriefgenCopy"].get_object()
    fonts = form["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font
                      else font)["/FontDescriptor"]
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ("email\nz@example.org\n", ".csv", "group{s}:1: error: no 'name' column"),
    ("- Ana\n- Ben\n- Ana\n", ".yaml", "group{s}:3: error: 'Ana' is listed twice"),
    ("- Ana\n- name: 王小明\n", ".yaml", "group{s}:2: error: the copy line's font"),
    ("- Ana\n- name: ''\n", ".yaml", "group{s}:2: error: a recipient without a name"),
    ("name: Ana\n", ".yaml", "group{s}:1: error: not a list of recipients"),
])
def test_a_bad_recipients_file_gets_a_located_error_and_writes_nothing(
        tmp_path, content, suffix, message):
    root = make_canary_project(tmp_path / "p")
    (root / f"group{suffix}").write_text(content)
    proc = run(root, "bundle", "--audience", "restricted", "--recipients", f"group{suffix}")
    assert proc.returncode != 0 and message.format(s=suffix) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (root / "output" / "bundles").exists()


def test_clean_removes_the_copies_and_their_register_and_keeps_a_stranger(copies, tmp_path):
    import shutil
    root = tmp_path / "p"
    shutil.copytree(copies, root)
    (root / FOLDER / "notes-of-mine.txt").write_text("mine")
    assert run(root, "clean").returncode == 0
    left = sorted(p.relative_to(root / "output").as_posix()
                  for p in (root / "output").rglob("*"))
    assert left == ["bundles", "bundles/restricted-1.0",
                    "bundles/restricted-1.0/notes-of-mine.txt"]
