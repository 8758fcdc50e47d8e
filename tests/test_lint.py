"""`briefgen check` lints: each warning fires on the mistake it names, and only then."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from briefgen.sources import load_project


def codes(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for d in load_project(root).warnings:
        found.setdefault(d.code, []).append(d.format())
    return found


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_clean_fixture_has_no_warnings(basic_project):
    assert codes(basic_project) == {}


def test_claim_without_evidence_and_never_referenced(basic_project):
    note = basic_project / "sources/beta/10-only.md"
    edit(note, "claims:\n", "claims:\n  - id: BE-02\n    text: orphan\n")
    found = codes(basic_project)
    assert any("BE-02" in m and ":4:" in m for m in found["no-evidence"])
    assert any("BE-02" in m for m in found["unreferenced-claim"])


def test_unused_reference(basic_project):
    append(basic_project / "sources/references.yaml",
           "- id: never-used\n  title: Nobody cites me\n"
           "  custom: {reliability: C, descriptor: d}\n")
    (message,) = codes(basic_project)["unused-reference"]
    assert message.startswith("sources/references.yaml:30: warning: reference 'never-used'")


def test_credibility_1_needs_two_independent_sources(basic_project):
    note = basic_project / "sources/alpha/10-facts.md"
    edit(note, "    credibility: 2\n    evidence:\n      - {ref: paper-c, stance: supports}\n"
         "      - {ref: paper-c-copy",
         "    credibility: 1\n    evidence:\n      - {ref: paper-c, stance: supports}\n"
         "      - {ref: paper-c-copy")
    (message,) = codes(basic_project)["unconfirmed-credibility-1"]
    assert "AL-03" in message and "it has 1" in message


@pytest.mark.parametrize("text, code", [
    ("It is probably true that the law is applied.", "mixed-likelihood-scale"),
    ("The law is applied.", "likelihood-not-stated"),
    ("We assess with high confidence that it is likely that the law is applied.",
     "likelihood-with-confidence"),
])
def test_estimative_language(basic_project, text, code):
    edit(basic_project / "sources/alpha/_area.md",
         'text: "It is likely that the law is applied."', f'text: "{text}"')
    found = codes(basic_project)
    assert code in found and "AL-KJ1" in found[code][0]


def test_one_scale_and_separate_confidence_is_clean(basic_project):
    edit(basic_project / "sources/alpha/_area.md",
         'text: "It is likely that the law is applied."',
         'text: "It is likely that the law is applied. Evidence is thin."')
    assert codes(basic_project) == {}


def test_missing_alt_text_and_broken_links(basic_project):
    append(basic_project / "sources/beta/10-only.md",
           "\n![](pic.png) See [the law](#ref-law-a), [nothing](#nowhere) and "
           "[a file](other.md).\n")
    found = codes(basic_project)
    assert found["missing-alt-text"][0].startswith("sources/beta/10-only.md:12:1: warning")
    broken = found["broken-link"]
    assert len(broken) == 2
    assert "#nowhere" in broken[0] and "other.md" in broken[1]


def test_handling_inconsistencies(basic_project):
    note = basic_project / "sources/beta/10-only.md"
    edit(note, "    credibility: 3\n", "    credibility: 3\n    handling: AMBER\n")
    edit(note, "Beta fact.", "Beta fact [@secret-memo].")
    (claim_msg,) = codes(basic_project)["handling-inconsistency"]
    assert "BE-01" in claim_msg and "TLP:AMBER" in claim_msg
    edit(note, "    handling: AMBER\n", "")
    (cite_msg,) = codes(basic_project)["handling-inconsistency"]
    assert "secret-memo" in cite_msg and ":10:" in cite_msg


def test_cli_strict_and_json(basic_project):
    append(basic_project / "sources/beta/10-only.md", "\n![](pic.png)\n")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "briefgen", "check", *args],
                              cwd=basic_project, capture_output=True, text=True, check=False)
    assert run().returncode == 0
    strict = run("--strict")
    assert strict.returncode == 1
    assert "sources/beta/10-only.md:12:1: warning: image without alt text [missing-alt-text]" \
        in strict.stderr
    assert "hint: describe the image" in strict.stderr
    data = json.loads(run("--format", "json").stdout)
    assert data == [{"file": "sources/beta/10-only.md", "line": 12, "column": 1,
                     "severity": "warning", "message": "image without alt text",
                     "hint": data[0]["hint"], "code": "missing-alt-text"}]
