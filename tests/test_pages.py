"""The page checker (benchmarks/pages.py, issue #23) on small PDFs rendered here with WeasyPrint:
one with no fault, and one per fault kind with exactly that fault planted."""

from __future__ import annotations

from pathlib import Path

import pytest
import weasyprint

from benchmarks.pages import check_pdf

CSS = """
@page { size: 120mm 160mm; margin: 15mm 12mm 15mm 12mm;
        @bottom-center { content: counter(page); font-size: 7pt; } }
body { font: 10pt/1.4 serif; margin: 0; }
h1 { font-size: 16pt; break-before: page; margin: 0 0 4mm 0; }
h1:first-child { break-before: auto; }
h2 { font-size: 13pt; margin: 3mm 0 2mm 0; }
p { margin: 0 0 2mm 0; }
"""
PARA = ("The ministry's remit covers border control and entry administration; the record is "
        "consistent across the sources read for this note, and nothing contradicts it. ")


def _section(title: str, paras: int) -> str:
    return f"<h1>{title}</h1>" + "".join(f"<p>{PARA * 2}</p>" for _ in range(paras))


def _render(tmp_path: Path, body: str, name: str = "x.pdf") -> Path:
    out = tmp_path / name
    weasyprint.HTML(string=f"<html><body>{body}</body></html>").write_pdf(
        out, stylesheets=[weasyprint.CSS(string=CSS)])
    return out


CLEAN = _section("One", 9) + _section("Two", 9) + _section("Three", 4)


def _kinds(path: Path) -> list[str]:
    return [f.kind for f in check_pdf(path, right_margin_pt=12 / 25.4 * 72)]


def test_clean_pack_has_no_faults(tmp_path: Path) -> None:
    assert check_pdf(_render(tmp_path, CLEAN), right_margin_pt=12 / 25.4 * 72) == []


def test_stranded_heading(tmp_path: Path) -> None:
    # A heading pushed to the foot of a full page, its text forced onto the next page.
    body = (_section("One", 9) + "<h2 style='break-after: page'>Stranded</h2>"
            + "".join(f"<p>{PARA * 2}</p>" for _ in range(9)) + _section("Two", 3))
    faults = check_pdf(_render(tmp_path, body), right_margin_pt=12 / 25.4 * 72)
    assert [f.kind for f in faults] == ["stranded-heading"], faults
    assert "Stranded" in faults[0].detail


def test_half_empty_page(tmp_path: Path) -> None:
    body = (_section("One", 4) + f"<p style='break-after: page'>{PARA}</p>"
            + "".join(f"<p>{PARA * 2}</p>" for _ in range(9)) + _section("Two", 3))
    faults = check_pdf(_render(tmp_path, body), right_margin_pt=12 / 25.4 * 72)
    assert [f.kind for f in faults] == ["half-empty"], faults


def test_footnote_calls_run_together(tmp_path: Path) -> None:
    calls = "<sup style='font-size:6pt'>8</sup><sup style='font-size:6pt'>9</sup>" \
            "<sup style='font-size:6pt'>10</sup>"
    body = CLEAN.replace("<p>", f"<p>Claimed{calls} ", 1)
    faults = check_pdf(_render(tmp_path, body), right_margin_pt=12 / 25.4 * 72)
    assert [f.kind for f in faults] == ["footnote-calls"], faults
    assert "8910" in faults[0].detail


def test_separated_footnote_calls_pass(tmp_path: Path) -> None:
    calls = "<sup style='font-size:6pt'>8, 9, 10</sup>"
    body = CLEAN.replace("<p>", f"<p>Claimed{calls} ", 1)
    assert _kinds(_render(tmp_path, body)) == []


def test_text_outside_page(tmp_path: Path) -> None:
    body = CLEAN.replace("<p>", "<p><span style='position: relative; left: -30mm'>Out</span> ", 1)
    faults = check_pdf(_render(tmp_path, body), right_margin_pt=12 / 25.4 * 72)
    assert [f.kind for f in faults] == ["outside-page"], faults


def test_line_overflows_column(tmp_path: Path) -> None:
    # A paragraph wider than its column (still inside the page): its lines run into the margin.
    body = CLEAN.replace("<p>", "<p style='margin-right: -8mm; text-align: justify'>", 1)
    faults = check_pdf(_render(tmp_path, body), right_margin_pt=12 / 25.4 * 72)
    assert faults and {f.kind for f in faults} == {"overflow"}, faults
    assert {f.page for f in faults} == {1}


@pytest.mark.parametrize("name", ["clean"])
def test_cli_exit_status(tmp_path: Path, name: str) -> None:
    from benchmarks.pages import main
    _render(tmp_path, CLEAN)
    assert main([str(tmp_path), "--right-margin-pt", str(12 / 25.4 * 72)]) == 0
