"""Markdown rendering: markers, citations, sanitising, headings."""

from __future__ import annotations

from briefgen.markup import find_markers, parse_citation, render


def plain(text: str) -> str:
    return render(text, claim=lambda cid: f'<a class="claim-ref" href="#claim-{cid}">{cid}</a>',
                  cite=lambda items: "[" + ";".join(f"{r}|{loc}" for r, loc in items) + "]")


def test_claim_marker_renders_trusted_html():
    html = plain("Text. [[INT-01]]")
    assert '<a class="claim-ref" href="#claim-INT-01">INT-01</a>' in html


def test_citations_with_locators_and_several_sources():
    assert parse_citation("law-a, art. 8") == [("law-a", "art. 8")]
    assert parse_citation("a; @b, p. 3") == [("a", ""), ("b", "p. 3")]
    assert parse_citation("not a citation!") is None
    assert "[law-a|art. 8]" in plain("See [@law-a, art. 8].")


def test_find_markers_reports_lines_and_columns():
    markers = find_markers("one\ntwo [[A-1]] and [@ref-x, p. 2]\n")
    assert [(m.kind, m.target, m.line, m.column) for m in markers] == [
        ("claim", "A-1", 2, 5), ("cite", "ref-x", 2, 17)]


def test_raw_html_cannot_forge_markers_classes_or_ids():
    html = plain('<span class="claim-ref is-sourced" id="claim-X">fake</span> '
                 '<a href="#claim-X" class="claim-ref">forged</a>')
    assert "class=" not in html and 'id="claim-X"' not in html


def test_scripts_event_handlers_and_javascript_links_are_removed():
    html = plain('<script>alert(1)</script><img src="x.png" onerror="alert(2)">'
                 '[click](javascript:alert(3)) <a href="javascript:alert(4)">x</a>'
                 '<style>body{display:none}</style><object data="file:///etc/passwd"></object>'
                 '<iframe src="https://example.org"></iframe>')
    for bad in ("<script", "alert(1)", "onerror", "javascript:", "<style", "display:none",
                "<object", "<iframe"):
        assert bad not in html, bad


def test_attachment_links_lose_rel():
    html = plain('<a rel="attachment" href="../../secret.txt">x</a>')
    assert "rel=" not in html


def test_jinja_syntax_in_notes_is_printed_literally():
    html = plain("{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {# c #}")
    assert "{{ 7 * 7 }}" in html and "{% for x in range(3) %}" in html and "49" not in html


def test_headings_are_demoted_below_the_note_title():
    assert "<h3>Sub</h3>" in plain("# Sub")
    assert "<h6>Deep</h6>" in plain("###### Deep")


def test_tables_render():
    html = plain("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<table>" in html and "<td>1</td>" in html
