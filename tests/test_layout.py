"""Each page laid out once (briefgen/layout.py), checked on real packs.

Each check runs in a fresh process: the changes are process-wide, and the counts must come
from a process where they were (or were not) installed from the start. A pack is rendered
with the change and without it, and the two PDFs must be the same bytes.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from conftest import full_only

from briefgen.layout import SUPPORTED, order_sensitive

# The layout changes are written against one WeasyPrint (layout.SUPPORTED) and switch
# themselves off for any other; on another version these checks have nothing to check, and
# test_other_weasyprint_versions_run_unchanged covers what happens instead.
SUPPORTED_HERE = pytest.mark.skipif(
    not importlib.metadata.version("weasyprint").startswith(SUPPORTED),
    reason=f"briefgen's layout changes apply to WeasyPrint {SUPPORTED} only")

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
REPO = Path(__file__).parent.parent

COUNT = r"""
import collections, hashlib, json, sys
from pathlib import Path
import weasyprint
import weasyprint.layout.page as page_module
root, mode, audience_name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if mode == "other-version":
    weasyprint.__version__ = "99.0"
calls = collections.Counter()
real = page_module.remake_page
def counting(index, *args):
    calls[index + 1] += 1
    return real(index, *args)
page_module.remake_page = counting
from briefgen import layout
from briefgen.loading import load_project
from briefgen.pack import assemble
from briefgen.pdf import Renderer
from briefgen.model import stylesheets_for
from briefgen.render import render_html
if mode == "in-order":
    layout.FrontMatterLast.find = classmethod(lambda cls, root, sensitive: None)
project = load_project(root)
audience = project.audiences[audience_name]
area = next(a for a in project.areas if a.slug == "alpha")
renderer = Renderer()
sheets = stylesheets_for(audience)
if mode == "wrong-guess":
    guess = renderer.front_guess[tuple(sheets)] = layout.FrontGuess()
    guess.cover, guess.exact = 2, {items: 3 for items in range(100)}
def render():
    return renderer.pdf(render_html(assemble(project, area, audience)),
                        project_root=root, stylesheets=sheets, identifier=b"0" * 16,
                        variant=audience.config.pdf_variant, tags=audience.config.pdf_tags)
first = None
if mode == "learn":
    renderer.front_guess[tuple(sheets)] = layout.FrontGuess()
    renderer.front_guess[tuple(sheets)].fits = 0    # as if the contents were long
    first, _, _ = render()
    first_calls = sum(calls.values())
    calls.clear()
data, pages, _ = render()
if first is not None:
    assert first == data
out = Path(sys.argv[4])
out.write_bytes(data)
print(json.dumps({"pages": pages, "calls": calls, "applied": layout._state["applied"],
                  "first_calls": first_calls if first is not None else None,
                  "guess": {str(k): [v.cover, v.exact] for k, v in
                            renderer.front_guess.items() if v.exact}}))
"""


def forward_pages(pdf: Path) -> set[int]:
    """Pages (1-based) holding a reference to a later page: compact caveats entries link
    forward to their evidence ("Evidence (p. 17)"), so WeasyPrint lays each such page out a
    second time once the appendix's pages are known."""
    reader = pypdf.PdfReader(pdf)
    return {n for n, page in enumerate(reader.pages, 1) if "Evidence (p." in page.extract_text()}


def once_each_but_forward(pdf: Path, pages: int) -> list[int]:
    """Layouts per page, sorted: 1 for every page and 2 for each page with a forward
    reference (the counts are keyed by WeasyPrint's layout order, not the printed order)."""
    forward = forward_pages(pdf)
    assert forward, "the compact caveats' forward links were not found"
    return sorted([1] * (pages - len(forward)) + [2] * len(forward))


def count(root: Path, mode: str, audience: str, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", COUNT, str(root), mode, audience, str(out)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    result["layouts"] = {int(page): n for page, n in result["calls"].items()}
    result["pdf"] = out.read_bytes()
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The fixture with the shipped large-print audience too (tagged PDF/UA, other page)."""
    root = tmp_path_factory.mktemp("layout") / "p"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "briefgen" / "audiences" / "large-print", root / "styles" /
                    "large-print")
    return root


@SUPPORTED_HERE
@pytest.mark.parametrize("audience", ["study-group", pytest.param("large-print", marks=full_only)])
def test_every_page_is_laid_out_once_and_the_pdf_is_unchanged(project, tmp_path, audience):
    once = count(project, "supported", audience, tmp_path / "once.pdf")
    assert once["applied"] is True
    # Every page once, but a page with a forward reference (compact caveats) twice.
    assert sorted(once["layouts"].values()) == once_each_but_forward(tmp_path / "once.pdf",
                                                                      once["pages"])
    in_order = count(project, "in-order", audience, tmp_path / "in-order.pdf")
    assert in_order["layouts"][2] == 2    # without the move, the contents are laid out twice
    assert once["pdf"] == in_order["pdf"]
    # The pages are in reading order, numbered as they stand, and the contents are right.
    reader = pypdf.PdfReader(tmp_path / "once.pdf")
    texts = [page.extract_text() for page in reader.pages]
    total = len(texts)
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {total}" in text
    assert "Contents" in texts[1].splitlines()[:3] or "Contents" in texts[1][:200]
    assert [o.title for o in reader.outline if not isinstance(o, list)][:2] == [
        "Contents", "Revision history"]


@SUPPORTED_HERE
def test_a_wrong_guess_is_measured_and_laid_out_again(project, tmp_path):
    """The guess (2 cover pages, 3 of contents) is wrong: the pack is laid out again with what
    was measured (each pass as a right guess would), so only the time differs, never the PDF."""
    wrong = count(project, "wrong-guess", "study-group", tmp_path / "wrong.pdf")
    ((cover, exact),) = wrong["guess"].values()
    assert cover == 1 and 1 in exact.values()
    assert sum(wrong["layouts"].values()) == 2 * sum(
        once_each_but_forward(tmp_path / "wrong.pdf", wrong["pages"]))
    in_order = count(project, "in-order", "study-group", tmp_path / "in-order.pdf")
    assert wrong["pdf"] == in_order["pdf"]


@SUPPORTED_HERE
def test_an_unknown_contents_length_is_laid_out_in_order_and_learnt(project, tmp_path):
    """A contents longer than can be guessed is laid out in document order, and what it took
    is measured: the next pack of the audience with as many entries is laid out once."""
    learnt = count(project, "learn", "study-group", tmp_path / "learnt.pdf")
    expected = once_each_but_forward(tmp_path / "learnt.pdf", learnt["pages"])
    assert sorted(learnt["layouts"].values()) == expected
    # The first pack, laid out in order, took the contents twice.
    assert learnt["first_calls"] == sum(expected) + 1


@SUPPORTED_HERE
def test_a_stylesheet_that_could_depend_on_order_keeps_the_document_order(project, tmp_path):
    style = project / "styles" / "study-group" / "style.css"
    assert not style.exists()
    style.write_text("@page :left { margin-left: 30mm; }\n")
    try:
        result = count(project, "supported", "study-group", tmp_path / "left.pdf")
    finally:
        style.unlink()
    assert result["layouts"][2] == 2      # WeasyPrint's own order: contents laid out again
    assert result["guess"] == {}


@pytest.mark.parametrize(("css", "sensitive"), [
    ("@page :left { margin: 1cm }", True),
    ("@page chapter:nth(1) { margin: 1cm }", True),
    ("@page :blank { margin: 1cm }", True),
    (".x { counter-increment: claim }", True),
    (".x { page: wide }", True),
    ("h3 { string-set: sub content() }", True),
    (".x { position: running(head) }", True),
    (".x { float: footnote }", True),
    (".x { break-before: right }", True),
    (".x { page-break-after: left }", True),
    ("@page { size: A4; margin: 2cm } .a { text-align: left } li:nth-child(2) { color: red }",
     False),
    ("/* the cover must hold on one page: keep it short */ p { margin: 0 }", False),
    (".x { break-before: page; page-break-inside: avoid }", False),
])
def test_order_sensitive_css(css, sensitive):
    assert order_sensitive(css) is sensitive


def test_other_weasyprint_versions_run_unchanged(project, tmp_path):
    result = count(project, "other-version", "study-group", tmp_path / "other.pdf")
    assert result["applied"] is False
    assert result["guess"] == {}
    assert max(result["layouts"].values()) > 1   # WeasyPrint's own passes, as before


IMPORT = r"""
import ctypes.util, json, sys
import cffi.api
searched = []
real_search = ctypes.util.find_library
def counting(name):
    searched.append(name)
    return real_search(name)
ctypes.util.find_library = counting
if sys.argv[1] == "sonames-fail":
    # A system whose libraries load only through the search: the quick import must fail
    # and the search-backed import must then succeed, with nothing printed.
    real_load = cffi.api._load_backend_lib
    def load(backend, name, flags):
        if ctypes.util.find_library is not counting and ".so" in str(name):
            raise OSError("simulated: not loadable by soname")
        return real_load(backend, name, flags)
    cffi.api._load_backend_lib = load
from briefgen.pdf import import_weasyprint
weasyprint = import_weasyprint()
print(json.dumps({"version": weasyprint.__version__, "searched": len(searched),
                  "restored": ctypes.util.find_library is counting}))
"""


@pytest.mark.parametrize("case", ["linux", "sonames-fail"])
def test_weasyprint_is_imported_without_the_library_search(case):
    if not sys.platform.startswith("linux"):
        pytest.skip("the quick import applies to Linux only")
    proc = subprocess.run([sys.executable, "-c", IMPORT, case], check=False,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)   # stdout is only the JSON: no WeasyPrint message
    assert result["version"] and result["restored"] is True
    if case == "linux":
        assert result["searched"] == 0
    else:
        assert result["searched"] > 0   # the fallback searched, and found the libraries


def test_front_matter_guesses_only_what_is_likely_right():
    from briefgen.layout import DEFAULT_FIT, FrontGuess

    guess = FrontGuess()
    assert guess.pages(DEFAULT_FIT) == (1, 1)
    assert guess.pages(DEFAULT_FIT + 1) is None        # unknown: laid out in document order
    guess.learn(20, 1, 1)                               # 20 entries were seen to fit a page
    assert guess.pages(20) == (1, 1) and guess.pages(18) == (1, 1)
    guess.learn(30, 2, 2)                               # 30 took two pages, the cover two
    assert guess.pages(30) == (2, 2)
    assert guess.pages(25) is None and guess.pages(40) is None
    assert guess.pages(10) == (2, 1)
    guess.learn(18, 2, 2)                               # a narrower measure than thought
    assert guess.pages(19) is None and guess.pages(17) == (2, 1)
