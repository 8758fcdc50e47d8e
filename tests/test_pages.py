"""The page checker (benchmarks/pages.py, #23) on small PDFs made here with WeasyPrint, one
fault planted in each and one clean; and on built sample packs (two here, all 20 in CI)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import FULL
from weasyprint import HTML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import pages  # noqa: E402

PARA = "<p>" + "Body text that fills the line and goes on for a while. " * 6 + "</p>"
STYLE = ("<style>@page { size: A5; margin: 20mm } body { font: 11pt serif }"
         " h1 { break-before: page; bookmark-level: 1 } h2 { bookmark-level: 2 }</style>")


def _pdf(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.pdf"
    HTML(string=f"<html><head>{STYLE}</head><body>{body}</body></html>").write_pdf(path)
    return path


def _full_page() -> str:
    return PARA * 6


def _clean() -> str:
    return ("<p>Cover</p><h1>One</h1>" + _full_page() + "<h2>Part</h2>" + PARA * 2
            + "<h1>Two</h1>" + _full_page() + "<h1>End</h1>" + PARA)


def kinds(path: Path) -> list[str]:
    return [f.kind for f in pages.check(path)]


def test_a_clean_pdf_has_no_fault(tmp_path):
    assert kinds(_pdf(tmp_path, "clean", _clean())) == []


def test_a_heading_alone_at_the_foot_is_found(tmp_path):
    body = ("<p>Cover</p><h1>One</h1>" + PARA * 3 + "<h2 style='break-after: auto'>Stranded</h2>"
            "<div style='break-inside: avoid'>" + PARA * 3 + "</div><h1>End</h1>" + PARA)
    faults = pages.check(_pdf(tmp_path, "stranded", body))
    assert [(f.kind, f.page) for f in faults] == [("stranded-heading", 2)]


def test_a_half_empty_page_inside_a_section_is_found(tmp_path):
    body = ("<p>Cover</p><h1>One</h1>" + PARA + "<div style='break-before: page'>"
            + _full_page() + "</div><h1>End</h1>" + _full_page())
    assert kinds(_pdf(tmp_path, "half", body)) == ["half-empty"]


def test_footnote_calls_run_together_are_found(tmp_path):
    calls = "".join(f"<sup style='font-size: 6pt'>{n}</sup>" for n in (8, 9, 10))
    body = _clean().replace("<h2>Part</h2>", f"<h2>Part</h2><p>A call{calls} here.</p>")
    assert kinds(_pdf(tmp_path, "calls", body)) == ["footnote-calls"]
    apart = calls.replace("</sup><sup", "</sup>, <sup")
    body = _clean().replace("<h2>Part</h2>", f"<h2>Part</h2><p>A call{apart} here.</p>")
    assert kinds(_pdf(tmp_path, "apart", body)) == []


def test_text_outside_the_page_is_found(tmp_path):
    out = "<p style='margin-left: 150mm; white-space: nowrap'>Beyond the edge of the page</p>"
    body = _clean().replace("<h2>Part</h2>", "<h2>Part</h2>" + out)
    assert kinds(_pdf(tmp_path, "outside", body)) == ["outside-page"]


def test_a_line_past_its_column_is_found(tmp_path):
    # A box 10 mm wider than the column (an unbreakable token, a wide table): its last words
    # end in the right margin, inside the page.
    wide = ("<p style='width: 118mm; text-align: right; hyphens: manual'>"
            "https://example.org/a/very/long/address/that/cannot/break</p>")
    body = _clean().replace("<h2>Part</h2>", "<h2>Part</h2>" + wide)
    faults = pages.check(_pdf(tmp_path, "overflow", body))
    assert [f.kind for f in faults] == ["overflow"]
    assert "cannot/break" in faults[0].detail and "past the column" in faults[0].detail
    narrow = wide.replace("118mm", "100mm")
    body = _clean().replace("<h2>Part</h2>", "<h2>Part</h2>" + narrow)
    assert kinds(_pdf(tmp_path, "inside", body)) == []


@pytest.fixture(scope="module")
def sample_pdfs(tmp_path_factory) -> list[Path]:
    from briefgen.build import BuildOptions, build
    from briefgen.loading import load_project

    out = tmp_path_factory.mktemp("pages")
    project = load_project(ROOT)
    if FULL:
        build(project, out, BuildOptions(jobs=2))
    else:   # the largest type and the plainest: large-print had the faults
        build(project, out, BuildOptions(jobs=2, areas=["cyber"],
                                          audiences=["large-print", "study-group"]))
    return sorted(out.rglob("*.pdf"))


def test_the_sample_packs_have_no_page_fault(sample_pdfs):
    from briefgen.loading import load_project

    project = load_project(ROOT)
    assert len(sample_pdfs) == (len(project.areas) * len(project.audiences) if FULL else 2)
    faults = [str(f) for p in sample_pdfs for f in pages.check(p)]
    assert faults == []


def test_the_study_group_caveats_take_at_most_a_third_of_each_pack(sample_pdfs):
    """Compact caveats (#23): a study group reads status and reason at a glance; the evidence
    is in the appendix. benchmarks/caveats.py measures it from the PDF's outline."""
    from benchmarks.caveats import measure

    measured = [m for p in sample_pdfs if p.parent.name.startswith("study-group")
                and (m := measure(p)) is not None]
    assert measured
    assert [(m.file, m.pages, m.total) for m in measured if 3 * m.pages > m.total] == []
    assert all(m.claims > 0 and m.lines for m in measured)
