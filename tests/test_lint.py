"""`briefgen check` lints: each warning fires on the mistake it names, and only then."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from briefgen.errors import BriefgenError
from briefgen.loading import load_project

FIXTURES = Path(__file__).parent / "fixtures"


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
    assert message.startswith("sources/references.yaml:34: warning: reference 'never-used'")


def test_credibility_1_needs_two_independent_sources(basic_project):
    note = basic_project / "sources/alpha/10-facts.md"
    edit(note, "    credibility: 2\n    evidence:\n      - {ref: paper-c, stance: supports, "
         "locator: \"p. 1\"}\n      - {ref: paper-c-copy",
         "    credibility: 1\n    evidence:\n      - {ref: paper-c, stance: supports, "
         "locator: \"p. 1\"}\n      - {ref: paper-c-copy")
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
    shutil.copy(FIXTURES / "pixel.png", basic_project / "sources/beta/pic.png")
    append(basic_project / "sources/beta/10-only.md",
           "\n![](pic.png) See [the law](#ref-law-a), [nothing](#nowhere), "
           "[a file](other.md), [a note](../alpha/10-facts.md) and [this one](10-only.md).\n")
    found = codes(basic_project)
    assert found["missing-alt-text"][0].startswith("sources/beta/10-only.md:12:1: warning")
    broken = found["broken-link"]
    assert len(broken) == 3  # a note of another area is not in this pack either
    assert "#nowhere" in broken[0] and "other.md" in broken[1] and "alpha" in broken[2]


def test_handling_inconsistencies(basic_project):
    note = basic_project / "sources/beta/10-only.md"
    edit(note, "    credibility: 3\n", "    credibility: 3\n    handling: AMBER\n")
    edit(note, "Beta fact.", "Beta fact [@secret-memo].")
    (claim_msg,) = codes(basic_project)["handling-inconsistency"]
    assert "BE-01" in claim_msg and "TLP:AMBER" in claim_msg
    edit(note, "    handling: AMBER\n", "")
    # Citing an AMBER reference from a CLEAR note would print it for CLEAR readers: an error.
    with pytest.raises(BriefgenError) as caught:
        load_project(basic_project)
    (problem,) = caught.value.diagnostics
    assert problem.format().startswith("sources/beta/10-only.md:10: error: mentions reference "
                                       "'secret-memo' (TLP:AMBER) in text handled as TLP:CLEAR")
    assert problem.code == "withheld-mention"


def test_missing_locator_and_dispute_without_counter_evidence(basic_project):
    edit(basic_project / "sources/beta/10-only.md", 'locator: "p. 1"', 'locator: ""')
    edit(basic_project / "briefgen.yaml", "ignore: [disputed-without-counter-evidence]",
         "ignore: []")
    found = codes(basic_project)
    (locator,) = found["missing-locator"]
    assert locator.startswith("sources/beta/10-only.md:4: warning: claim 'BE-01': evidence #1 "
                              "('report-b') has no locator")
    (dispute,) = found["disputed-without-counter-evidence"]
    assert dispute.startswith("sources/alpha/20-doubts.md:11: warning: claim 'AL-05' is graded "
                              "credibility 5 (improbable) but no source graded D or better")
    # AL-04 is disputed too, but law-a (A) contradicts it: no warning for it.
    assert "AL-04" not in dispute


def test_lint_codes_can_be_silenced(basic_project):
    edit(basic_project / "sources/beta/10-only.md", 'locator: "p. 1"', 'locator: ""')
    assert "missing-locator" in codes(basic_project)
    edit(basic_project / "briefgen.yaml", "ignore: [disputed-without-counter-evidence]",
         "ignore: [disputed-without-counter-evidence, missing-locator]")
    assert codes(basic_project) == {}


def test_summary_graded_as_original(basic_project):
    edit(basic_project / "sources/references.yaml",
         'custom: {reliability: B, descriptor: "Audit report."}',
         'custom: {reliability: B, descriptor: "Audit report.", read: summary}')
    (found,) = codes(basic_project)["summary-graded-as-original"]
    assert found.startswith("sources/references.yaml:7: warning: reference 'report-b' was read "
                            "through a summary but is graded as A-B")
    edit(basic_project / "sources/references.yaml", "reliability: B, descriptor: \"Audit",
         "reliability: C, descriptor: \"Audit")
    assert "summary-graded-as-original" not in codes(basic_project)


def test_judgment_contradicts_body(basic_project):
    area = basic_project / "sources/alpha/_area.md"
    # A "likely" judgment resting only on disputed and uncorroborated claims.
    edit(area, 'basis: "AL-01."', 'basis: "Rests on AL-04 and AL-06."')
    (found,) = codes(basic_project)["judgment-contradicts-body"]
    assert "says 'likely' but none of the claims it rests on is sourced" in found
    assert "AL-04 disputed, AL-06 uncorroborated" in found
    edit(area, "Rests on AL-04 and AL-06.", "Rests on AL-01 and AL-04.")
    assert "judgment-contradicts-body" not in codes(basic_project)


def test_cli_strict_and_json(basic_project):
    shutil.copy(FIXTURES / "pixel.png", basic_project / "sources/beta/pic.png")
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


def _font_with(path: Path, characters: str) -> None:
    """A tiny TrueType font whose only glyphs are `characters` (empty squares)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *(f"u{ord(c):04X}" for c in characters)]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"u{ord(c):04X}" for c in characters})
    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 700), (600, 700), (600, 0)):
        (pen.moveTo if (x, y) == (100, 0) else pen.lineTo)((x, y))
    pen.closePath()
    square = pen.glyph()
    builder.setupGlyf({name: square for name in names})
    builder.setupHorizontalMetrics({name: (700, 100) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Test Glyphs", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))


def test_characters_no_font_can_print_are_located(basic_project):
    """Neither the bundled fonts nor Noto CJK have Ethiopic: such text printed as blank boxes,
    or in whatever font the building machine had, with no word said. Now each place is a
    warning."""
    note = basic_project / "sources/beta/10-only.md"
    append(note, "\nThe greeting (ሰላም) and Addis (አዲስ) again: ሰላም.\n")
    edit(basic_project / "sources/references.yaml", 'title: "Report Bravo"',
         'title: "Report Bravo (ሪፖርት)"')
    found = codes(basic_project)
    body, ref = sorted(found.pop("missing-glyph"))
    assert found == {}
    assert body.startswith("sources/beta/10-only.md:12:15: warning: no bundled font has "
                           "'ሰላምአዲስ' (U+1230 U+120B U+121D U+12A0 U+12F2 U+1235)")
    assert "[missing-glyph]" in body and "@font-face" in body and "fonts-noto-cjk" in body
    assert ref.startswith("sources/references.yaml:7: warning: no bundled font has 'ሪፖርት'")


def test_chinese_is_covered_where_noto_cjk_is_installed(basic_project):
    """base.css names Noto CJK after briefgen's fonts: where it is installed (setup.sh does
    it), Chinese text and a title as published print in it and nothing warns; where it is
    not, the warning says how to install it."""
    from briefgen import glyphs

    append(basic_project / "sources/beta/10-only.md", "\nThe ministry (公安部).\n")
    edit(basic_project / "sources/references.yaml", 'title: "Report Bravo"',
         'title: "Report Bravo"\n  original-title: "审计报告"')
    found = codes(basic_project)
    if glyphs.named_system_fonts():
        assert found == {}
    else:
        assert len(found.pop("missing-glyph")) == 2 and found == {}


def test_unprinted_fields_and_audience_fonts_do_not_warn(basic_project):
    """A reference's note and the PDF keywords are never drawn with a font; a font file an
    audience brings covers what it has."""
    edit(basic_project / "sources/references.yaml", 'title: "Report Bravo"',
         'title: "Report Bravo"\n  note: "Title as published: 报告"')
    edit(basic_project / "briefgen.yaml", "keywords: [", "keywords: [公安部, ")
    assert codes(basic_project) == {}
    append(basic_project / "sources/beta/10-only.md", "\nIn Georgian: ႠႡ.\n")
    (message,) = codes(basic_project)["missing-glyph"]
    assert "'ႠႡ'" in message
    _font_with(basic_project / "styles" / "study-group" / "georgian.ttf", "ႠႡ")
    assert codes(basic_project) == {}


def test_the_sample_briefing_has_no_warnings():
    """`briefgen check --strict` passes on the sample: every lint, missing glyphs included."""
    assert codes(Path(__file__).parent.parent) == {}


REFS_FILE = "sources/references.yaml"


def test_missing_quote_on_a_claim_drawn_from_an_unreliable_source(basic_project):
    """A claim drawn from (origin) a source graded E or F shows that source's words."""
    assert "missing-quote" not in codes(basic_project)      # no origin marked: silent
    edit(basic_project / REFS_FILE, 'descriptor: "Unsigned blog."}',
         'descriptor: "Unsigned blog.", origin: true}')
    found = codes(basic_project)["missing-quote"]
    assert sorted(m.split("'")[1] for m in found) == ["AL-04", "AL-05", "AL-06", "AL-07"]
    assert found[0].startswith("sources/alpha/20-doubts.md:5: warning: claim 'AL-04' is "
                               "drawn from 'blog-f', graded F")
    note = basic_project / "sources/alpha/20-doubts.md"
    edit(note, '      - {ref: blog-f, stance: supports, locator: "p. 1"}\n      - {ref: law-a',
         '      - {ref: blog-f, stance: supports, locator: "p. 1", quote: "optional"}\n'
         '      - {ref: law-a')
    assert "AL-04" not in str(codes(basic_project)["missing-quote"])
    # an origin graded A-D needs no quote
    edit(basic_project / REFS_FILE, "{reliability: F, descriptor: \"Unsigned blog.\"",
         "{reliability: D, descriptor: \"Unsigned blog.\"")
    assert "missing-quote" not in codes(basic_project)


@pytest.mark.parametrize("text, fires", [
    ("Previously graded improbable on plausibility alone.", True),
    ("It was graded doubtful before the statute was read.", True),
    ("Re-graded after the census was read.", True),
    ("Downgraded once the figures were checked.", True),
    ("In the earlier edition this was disputed.", True),
    ("Previously reported by Xinhua in 2006; the MPS graded the stations by size.", False),
    ("The grade rests on the statute, which was read in translation.", False),
    ("Originally published in Chinese.", False),
])
def test_stale_rationale(basic_project, text, fires):
    note = basic_project / "sources/alpha/20-doubts.md"
    edit(note, "    credibility: 5\n", f"    credibility: 5\n    rationale: \"{text}\"\n")
    found = codes(basic_project).get("stale-rationale", [])
    assert bool(found) is fires
    if fires:
        assert found[0].startswith("sources/alpha/20-doubts.md:11: warning: claim 'AL-05': "
                                   "rationale speaks of earlier grading")


def test_stale_reason_in_an_evidence_note(basic_project):
    edit(basic_project / "sources/alpha/10-facts.md", 'locator: "art. 1"}',
         'locator: "art. 1", note: "The claim was graded B2 before this was read."}')
    (found,) = codes(basic_project)["stale-rationale"]
    assert "AL-01': the note of evidence #1" in found


def test_high_confidence_needs_sourced_or_firmly_disputed_claims(basic_project):
    area = basic_project / "sources/alpha/_area.md"
    edit(area, "confidence: moderate\n    basis: \"AL-01.\"",
         "confidence: high\n    basis: \"AL-01 and AL-06.\"")
    (found,) = codes(basic_project)["judgment-contradicts-body"]
    assert "'AL-KJ1' has high confidence" in found and "AL-06 uncorroborated" in found
    # disputed by a source graded A (AL-04: law-a contradicts) can carry it
    edit(area, 'basis: "AL-01 and AL-06."', 'basis: "AL-01 and AL-04."')
    assert "judgment-contradicts-body" not in codes(basic_project)
    # disputed on credibility alone (AL-05: nobody graded A-B against it) cannot
    edit(area, 'basis: "AL-01 and AL-04."', 'basis: "AL-01 and AL-05."')
    (found,) = codes(basic_project)["judgment-contradicts-body"]
    assert "AL-05 disputed" in found
    edit(area, "confidence: high", "confidence: moderate")
    assert "judgment-contradicts-body" not in codes(basic_project)


def test_missing_date(basic_project):
    refs = basic_project / REFS_FILE
    edit(refs, "  issued: {date-parts: [[2019, 5]]}\n", "")
    (found,) = codes(basic_project)["missing-date"]
    assert found.startswith(f"{REFS_FILE}:13: warning: reference 'paper-c' has no date")
    # an undated source says so (blog-f has issued: {literal: "n.d."}): silent


def test_repeated_date_parts(basic_project):
    refs = basic_project / REFS_FILE
    edit(refs, "  issued: {date-parts: [[2019, 5]]}\n",
         "  issued: {date-parts: [[2019, 5]]}\n  number: \"2019, no. 3\"\n")
    (found,) = codes(basic_project)["repeated-date-parts"]
    assert found.startswith(f"{REFS_FILE}:13: warning: reference 'paper-c': number "
                            "'2019, no. 3' repeats the year 2019")
    edit(refs, 'number: "2019, no. 3"', "issue: 3")
    assert "repeated-date-parts" not in codes(basic_project)
    edit(refs, "issue: 3", 'number: "Report No. 34/2019"')   # a number that holds a year
    assert "repeated-date-parts" not in codes(basic_project)


def test_raw_reference_id_in_a_reason(basic_project):
    note = basic_project / "sources/alpha/20-doubts.md"
    edit(note, "    credibility: 5\n",
         "    credibility: 5\n    rationale: \"Contradicted by law-a, art. 1.\"\n")
    (found,) = codes(basic_project)["raw-reference-id"]
    assert found.startswith("sources/alpha/20-doubts.md:11: warning: claim 'AL-05': rationale "
                            "names reference 'law-a' by its id")
    edit(note, "Contradicted by law-a, art. 1.", "Contradicted by the statute (Law Alpha), "
         "art. 1; the by-law and report-backed claims differ.")
    assert "raw-reference-id" not in codes(basic_project)
    area = basic_project / "sources/alpha/_area.md"       # a citation is not a raw id
    edit(area, 'basis: "AL-01."', 'basis: "AL-01 [@law-a, art. 1]."')
    assert "raw-reference-id" not in codes(basic_project)
