"""`briefgen new` and `init`'s editor schemas, end to end through the command line: each
skeleton leaves the project passing `check`, builds into a real PDF, and validates against
the schema its modeline names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pypdf
import pytest
import yaml

from briefgen.commands import main


def cli(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    assert main(["init", str(root), "--audience", "study-group", "-q"]) == 0
    return root


def test_each_skeleton_passes_check_and_builds(project, capsys):
    assert cli(project, "new", "area", "policing", "--title", "Community policing") == 0
    assert cli(project, "new", "note", "policing", "Patrol and response") == 0
    note = project / "sources/policing/10-patrol-and-response.md"
    assert cli(project, "new", "claim", "policing/10-patrol-and-response") == 0
    assert cli(project, "new", "claim", "sources/policing/10-patrol-and-response.md") == 0
    assert cli(project, "new", "ref", "police-yearbook-2024") == 0
    assert cli(project, "new", "audience", "trainees", "--extends", "study-group") == 0
    out = capsys.readouterr().out
    assert "wrote sources/policing/_area.md" in out
    assert "added claim POL-01" in out and "added claim POL-02" in out
    meta = yaml.safe_load(note.read_text().split("---")[1])
    assert [c["id"] for c in meta["claims"]] == ["POL-01", "POL-02"]
    # The author fills the skeleton in: marks the claims and cites the new reference.
    note.write_text(note.read_text().replace(
        "TODO: the note's text.",
        "Patrols answer calls [@police-yearbook-2024, p. 3]. [[POL-01]] [[POL-02]]"))
    assert cli(project, "check") == 0
    warnings = capsys.readouterr().err
    assert "ungraded-source" in warnings and "no-evidence" in warnings
    assert cli(project, "build", "-q", "--area", "policing", "--audience", "trainees") == 0
    pdf = project / "output/trainees/policing.pdf"
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert "Community policing" in text and "Patrol and response" in text
    assert "POL-01" in text and "POL-02" in text


def test_the_next_free_id_follows_the_area_and_the_project(project, capsys):
    # The skeleton's example note holds EX-01 and EX-02: the next is EX-03, then EX-04.
    assert cli(project, "new", "claim", "example/10-first-note") == 0
    assert cli(project, "new", "claim", "example/10-first-note") == 0
    assert cli(project, "new", "note", "example", "Second note") == 0
    assert cli(project, "new", "claim", "example/20-second-note") == 0
    out = capsys.readouterr().out
    assert re.findall(r"added claim (\S+)", out) == ["EX-03", "EX-04", "EX-05"]
    first = (project / "sources/example/10-first-note.md").read_text()
    # The user's own lines and comments are kept as they were.
    assert "rationale: \"Stated in the office's own annual report.\"" in first
    assert cli(project, "check") == 0


@pytest.mark.parametrize("args, where, words", [
    (["new", "area", "Bad Name"], "sources/Bad Name/", "cannot be an area's folder name"),
    (["new", "area", "example"], "sources/example/", "already exists"),
    (["new", "note", "exampel", "A note"], "sources/exampel/", "did you mean 'example'?"),
    (["new", "note", "example", "A first note"], "sources/example/20-a-first-note.md", None),
    (["new", "claim", "example/10-frist-note"], "sources/example/10-frist-note.md",
     "did you mean 'example/10-first-note'?"),
    (["new", "ref", "example-report"], "sources/references.yaml", "already exists"),
    (["new", "ref", "no spaces"], "sources/references.yaml", "cannot be a reference id"),
    (["new", "audience", "trainees", "--extends", "anlyst"], "styles/trainees/audience.yaml",
     "did you mean 'analyst'?"),
    (["new", "audience", "study-group"], "styles/study-group/", "already exists"),
])
def test_mistakes_are_located_and_write_nothing(project, capsys, args, where, words):
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    code = cli(project, *args)
    err = capsys.readouterr().err
    if words is None:           # not a mistake: a second note gets the next number
        assert code == 0
        return
    assert code == 1, err
    assert err.startswith(where) and ": error: " in err.splitlines()[0], err
    assert words in err and "Traceback" not in err
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_a_one_line_claims_list_is_refused_not_rewritten(project, capsys):
    note = project / "sources/example/10-first-note.md"
    text = note.read_text()
    start, end = text.index("claims:"), text.index("\n---\n", 3)
    odd = text[:start] + 'claims: [{id: EX-01, text: "x"}]' + text[end:]
    note.write_text(odd)
    assert cli(project, "new", "claim", "example/10-first-note") == 1
    err = capsys.readouterr().err
    assert "sources/example/10-first-note.md:5: error: 'claims:' is written on one line" in err
    assert note.read_text() == odd


def test_init_points_each_yaml_file_at_its_schema_and_the_files_validate(project, capsys):
    assert cli(project, "new", "audience", "trainees", "--extends", "study-group") == 0
    assert cli(project, "new", "ref", "police-yearbook-2024") == 0
    files = {"briefgen.yaml": "briefgen", "sources/references.yaml": "references",
             "styles/study-group/audience.yaml": "audience",
             "styles/trainees/audience.yaml": "audience"}
    for name, schema in files.items():
        path = project / name
        first = path.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, (name, first)
        target = (path.parent / match.group(1)).resolve()
        assert target == (project / "schemas" / f"{schema}.schema.json").resolve()
        validator = jsonschema.Draft202012Validator(json.loads(target.read_text()))
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        errors = [e.message for e in validator.iter_errors(data)]   # dates as editors see them
        assert errors == [], name
    assert cli(project, "check") == 0


def test_nothing_is_written_through_a_link_out_of_the_project(project, tmp_path, capsys):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project / "sources" / "linked").symlink_to(outside, target_is_directory=True)
    (outside / "_area.md").write_text("---\ntitle: Linked\n---\n")
    assert cli(project, "new", "note", "linked", "A note") == 1
    err = capsys.readouterr().err
    assert "is inside a folder that is a symbolic link (linked)" in err
    assert list(outside.iterdir()) == [outside / "_area.md"]


def test_ids_are_counted_from_the_projects_own_files_only(project, tmp_path, capsys):
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: x\nclaims:\n  - id: EX-99\n    text: t\n---\n")
    (project / "sources" / "example" / "90-linked.md").symlink_to(outside)
    assert cli(project, "new", "claim", "example/10-first-note") == 0
    assert "added claim EX-03" in capsys.readouterr().out
