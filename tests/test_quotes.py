"""Quotes: the origin's words under each claim, verified against a local copy of the source."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from briefgen.errors import BriefgenError
from briefgen.ledger import claim_review, export, export_audience
from briefgen.loading import load_project
from briefgen.pack import assemble
from briefgen.quotes import found, normalise
from briefgen.render import render_html

REFS = "sources/references.yaml"
COPY = "Blog Foxtrot says:\nregistration   is optional, and nobody\never breaks the law.\n"
QUOTE = "registration is optional"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def quoted_project(root: Path, quote: str = QUOTE, copy: str = "sources/copies/blog-f.txt",
                   text: str = COPY) -> Path:
    """The fixture with blog-f as the origin, a copy of its text, and AL-04 quoting it."""
    edit(root / REFS, 'descriptor: "Unsigned blog."}',
         f'descriptor: "Unsigned blog.", origin: true, copy: "{copy}"}}')
    if text is not None:
        (root / "sources" / "copies").mkdir(exist_ok=True)
        (root / "sources" / "copies" / "blog-f.txt").write_text(text, "utf-8")
    edit(root / "sources/alpha/20-doubts.md",
         '      - {ref: blog-f, stance: supports, locator: "p. 1"}\n      - {ref: law-a',
         '      - {ref: blog-f, stance: supports, locator: "p. 1",\n'
         f'         quote: "{quote}"}}\n      - {{ref: law-a')
    return root


@pytest.mark.parametrize("quote, ok", [
    ("registration is optional", True),
    ("registration\n  is   optional", True),                 # whitespace is normalised
    ("Registration is optional", False),                     # case counts
    ("registration is optional … breaks the law", True),     # fragments in order
    ("registration [...] nobody ever breaks", True),
    ("breaks the law … registration", False),                # out of order
    ("registration is compulsory", False),
    ("… optional …", True),
])
def test_matching(quote, ok):
    assert found(quote, normalise(COPY)) is ok


def test_a_verified_quote_is_silent_and_printed_under_its_claim(basic_project):
    project = load_project(quoted_project(basic_project))
    assert [d.code for d in project.warnings if d.code.startswith("quote")] == []
    area = next(a for a in project.areas if a.slug == "alpha")
    pack = assemble(project, area, project.audiences["study-group"])
    assert pack is not None
    html = render_html(pack)
    # Compact caveats (the default): the entry links to the claim's record, which prints
    # the source's words under the claim.
    entry = html[html.index('id="claim-AL-04"'):][:2000]
    assert 'href="#evidence-AL-04"' in entry and "registration is optional</q>" not in entry
    record = html[html.index('id="evidence-AL-04"'):][:2000]
    assert "Source&rsquo;s words (p. 1): <q>registration is optional</q>" in record or \
        "<q>registration is optional</q>" in record
    # the grade label shows both sides of the dispute: blog F, law A against
    assert "F3 / A against" in entry and "F3 / A against" in record
    # Full caveats print the words in the entry itself.
    full = project.audiences["study-group"]
    full = replace(full, config=full.config.model_copy(update={"caveats": "full"}))
    pack = assemble(project, area, full)
    assert pack is not None
    html = render_html(pack)
    entry = html[html.index('id="claim-AL-04"'):][:2500]
    assert "<q>registration is optional</q>" in entry and 'id="evidence-' not in html


def test_a_quote_not_in_the_copy_is_located_and_never_printed(basic_project):
    secret = "registration is SECRET-WORDS-5521"
    project = load_project(quoted_project(basic_project, quote=secret))
    (warning,) = [d for d in project.warnings if d.code == "quote-not-found"]
    text = warning.format()
    assert text.startswith("sources/alpha/20-doubts.md:10: warning: claim 'AL-04': the quote "
                           "of evidence #1 ('blog-f') is not in its copy "
                           "sources/copies/blog-f.txt")
    assert "SECRET-WORDS" not in text


@pytest.mark.parametrize("copy, problem", [
    ("../outside.txt", "is outside the project"),
    ("/etc/hostname", "is outside the project"),
    ("sources/copies/missing.txt", "does not exist"),
])
def test_a_copy_must_be_a_file_inside_the_project(basic_project, copy, problem):
    (basic_project.parent / "outside.txt").write_text(COPY)
    with pytest.raises(BriefgenError) as exc:
        load_project(quoted_project(basic_project, copy=copy))
    (error,) = [d for d in exc.value.diagnostics if d.code == "quote-copy"]
    assert error.location.file == REFS and error.location.line == 24
    assert problem in error.message


def test_a_copy_that_is_a_link_or_a_folder_is_refused(basic_project):
    (basic_project.parent / "outside.txt").write_text(COPY)
    quoted_project(basic_project, text=None)
    copies = basic_project / "sources" / "copies"
    copies.mkdir()
    os.symlink(basic_project / "sources" / "alpha" / "10-facts.md", copies / "blog-f.txt")
    with pytest.raises(BriefgenError) as exc:
        load_project(basic_project)
    assert "symbolic link" in str(exc.value)
    (copies / "blog-f.txt").unlink()
    (copies / "blog-f.txt").mkdir()
    with pytest.raises(BriefgenError) as exc:
        load_project(basic_project)
    assert "not a regular file" in str(exc.value)


def test_the_quote_travels_in_the_exports(basic_project):
    project = load_project(quoted_project(basic_project))
    audience = export_audience(project)
    data = export(project, audience)
    row = next(r for r in data.records if r["id"] == "AL-04")
    assert row["origin_quote"] == QUOTE
    assert row["contradicting_grade"] == "A"
    assert [(e["ref"], e["quote"], e["origin"]) for e in row["evidence"]] == [
        ("blog-f", QUOTE, True), ("law-a", "", False)]
    reviews = claim_review(project, data)["@graph"]
    assert next(r for r in reviews if r["identifier"] == "AL-04")["claimReviewed"] == QUOTE
    assert next(r for r in reviews if r["identifier"] == "AL-05")["claimReviewed"].startswith(
        "DISPUTED-IMPROBABLE-CLAIM")               # no quote: the claim as worded
    proc = subprocess.run([sys.executable, "-m", "briefgen", "claims", "--format", "csv"],
                          cwd=basic_project, capture_output=True, text=True, check=True)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert rows["AL-04"]["quote"] == QUOTE and rows["AL-05"]["quote"] == ""
    proc = subprocess.run([sys.executable, "-m", "briefgen", "claims", "--format", "json"],
                          cwd=basic_project, capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)[3]["origin_quote"] == QUOTE
