"""Bad input gives one located, readable error per problem: file:line: message (+ hint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefgen.errors import BriefgenError
from briefgen.loading import load_project
from briefgen.yamlio import LocDict, LocList


def problems(root: Path) -> list[str]:
    with pytest.raises(BriefgenError) as info:
        load_project(root)
    return [d.format() for d in info.value.diagnostics]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_fixture_loads_cleanly(basic_project):
    project = load_project(basic_project)
    assert [a.slug for a in project.areas] == ["alpha", "beta"]
    assert len(project.claims) == 9
    assert not [w for w in project.warnings if w.severity == "error"]


def test_wrong_type_names_file_line_and_key(basic_project):
    note = basic_project / "sources/alpha/10-facts.md"
    edit(note, "    credibility: 1\n", "    credibility: seven\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/alpha/10-facts.md:12: error: claims[1].credibility")


def test_unknown_key_lists_allowed_keys(basic_project):
    note = basic_project / "sources/alpha/10-facts.md"
    edit(note, "    credibility: 2\n", "    credibility: 2\n    verdict: true\n")
    (msg,) = problems(basic_project)
    assert "sources/alpha/10-facts.md:8: error: unknown key 'claims[0].verdict'" in msg
    assert "allowed keys here:" in msg and "credibility" in msg


def test_missing_required_key(basic_project):
    edit(basic_project / "briefgen.yaml", 'issuer: "Test Unit"\n', "")
    (msg,) = problems(basic_project)
    assert msg.startswith("briefgen.yaml:1: error: missing required key 'issuer'")


def test_invalid_yaml_points_at_the_line(basic_project):
    edit(basic_project / "sources/references.yaml", "  type: report\n", "  type: [report\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/references.yaml:")
    assert "invalid YAML" in msg


@pytest.mark.parametrize(("old", "new", "hint"), [
    ('text: "BETA-CLAIM beta fact."', 'text: "The "BETA" claim."', 'write \\" for a quotation'),
    ('text: "BETA-CLAIM beta fact."', "text: 'The ministry's claim.'", "write '' (two)"),
])
def test_a_quotation_mark_inside_quoted_yaml_text_gets_its_own_hint(basic_project, old, new,
                                                                    hint):
    """The commonest broken line in a note: a quotation mark inside a quoted text."""
    edit(basic_project / "sources/beta/10-only.md", old, new)
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/10-only.md:5: error: invalid YAML")
    assert hint in msg


def test_unknown_claim_marker_is_located(basic_project):
    note = basic_project / "sources/alpha/20-doubts.md"
    edit(note, "[[AL-06]]", "[[AL-99]]")
    msgs = problems(basic_project)
    assert any(m.startswith("sources/alpha/20-doubts.md:31:48: error: unknown claim 'AL-99'")
               for m in msgs), msgs


def test_marker_to_another_areas_claim_is_refused(basic_project):
    edit(basic_project / "sources/beta/10-only.md", "[[BE-01]]", "[[BE-01]] [[AL-01]]")
    msgs = problems(basic_project)
    assert any("unknown claim 'AL-01'" in m and "another area" in m for m in msgs)


def test_unknown_citation_and_evidence_reference(basic_project):
    edit(basic_project / "sources/beta/10-only.md", "Beta fact.", "Beta fact [@nowhere].")
    edit(basic_project / "sources/beta/10-only.md", "ref: report-b", "ref: ghost")
    msgs = problems(basic_project)
    assert any("sources/beta/10-only.md:10:11: error: unknown reference 'nowhere'" in m
               for m in msgs), msgs
    assert any("sources/beta/10-only.md:4: error: claim 'BE-01': unknown reference 'ghost'"
               in m for m in msgs), msgs


def test_duplicate_claim_id_across_areas(basic_project):
    edit(basic_project / "sources/beta/10-only.md", "id: BE-01", "id: AL-01")
    edit(basic_project / "sources/beta/10-only.md", "[[BE-01]]", "[[AL-01]]")
    msgs = problems(basic_project)
    assert any("duplicate claim id 'AL-01'" in m and "10-facts.md" in m for m in msgs)


def test_duplicate_reference_id_and_duplicate_yaml_key(basic_project):
    refs = basic_project / "sources/references.yaml"
    refs.write_text(refs.read_text() + "- id: law-a\n  title: again\n"
                    "  custom: {reliability: A, descriptor: d}\n")
    msgs = problems(basic_project)
    assert any("duplicate reference id 'law-a'" in m for m in msgs)
    edit(basic_project / "briefgen.yaml", "lang: en\n", "lang: en\nlang: fr\n")
    assert any("duplicate key 'lang'" in m and m.startswith("briefgen.yaml:6")
               for m in problems(basic_project))


def test_every_problem_is_reported_not_just_the_first(basic_project):
    edit(basic_project / "sources/beta/10-only.md", "credibility: 3", "credibility: 0")
    edit(basic_project / "sources/alpha/_area.md", "order: 1", "order: first")
    msgs = problems(basic_project)
    assert len(msgs) == 2


def test_invalid_utf8_is_located(basic_project):
    note = basic_project / "sources/beta/10-only.md"
    note.write_bytes(note.read_bytes().replace(b"Beta fact.", b"Beta \xff fact."))
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/10-only.md:10: error: not valid UTF-8")


@pytest.mark.parametrize("content, expected", [
    ("", "file is empty"),
    ("no front matter here\n", "missing front matter"),
    ("---\ntitle: x\n", "front matter is not closed"),
    ("---\n- a list\n---\nbody\n", "front matter must be a YAML mapping"),
])
def test_malformed_notes(basic_project, content, expected):
    (basic_project / "sources/beta/20-bad.md").write_text(content)
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/20-bad.md:") and expected in msg


def test_python_object_tag_is_refused(basic_project, yaml_parser):
    (basic_project / "sources/beta/20-bad.md").write_text(
        "---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\nx\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/20-bad.md:2: error: invalid YAML")


def test_alias_bomb_is_refused(basic_project, yaml_parser):
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["title: bomb", "---", "x"]
    (basic_project / "sources/beta/20-bad.md").write_text("\n".join(lines) + "\n")
    (msg,) = problems(basic_project)
    assert "aliases" in msg


def test_oversized_file_is_refused(basic_project):
    (basic_project / "sources/beta/20-big.md").write_text(
        "---\ntitle: big\n---\n" + "word " * 600_000)
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/20-big.md: error: file is 3.0 MB")


def test_warnings_for_unreferenced_claim(basic_project):
    edit(basic_project / "sources/beta/10-only.md", "Beta fact. [[BE-01]]", "Beta fact.")
    project = load_project(basic_project)
    assert any(w.code == "unreferenced-claim" and "BE-01" in w.message
               for w in project.warnings)


def _with_lines(value):
    """A loaded YAML value with the line of every mapping key and list item, for comparison."""
    if isinstance(value, LocDict):
        return ("map", value.line, [(k, value.key_lines[k], _with_lines(v))
                                    for k, v in value.items()])
    if isinstance(value, LocList):
        return ("seq", value.line, value.item_lines, [_with_lines(v) for v in value])
    return value


def _yaml_texts():
    repo = Path(__file__).resolve().parent.parent
    for path in sorted({*repo.glob("sources/**/*"), *repo.glob("styles/**/*.yaml"),
                        repo / "briefgen.yaml", *repo.glob("tests/fixtures/**/*"),
                        *repo.glob("briefgen/audiences/**/*.yaml"),
                        *repo.glob("briefgen/skeleton/**/*")}):
        if path.suffix in {".yaml", ".md"} and path.is_file():
            yield path.relative_to(repo).as_posix(), path.read_text(encoding="utf-8")


def test_libyaml_and_python_parsers_read_every_project_file_alike():
    """libyaml (fast) and PyYAML's Python parser (fallback) give the same values and the same
    line numbers for every YAML file and front matter block in the repository."""
    from briefgen import yamlio

    if not yamlio.USE_LIBYAML:
        pytest.skip("this PyYAML has no libyaml >= 0.2.6")
    compared = 0
    for display, whole in _yaml_texts():
        text, offset = whole, 0
        if display.endswith(".md"):
            if not whole.startswith("---"):
                continue
            text, offset = whole[4:whole.index("\n---", 3) + 1], 1
        fast = yamlio.load_yaml(text, display, offset)
        slow = yamlio.load_yaml(text, display, offset, pure_python=True)
        assert _with_lines(fast) == _with_lines(slow), display
        compared += 1
    assert compared >= 40


def test_alias_count_cap(basic_project, yaml_parser):
    lines = ["---", "a: &a x"] + [f"k{i}: *a" for i in range(70)] + ["title: t", "---", "x"]
    (basic_project / "sources/beta/20-bad.md").write_text("\n".join(lines) + "\n")
    (msg,) = problems(basic_project)
    assert "more than 64 aliases" in msg and msg.startswith("sources/beta/20-bad.md:")


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000,
                                  "".join("  " * i + "k:\n" for i in range(1100)) + "  " * 1100
                                  + "v"])
def test_deep_nesting_is_a_located_error(basic_project, yaml_parser, text):
    (basic_project / "sources/beta/20-bad.md").write_text(f"---\ntitle: t\nx: {text}\n---\nx\n"
                                                          if text.startswith("[") else
                                                          f"---\ntitle: t\n{text}\n---\nx\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/20-bad.md:"), msg
    assert "nest" in msg and "hint:" in msg, msg


def test_journal_references_carry_volume_issue_pages_and_doi(basic_project):
    from briefgen.render import reference_entry

    edit(basic_project / "sources/references.yaml", '  title: "Report Bravo"\n',
         '  title: "Report Bravo"\n  container-title: "Journal of Audits"\n  volume: 12\n'
         '  issue: "3"\n  page: "45-67"\n  DOI: "10.1234/audit.2021.003"\n')
    project = load_project(basic_project)
    entry = str(reference_entry(project.references["report-b"]))
    assert "Journal of Audits, vol. 12, no. 3, pp. 45-67, 2021." in entry
    assert "doi:10.1234/audit.2021.003" in entry
    edit(basic_project / "sources/references.yaml", '"10.1234/audit.2021.003"', '"audit-3"')
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/references.yaml:") and "'audit-3' is not a DOI" in msg
    assert "like 10.1234/abc.2021.3" in msg


def test_original_title_prints_beside_the_title_in_its_own_language(basic_project):
    """CSL's original-title keeps a title as published: the bibliography prints it beside the
    title, marked with the source's language (so its font and line breaking follow it), and
    it travels in the embedded files too."""
    from briefgen import provenance
    from briefgen.pack import assemble
    from briefgen.render import render_html

    edit(basic_project / "sources/references.yaml", '  title: "Report Bravo"\n',
         '  title: "Report Bravo"\n  original-title: "审计报告"\n  language: zh\n')
    project = load_project(basic_project)
    area = next(a for a in project.areas if a.slug == "beta")
    pack = assemble(project, area, project.audiences["study-group"])
    assert pack is not None
    html = render_html(pack)
    assert ('<cite>Report Bravo</cite> <span class="original-title" lang="zh">(审计报告)'
            '</span>.') in html
    assert "In Chinese." in html
    embedded = b"".join(a.data for a in provenance.attachments(pack))
    assert "审计报告".encode() in embedded


@pytest.mark.parametrize(("written", "parts"), [
    ("2020-01-02", [2020, 1, 2]),  # YAML reads this as a date
    ("2020-01", [2020, 1]),  # ... this as a string
    ("2020", [2020]),  # ... and this as an int
    ('"2020-1-2"', [2020, 1, 2]),
])
def test_csl_date_strings_become_date_parts(basic_project, written, parts):
    refs = basic_project / "sources/references.yaml"
    edit(refs, "  issued: {date-parts: [[2020, 1, 2]]}\n", f"  issued: {written}\n")
    project = load_project(basic_project)
    issued = [r for r in project.references.values() if r.issued and r.issued.date_parts
              and r.issued.date_parts[0][0] == 2020]
    assert [r.issued.date_parts for r in issued] == [[parts]]


@pytest.mark.parametrize("written", ["2020-13", "2020-02-30", "yesterday", "[2020]", "true"])
def test_malformed_csl_date_is_located_with_a_true_hint(basic_project, written):
    refs = basic_project / "sources/references.yaml"
    edit(refs, "  issued: {date-parts: [[2020, 1, 2]]}\n", f"  issued: {written}\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/references.yaml:5: error: ")
    assert "YYYY-MM-DD" in msg
    assert "valid dictionary" not in msg and "key: value" not in msg


def test_one_kind_of_problem_is_listed_fifty_times_then_counted():
    from briefgen.errors import SAME_KIND_LIMIT, Collector

    inner = Collector()
    for n in range(SAME_KIND_LIMIT + 70):
        inner.add("sources/a/x.md", f"unknown claim 'X{n}'", line=n + 1, code="unknown-claim")
    inner.add("sources/a/x.md", "other", line=1, code="other")        # another kind: listed
    inner.add("sources/a/y.md", "elsewhere", line=1, code="unknown-claim")  # another file
    assert len(inner.diagnostics) == SAME_KIND_LIMIT + 3
    closing = inner.diagnostics[SAME_KIND_LIMIT]
    assert closing.more == 70 and "and 70 more like the above" in closing.message
    # Passed on to another collector (as the loader does) the count stays true, not "1 more".
    outer = Collector()
    outer.add("sources/a/x.md", "one more", line=999, code="unknown-claim")
    outer.push_all(inner.diagnostics)
    counted = sum(d.more or 1 for d in outer.diagnostics if d.code == "unknown-claim"
                  and d.location.file == "sources/a/x.md")
    assert counted == SAME_KIND_LIMIT + 71
