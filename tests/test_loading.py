"""Bad input gives one located, readable error per problem: file:line: message (+ hint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefgen.errors import BriefgenError
from briefgen.sources import load_project


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


def test_python_object_tag_is_refused(basic_project):
    (basic_project / "sources/beta/20-bad.md").write_text(
        "---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\nx\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("sources/beta/20-bad.md:2: error: invalid YAML")


def test_alias_bomb_is_refused(basic_project):
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
