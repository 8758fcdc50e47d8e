"""The handling rule on every exit path, proved with canaries.

One project carries a TLP:RED note (written in FIRST's own spelling, `handling: TLP:RED`), a
TLP:RED reference cited as evidence by CLEAR claims (with a locator and a note), a CLEAR copy
derived from that reference, and a YAML comment in a CLEAR note's front matter. Each canary
string must appear in no output a TLP:CLEAR reader gets: PDF text, raw bytes and every
decompressed stream, outline, metadata, link annotations, attachments, the claims exports,
`diff`, the preview and the build's manifest. An audience cleared for RED is the positive
control: there every canary is found, so the detectors work.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from hostile_helpers import haystack

from briefgen.build import BuildOptions, build
from briefgen.errors import BriefgenError
from briefgen.loading import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "basic"

CANARIES = ("CANARY-REDREF-4471", "canary-redref.example", "CANARY-LOCATOR-5582",
            "CANARY-EVNOTE-6693", "CANARY-REDCLAIM-7304", "CANARY-REDBODY-8815",
            "CANARY-REDTITLE-1188", "CANARY-COMMENT-9926", "CANARY-RQ-3141",
            "CANARY-REFQUOTE-2718", "red-source")
# Comments are never part of an output, whoever reads it: not a positive-control canary.
SHOWN_TO_RED = tuple(c for c in CANARIES if c != "CANARY-COMMENT-9926")


def make_canary_project(root: Path) -> Path:
    shutil.copytree(FIXTURE, root)
    refs = root / "sources" / "references.yaml"
    refs.write_text(refs.read_text() + """\
- id: red-source
  type: report
  title: "Source CANARY-REDREF-4471"
  URL: "https://canary-redref.example/report"
  custom: {reliability: A, descriptor: "Restricted report.", primary: true, tlp: "TLP:RED",
           origin: true, copy: sources/copies/red-source.txt}
- id: echo-of-red
  type: article-newspaper
  title: "Newspaper story repeating a restricted report"
  custom: {reliability: C, descriptor: "Press copy.", derived_from: red-source}
""")
    beta = root / "sources" / "beta" / "10-only.md"
    beta.write_text(beta.read_text().replace(
        '      - {ref: report-b, stance: supports, locator: "p. 1"}\n',
        '      - {ref: report-b, stance: supports, locator: "p. 1"}\n'
        '      - {ref: red-source, stance: supports, locator: "CANARY-LOCATOR-5582",\n'
        '         note: "CANARY-EVNOTE-6693", quote: "CANARY-REFQUOTE-2718"}\n'
        '      - {ref: echo-of-red, stance: supports, locator: "para 2"}\n'
        '    # CANARY-COMMENT-9926: a comment for the authors only\n').replace(
        "credibility: 3", "credibility: 2"))
    (root / "sources" / "beta" / "20-red.md").write_text("""\
---
title: "Red section CANARY-REDTITLE-1188"
order: 20
handling: TLP:RED
claims:
  - id: RED-01
    text: "CANARY-REDCLAIM-7304 a restricted claim."
    credibility: 2
    evidence:
      - {ref: red-source, stance: supports, locator: "CANARY-LOCATOR-5582", quote: "CANARY-RQ-3141"}
---
CANARY-REDBODY-8815 restricted text [@red-source]. [[RED-01]]
""")
    # The copy holds neither quote: `check` and `build` warn quote-not-found, naming where
    # the quote is written, never what it says.
    (root / "sources" / "copies").mkdir()
    (root / "sources" / "copies" / "red-source.txt").write_text("Other words.\n")
    red = root / "styles" / "red"
    red.mkdir()
    (red / "audience.yaml").write_text("title: Red cell\nclearance: tlp:red\n")
    return root


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Path:
    root = make_canary_project(tmp_path_factory.mktemp("handling") / "p")
    results = build(load_project(root), root / "output", BuildOptions(jobs=2))
    assert {r.status for r in results} == {"built"}, [r.message for r in results]
    return root


def found_in(text: str, canaries: tuple[str, ...] = CANARIES) -> list[str]:
    return [c for c in canaries if c in text]


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)


def test_pdfs_of_clear_readers_hold_no_canary(canary):
    for audience in ("study-group", "restricted"):       # CLEAR and AMBER readers
        for area in ("alpha", "beta"):
            data = (canary / "output" / audience / f"{area}.pdf").read_bytes()
            everything = haystack(data)
            reader = pypdf.PdfReader(io.BytesIO(data))
            everything += str(reader.outline) + str(reader.metadata)
            for page in reader.pages:
                for annotation in page.get("/Annots") or []:
                    everything += str(annotation.get_object())
            assert found_in(everything) == [], (audience, area)


def test_positive_control_a_red_reader_sees_every_canary(canary):
    data = (canary / "output" / "red" / "beta.pdf").read_bytes()
    assert found_in(haystack(data), SHOWN_TO_RED) == list(SHOWN_TO_RED)
    assert "CANARY-COMMENT-9926" not in haystack(data)  # embedded notes are regenerated


def test_a_claim_is_graded_from_the_evidence_its_reader_may_see(canary):
    def ledger(audience: str) -> dict:
        reader = pypdf.PdfReader(canary / "output" / audience / "beta.pdf")
        return {c["id"]: c for c in json.loads(
            reader.attachments["claims-ledger.json"][0])["claims"]}

    clear, red = ledger("study-group")["BE-01"], ledger("red")["BE-01"]
    # The RED reader: the A source and report-b; the press copy counts with its original.
    assert (red["status"], red["grade"]) == ("sourced", "A2")
    assert "2 independent reliable sources" in red["reason"]
    # The CLEAR reader: report-b (B) and the press copy (C) are left, and are independent of
    # each other: two reliable sources, graded B at best; nothing lent by the hidden original.
    assert (clear["status"], clear["grade"], clear["single_primary_source"]) == (
        "sourced", "B2", False)
    assert [e["ref"] for e in clear["evidence"]] == ["report-b", "echo-of-red"]
    text = "\n".join(p.extract_text() for p in
                     pypdf.PdfReader(canary / "output" / "study-group" / "beta.pdf").pages)
    assert "withheld" not in text.lower()   # nothing says that something was left out


def test_exports_apply_the_default_audience_clearance(canary):
    outputs = [run(canary, "claims", "--format", fmt).stdout
               for fmt in ("table", "csv", "json", "claimreview")]
    for out in outputs:
        assert out and found_in(out) == []
    rows = list(csv.DictReader(io.StringIO(outputs[1])))
    assert {r["handling"] for r in rows} == {"TLP:CLEAR"}
    assert found_in(run(canary, "claims", "--clearance", "RED", "--format", "json").stdout,
                    ("CANARY-REDCLAIM-7304", "CANARY-LOCATOR-5582", "red-source")) == [
        "CANARY-REDCLAIM-7304", "CANARY-LOCATOR-5582", "red-source"]
    assert "TLP:RED" in run(canary, "claims", "--audience", "red").stdout


def test_claimreview_never_carries_anything_above_clear(canary):
    proc = run(canary, "claims", "--format", "claimreview", "--clearance", "TLP:RED")
    assert proc.returncode == 0 and found_in(proc.stdout) == []
    assert "ClaimReview is a publishing format" in proc.stderr
    ids = {r["identifier"] for r in json.loads(proc.stdout)["@graph"]}
    assert "RED-01" not in ids and "AL-08" not in ids and "BE-01" in ids


def test_diff_applies_the_same_clearance_to_both_editions(canary, tmp_path):
    new = tmp_path / "new"
    shutil.copytree(canary, new, ignore=shutil.ignore_patterns("output"))
    note = new / "sources" / "beta" / "20-red.md"
    note.write_text(note.read_text().replace("credibility: 2", "credibility: 5"))
    clear = run(new, "diff", str(canary), str(new))
    assert clear.returncode == 0 and "0 change(s)" in clear.stdout
    assert found_in(clear.stdout + clear.stderr) == []
    red = run(new, "diff", str(canary), str(new), "--clearance", "RED")
    assert "beta/RED-01: sourced -> disputed" in red.stdout


def test_preview_of_a_clear_audience_holds_no_canary(canary):
    from briefgen.serve.pages import Preview

    preview = Preview(canary)            # the default audience: study-group, CLEAR
    preview.refresh()
    pages = [preview.index()] + [preview.page("study-group", a)[1] for a in ("alpha", "beta")]
    pages += [preview.page("red", "beta")[1]]            # another audience: refused
    assert found_in(b"".join(pages).decode()) == []
    assert preview.image("study-group", ["beta", "20-red.md"]) is None
    assert preview.resolve("styles", ["red", "audience.yaml"]) is None


def test_manifest_and_build_messages_hold_no_canary(canary):
    assert found_in((canary / "output" / "manifest.json").read_text()) == []
    # Messages go to whoever runs the build, who reads every source file anyway: they may
    # name a withheld file or id (to say what was left out), never print its content.
    proc = run(canary, "build", "--audience", "study-group", "--force", "-v")
    content = tuple(c for c in CANARIES if c != "red-source")
    assert proc.returncode == 0 and found_in(proc.stdout + proc.stderr, content) == []
    assert "withheld reference red-source (TLP:RED)" in proc.stdout
    check = run(canary, "check")
    assert "[quote-not-found]" in check.stdout + check.stderr
    # The RED note's warning names its place and withholds the rest (Diagnostic.shown_to).
    assert ("sources/beta/20-red.md:10: warning: a problem in text handled as TLP:RED "
            "(withheld: TLP:RED) [quote-not-found]") in check.stdout + check.stderr
    assert found_in(check.stdout + check.stderr, content) == []


@pytest.mark.parametrize("mention", [
    "See [[RED-01]].", "As the report says [@red-source, p. 2].", "Compare RED-01."])
def test_a_clear_text_may_not_mention_anything_withheld(tmp_path, mention):
    root = make_canary_project(tmp_path / "p")
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + mention + "\n")
    where = f"sources/beta/10-only.md:{len(note.read_text().splitlines())}"
    with pytest.raises(BriefgenError) as caught:
        load_project(root)
    (problem,) = caught.value.diagnostics
    assert problem.format().startswith(f"{where}: error: mentions ")
    assert "(TLP:RED) in text handled as TLP:CLEAR" in problem.message
    check = run(root, "check")
    assert check.returncode == 1 and where in check.stderr and "Traceback" not in check.stderr


def test_a_key_judgment_basis_may_not_cite_a_withheld_claim(tmp_path):
    root = make_canary_project(tmp_path / "p")
    area = root / "sources" / "beta" / "_area.md"
    area.write_text(area.read_text().replace("order: 2", "order: 2\nsummary: Rests on RED-01.")
                    if "order: 2" in area.read_text() else
                    area.read_text().replace("---\n", "---\nsummary: Rests on RED-01.\n", 1))
    with pytest.raises(BriefgenError) as caught:
        load_project(root)
    assert any("mentions claim 'RED-01'" in d.message and d.location.file ==
               "sources/beta/_area.md" for d in caught.value.diagnostics)


@pytest.mark.parametrize("spelling", ["TLP:RED", "tlp:red", "RED", "TLP:AMBER+STRICT"])
def test_first_spelling_of_tlp_is_accepted(spelling):
    from briefgen.schema import NoteMeta

    meta = NoteMeta.model_validate({"title": "t", "handling": spelling})
    assert meta.handling == spelling.upper().removeprefix("TLP:")


def test_ledger_and_json_export_follow_the_documented_schema(canary):
    """One record shape for the embedded ledger and every export (docs/ledger.schema.json)."""
    import jsonschema

    schema = json.loads((Path(__file__).parent.parent / "docs" / "ledger.schema.json")
                        .read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for pdf in sorted((canary / "output").glob("*/*.pdf")):
        ledger = json.loads(pypdf.PdfReader(pdf).attachments["claims-ledger.json"][0])
        validator.validate(ledger)
        assert ledger["claims"], pdf
    records = json.loads(run(canary, "claims", "--format", "json", "--audience", "red").stdout)
    record_schema = {**schema["$defs"]["claim"], "$defs": schema["$defs"]}
    for record in records:
        jsonschema.validate(record, record_schema)
    embedded = json.loads(pypdf.PdfReader(canary / "output" / "red" / "beta.pdf")
                          .attachments["claims-ledger.json"][0])["claims"]
    assert [r for r in records if r["area"] == "beta"] == embedded


def test_a_text_naming_what_its_pack_does_not_hold_fails_the_pack(canary):
    """The checks refuse any text that names a withheld claim or source before rendering.
    Should one ever slip through, rendering fails the pack with a located error instead of
    printing a placeholder that tells the reader something is withheld."""
    from briefgen.pack import assemble
    from briefgen.render import PackRenderer

    project = load_project(canary)
    area = next(a for a in project.areas if a.slug == "beta")
    pack = assemble(project, area, project.audiences["study-group"])
    assert pack is not None
    renderer = PackRenderer(pack)
    withheld_claim = next(c.id for c in area.claims if c.id not in pack.gradings)
    withheld_ref = next(r for r in project.references if r not in pack.references)
    attempts = [lambda: renderer.claim_marker(withheld_claim),
                lambda: renderer.citation([(withheld_ref, "")]),
                lambda: renderer.footnote(withheld_ref, "")]
    for attempt in attempts:
        with pytest.raises(BriefgenError) as caught:
            attempt()
        (problem,) = caught.value.diagnostics
        assert "does not hold; the pack was not built" in problem.message
        assert problem.location.file == area.display
        assert found_in(problem.message) == []


def test_missing_glyph_warnings_never_quote_a_withheld_text(tmp_path):
    """The missing-glyph lint quotes the characters it cannot print (Ethiopic: neither the
    bundled fonts nor Noto CJK have it); like every diagnostic it
    carries the handling of its text, so for a text above CLEAR the terminal names only the
    place, unless the person running it asks for more with --clearance."""
    root = make_canary_project(tmp_path / "p")
    red = root / "sources" / "beta" / "20-red.md"
    red.write_text(red.read_text().replace("CANARY-REDBODY-8815 restricted text",
                                           "CANARY-REDBODY-8815 ቀይወፍ restricted text"))
    clear = root / "sources" / "beta" / "10-only.md"
    clear.write_text(clear.read_text() + "\nA public name: ሰላም.\n")
    proc = run(root, "check")
    messages = proc.stdout + proc.stderr
    assert ("sources/beta/20-red.md:12:21: warning: a problem in text handled as TLP:RED "
            "(withheld: TLP:RED) [missing-glyph]") in messages
    assert not any(c in messages for c in "ቀይወፍ")
    revealed = run(root, "check", "--clearance", "RED")
    assert "no bundled font has 'ቀይወፍ'" in revealed.stderr
    assert "no bundled font has 'ሰላም'" in messages            # a CLEAR text is quoted
