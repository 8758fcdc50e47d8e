"""The reading editions (issue #24): HTML and EPUB built from the same confined pack and the
same HTML as the PDF, with the handling rule on every format, checked by the real tools a
reader's side would use: EPUBCheck for every EPUB, axe-core in headless Chromium for every
HTML file (no violations, no request outside the file, no sideways scroll at 360 px).

`make test` checks a representative few (study-group's pack, book and index, a large-print
pack, a print-mono EPUB; HTML at 360 px); CI (CI=true) checks all twenty packs and four
books, the HTML at 360 and 1280 px.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdf
import pytest
from conftest import FULL, full_only
from test_handling import CANARIES, SHOWN_TO_RED, make_canary_project

from briefgen.build import BuildOptions, build
from briefgen.loading import load_project

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "basic"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
EPUBCHECK = Path("/usr/share/java/epubcheck.jar")
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = bool(os.environ.get("BRIEFGEN_REQUIRE_BROWSER"))


def need(tool: Path, what: str) -> None:
    if not tool.exists():
        if REQUIRED:
            pytest.fail(f"{what} is missing ({tool}): run scripts/install-browser.sh")
        pytest.skip(f"{what} is not installed (scripts/install-browser.sh)")


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=root,
                          capture_output=True, text=True, timeout=600, check=False)


def epubcheck(path: Path) -> str:
    # C1 only and the serial collector: EPUBCheck is a short run, and this halves its CPU.
    proc = subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                           str(EPUBCHECK), str(path)], capture_output=True, text=True,
                          timeout=300, check=False)
    return proc.stdout + proc.stderr


def epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample's HTML and EPUB editions (one area per audience here, all in CI) and the
    books (study-group's here, each audience's in CI)."""
    out = tmp_path_factory.mktemp("editions")
    project = load_project(ROOT)
    areas = [a.slug for a in project.areas]
    audiences = sorted(project.audiences)
    if FULL:
        results = build(project, out, BuildOptions(formats=("html", "epub"), jobs=2, book=True))
    else:
        results = []
        for i, audience in enumerate(audiences):
            results += build(project, out, BuildOptions(
                formats=("html", "epub"), jobs=1, audiences=[audience],
                areas=[areas[i % len(areas)]], book=audience == "study-group"))
    assert results and all(r.status == "built" for r in results), [r.message for r in results]
    return out


def test_every_sample_epub_passes_epubcheck(sample):
    need(EPUBCHECK, "EPUBCheck")
    books = sorted(sample.glob("*/*.epub"))
    assert len(books) == (30 if FULL else 6)           # the books too
    # EPUBCheck starts a JVM for each file: here a pack and the book of study-group; in CI
    # every one.
    for book in books if FULL else [b for b in books if b.parent.name == "study-group"]:
        report = epubcheck(book)
        assert "No errors or warnings detected" in report, (book, report)


def test_every_sample_html_passes_axe_and_asks_for_nothing(sample, tmp_path):
    need(CHROMIUM, "Chromium")
    need(AXE, "axe-core")
    from playwright.sync_api import sync_playwright

    pages = sorted(sample.glob("*/*.html"))
    assert len(pages) == (30 if FULL else 6) + 5      # and an index per audience
    if not FULL:   # a pack of the smallest and of the largest type, and an index
        pages = [p for p in pages if p.parent.name in ("study-group", "large-print")
                 and p.name != "book.html"
                 and (p.name != "index.html" or p.parent.name == "study-group")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            for path in pages:
                for width in (360, 1280) if FULL else (360,):   # the phone is the harder
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    asked: list[str] = []
                    page.on("request", lambda r, asked=asked: asked.append(r.url))
                    page.goto(path.as_uri())
                    page.wait_for_load_state("load")
                    page.add_script_tag(path=str(AXE))
                    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
                    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                                  for v in result["violations"]]
                    assert violations == [], (path, width, violations)
                    assert [u for u in asked if not u.startswith("data:")] == [path.as_uri()]
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    page.screenshot(path=str(tmp_path / f"{path.parent.name}-{path.stem}-"
                                             f"{width}.png"))
                    page.close()
        finally:
            browser.close()


def test_three_formats_from_one_command_recorded_and_then_unchanged(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    proc = run(root, "build", "--to", "pdf,html", "--to", "epub")
    assert proc.returncode == 0, proc.stderr
    assert "built     study-group/alpha.{pdf,html,epub}" in proc.stdout
    out = root / "output"
    manifest = json.loads((out / "manifest.json").read_text())
    files = {e["file"]: e for e in manifest["packs"]}
    for audience in ("study-group", "restricted"):
        for area in ("alpha", "beta"):
            for fmt in ("pdf", "html", "epub"):
                entry = files[f"{audience}/{area}.{fmt}"]
                data = (out / entry["file"]).read_bytes()
                import hashlib

                assert entry["format"] == fmt and entry["sha256"] == hashlib.sha256(
                    data).hexdigest() and entry["input_hash"]
        index = (out / audience / "index.html").read_text()
        assert all(f'href="{area}.{fmt}"' in index for area in ("alpha", "beta")
                   for fmt in ("pdf", "html", "epub"))
        assert files[f"{audience}/index.html"]["format"] == "index"
    first = {p: p.read_bytes() for p in out.glob("*/*.*")}
    again = run(root, "build", "--to", "pdf,html,epub", "--force")
    assert again.returncode == 0
    assert {p: p.read_bytes() for p in out.glob("*/*.*")} == first   # byte-reproducible
    quiet = run(root, "build", "--to", "pdf,html,epub")
    assert "4 unchanged" in quiet.stdout


def test_formats_come_from_the_audience_then_the_project(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    config = root / "briefgen.yaml"
    config.write_text(config.read_text() + "formats: [html]\n")
    audience = root / "styles" / "restricted" / "audience.yaml"
    audience.write_text(audience.read_text() + "formats: [epub, pdf]\n")
    assert run(root, "build").returncode == 0
    assert sorted(p.name for p in (root / "output" / "study-group").iterdir()) == [
        "alpha.html", "beta.html", "index.html"]
    assert sorted(p.name for p in (root / "output" / "restricted").iterdir()) == [
        "alpha.epub", "alpha.pdf", "beta.epub", "beta.pdf", "index.html"]
    bad = run(root, "build", "--to", "pdf,docx")
    assert bad.returncode == 2 and "not a format: docx" in bad.stderr


def test_handling_holds_in_every_format(tmp_path):
    root = make_canary_project(tmp_path / "p")
    results = build(load_project(root), root / "output", BuildOptions(
        formats=("html", "epub"), jobs=2))
    assert {r.status for r in results} == {"built"}, [r.message for r in results]
    out = root / "output"
    for audience in ("study-group", "restricted"):
        for area in ("alpha", "beta"):
            text = (out / audience / f"{area}.html").read_text() + epub_text(
                out / audience / f"{area}.epub")
            assert [c for c in CANARIES if c in text] == [], (audience, area)
        assert [c for c in CANARIES if c in (out / audience / "index.html").read_text()] == []
    red = (out / "red" / "beta.html").read_text() + epub_text(out / "red" / "beta.epub")
    assert [c for c in SHOWN_TO_RED if c in red] == list(SHOWN_TO_RED)   # positive control
    assert "CANARY-COMMENT-9926" not in red


def test_the_html_edition_is_self_contained_and_carries_its_ledger(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    note = root / "sources" / "beta" / "10-only.md"
    shutil.copy(FIXTURE.parent / "pixel.png", note.parent / "dot.png")
    note.write_text(note.read_text() + "\n![a red dot](dot.png)\n")
    assert run(root, "build", "--to", "html,epub", "--audience", "study-group").returncode == 0
    page = (root / "output" / "study-group" / "beta.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert references and all(r.startswith(("#", "data:", "http://", "https://", "mailto:"))
                              for r in references), references
    assert 'src="data:image/png;base64,' in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
    assert [attrs for attrs, _ in scripts] == [
        ' type="application/ld+json" id="briefgen-claims-ledger"']
    ledger = json.loads(scripts[0][1])
    assert {c["id"] for c in ledger["claims"]} == {"BE-01"}
    assert "<main>" in page and 'href="#use-BE-01-1">back to the text</a>' in page
    with zipfile.ZipFile(root / "output" / "study-group" / "beta.epub") as book:
        names = book.namelist()
        assert names[0] == "mimetype" and book.getinfo("mimetype").compress_type == 0
        assert "EPUB/claims-ledger.json" in names and "EPUB/images/image-1.png" in names
        assert book.read("EPUB/images/image-1.png") == (FIXTURE.parent / "pixel.png").read_bytes()


def test_the_epub_navigation_is_the_pdfs_outline(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    assert run(root, "build", "--to", "pdf,epub", "--audience", "study-group").returncode == 0
    reader = pypdf.PdfReader(root / "output" / "study-group" / "alpha.pdf")

    def titles(outline: list) -> list[str]:
        found: list[str] = []
        for item in outline:
            if isinstance(item, list):
                found += titles(item)
            else:
                found.append(" ".join(item.title.split()))
        return found

    with zipfile.ZipFile(root / "output" / "study-group" / "alpha.epub") as book:
        nav = book.read("EPUB/nav.xhtml").decode()
    listed = [" ".join(re.sub(r"<[^>]+>", "", t).split())
              for t in re.findall(r"<li><a [^>]*>(.*?)</a>", nav)]
    import html

    assert [html.unescape(t) for t in listed] == titles(reader.outline)


@full_only  # two full builds of every format
def test_an_edition_read_from_bytes_is_its_pdf_too(tmp_path):
    """Adding editions changes no byte of the PDF."""
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    assert run(root, "build", "--audience", "study-group", "--out", "pdf-only").returncode == 0
    assert run(root, "build", "--audience", "study-group", "--to", "pdf,html,epub",
               "--out", "all").returncode == 0
    for area in ("alpha", "beta"):
        assert (root / "pdf-only" / "study-group" / f"{area}.pdf").read_bytes() == (
            root / "all" / "study-group" / f"{area}.pdf").read_bytes()
    assert pypdf.PdfReader(io.BytesIO((root / "all" / "study-group" / "alpha.pdf")
                                      .read_bytes())).pages


@full_only  # books also built by test_shards here
def test_the_book_holds_every_area_and_its_contents_agree_with_its_bookmarks(tmp_path):
    """`build --book`: one volume per audience in every format; the contents' page numbers
    are the bookmarks' pages; the index lists every claim the audience may see; the handling
    rule holds (the canary project's RED note is in the RED reader's book only)."""
    root = make_canary_project(tmp_path / "p")
    proc = run(root, "build", "--book", "--to", "pdf,html,epub")
    assert proc.returncode == 0, proc.stderr
    assert "built     study-group/book.{pdf,html,epub}" in proc.stdout
    out = root / "output"
    reader = pypdf.PdfReader(out / "study-group" / "book.pdf")
    marks: list[tuple[str, int]] = []

    def walk(outline: list, depth: int = 0) -> None:
        for item in outline:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif depth <= 1:
                marks.append((" ".join(item.title.split()),
                              reader.get_destination_page_number(item) + 1))
    walk(reader.outline)
    assert [t for t, _ in marks if t.endswith(" area")] == ["Alpha area", "Beta area"]
    contents = reader.pages[1].extract_text()
    listed = [(m[2].strip(), int(m[3])) for m in re.finditer(
        r"^(\s*)([^\n.]+?)\s*\.{3,}\s*(\d+)\s*$", contents, re.M)]
    titles = {t for t, _ in listed}
    assert listed == [(t, n) for t, n in marks if t in titles]      # same order, same pages
    assert {"Alpha area", "Beta area", "Sources and grades", "Index of claims"} <= titles
    start = dict(marks)["Index of claims"]
    index = "\n".join(p.extract_text() for p in reader.pages[start - 1:])
    project = load_project(root)
    visible = [c.id for a in project.areas for n in a.notes if n.handling == "CLEAR"
               for c in n.claims]
    assert all(claim in index for claim in visible) and "RED-01" not in index
    for audience in ("study-group", "restricted"):
        everything = (out / audience / "book.html").read_text() + epub_text(
            out / audience / "book.epub") + "\n".join(
            p.extract_text() for p in pypdf.PdfReader(out / audience / "book.pdf").pages)
        assert [c for c in CANARIES if c in everything] == [], audience
    red = (out / "red" / "book.html").read_text()
    assert "CANARY-REDBODY-8815" in red                              # positive control
    assert 'href="book.pdf"' in (out / "study-group" / "index.html").read_text()
    if EPUBCHECK.exists():
        report = epubcheck(out / "study-group" / "book.epub")
        assert "No errors or warnings detected" in report, report
    again = run(root, "build", "--book", "--to", "pdf,html,epub")
    assert again.returncode == 0 and "built" not in again.stdout     # unchanged
