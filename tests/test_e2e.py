"""End to end: build the fixture project with real WeasyPrint and read the PDFs back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from conftest import full_only

from briefgen.build import BuildOptions, build
from briefgen.loading import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "basic"
    shutil.copytree(FIXTURE, root)
    results = build(load_project(root), root / "output", BuildOptions(jobs=2))
    assert {(r.audience, r.area, r.status) for r in results} == {
        ("study-group", "alpha", "built"), ("study-group", "beta", "built"),
        ("restricted", "alpha", "built"), ("restricted", "beta", "built")}
    return root


def pages_text(path: Path) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(path).pages]


def flat_outline(reader: pypdf.PdfReader) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((item.title, reader.get_destination_page_number(item)))
    walk(reader.outline)
    return out


def test_caveats_lists_hold_the_right_claims(built):
    text = "\n".join(pages_text(built / "output/study-group/alpha.pdf"))
    caveats = text[text.index("Caveats: what stands on what\nEach claim"):]
    caveats = caveats[:caveats.index("\nSources and grades\n")]   # not the appendices
    sections = re.split(r"\n(?=Sourced facts \(|Uncorroborated claims \(|Disputed claims \(|"
                        r"Judgments and assumptions in the text|Editorial note)", caveats)
    named = {s.split(" (")[0].split("\n")[0]: s for s in sections[1:]}
    assert set(named) >= {"Sourced facts", "Uncorroborated claims", "Disputed claims"}
    assert "SOURCED-PRIMARY-CLAIM" in named["Sourced facts"]
    assert "SOURCED-TWO-CLAIM" in named["Sourced facts"]
    assert "single primary source" in named["Sourced facts"]
    assert "UNCORROBORATED-DERIVED-CLAIM" in named["Uncorroborated claims"]
    assert "UNCORROBORATED-LONE-CLAIM" in named["Uncorroborated claims"]
    assert "DISPUTED-CONTRADICTED-CLAIM" in named["Disputed claims"]
    assert "DISPUTED-IMPROBABLE-CLAIM" in named["Disputed claims"]
    # the best contradicting source is named in the compact entry
    assert "Best against: [1] Law Alpha (A)" in " ".join(named["Disputed claims"].split())
    judgments = next(v for k, v in named.items() if k.startswith("Judgments"))
    assert "JUDGMENT-CLAIM" in judgments
    for key, body in named.items():
        if not key.startswith("Judgments"):
            assert "JUDGMENT-CLAIM" not in body
    assert "Leave a Reply" in named["Editorial note: material left out"]
    assert "Sourced facts (2)" in text and "Disputed claims (2)" in text


def test_compact_caveats_and_their_evidence_link_both_ways_with_true_page_numbers(built):
    """Each compact entry says on which page its full record is, and the record says on
    which page the entry is: both numbers read back from the printed pages."""
    pages = [" ".join(t.split()) for t in pages_text(built / "output/study-group/alpha.pdf")]
    entries = {m[1]: (n, int(m[2])) for n, t in enumerate(pages, 1)
               for m in re.finditer(r"(AL-\d+) (?:(?!AL-\d).)*?Evidence \(p\. (\d+)\)", t)}
    records = {m[1]: (n, int(m[2])) for n, t in enumerate(pages, 1)
               for m in re.finditer(r"(AL-\d+) [A-Z ]+?(?:[A-F]\d(?: / [A-F] against)? )?"
                                    r"In the caveats \(p\. (\d+)\)", t)}
    assert sorted(entries) == sorted(records) == [f"AL-0{i}" for i in range(1, 8)]
    for claim, (page, evidence_page) in entries.items():
        assert records[claim] == (evidence_page, page), claim
        assert evidence_page > page
    # The record holds the whole evidence list; the entry only the best source each way.
    record = pages[records["AL-04"][0] - 1]
    assert "CONTRADICTS [1] (A), art. 1" in record and "SUPPORTS [2] (F), p. 1" in record


def test_outline_and_contents_page_numbers_match_section_starts(built):
    path = built / "output/study-group/alpha.pdf"
    reader = pypdf.PdfReader(path)
    outline = dict(flat_outline(reader))
    for title in ("Contents", "Key judgments", "Scope note", "Facts section", "Doubts section",
                  "Caveats: what stands on what", "Sourced facts (2)", "Sources and grades",
                  "Keys: likelihood and source grading", "Revision history"):
        assert title in outline, title
    # Document control: the revision history shares the page after the cover with the contents.
    assert outline["Revision history"] == outline["Contents"] == 1
    texts = pages_text(path)
    contents_page = next(t for t in texts if t.startswith("Contents") or "\nContents\n" in t)
    entries = re.findall(r"^(.+?)\s*\.{3,}\s*(\d+)$", contents_page, re.MULTILINE)
    assert len(entries) >= 7, contents_page
    for raw_title, number in entries:
        title = raw_title.strip(" .")
        assert outline[title] + 1 == int(number), (title, number)
        assert title in texts[int(number) - 1]


def test_every_page_has_running_footer_and_tlp_label(built):
    texts = pages_text(built / "output/study-group/alpha.pdf")
    assert len(texts) >= 6
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert text.count("TLP:CLEAR") >= 2  # header and footer


def test_claim_markers_link_back_with_page_numbers(built):
    texts = pages_text(built / "output/study-group/alpha.pdf")
    marker_page = next(i for i, t in enumerate(texts, 1)
                       if "AL-01SOURCED" in t.replace(" ", "") and "Caveats" not in t)
    caveats = "\n".join(texts).replace("\xa0", " ")
    entry = caveats[caveats.index("AL-01 SOURCED FACT"):][:80]
    assert f"see p. {marker_page}" in entry


def test_metadata_comes_from_the_project(built):
    meta = pypdf.PdfReader(built / "output/study-group/alpha.pdf").metadata
    assert meta.title == "Fixture briefing: Alpha area"
    assert meta.author == "Test Unit"
    assert meta["/CreationDate"].startswith("D:20250301")
    assert "TLP:CLEAR" in meta["/Keywords"]


def test_handling_withholds_restricted_notes_everywhere(built):
    canaries = ("CANARY-CLAIM-9034", "CANARY-TITLE-5521", "CANARY-BODY-3310", "CANARY-REF-7781")
    open_pack = built / "output/study-group/alpha.pdf"
    reader = pypdf.PdfReader(open_pack)
    seen = "\n".join(pages_text(open_pack)) + str(reader.metadata)
    seen += " ".join(t for t, _ in flat_outline(reader))
    for canary in canaries:
        assert canary not in seen
    restricted = built / "output/restricted/alpha.pdf"
    text = "\n".join(pages_text(restricted))
    for canary in canaries:
        assert canary in text
    assert "TLP:AMBER" in text and "TLP:CLEAR" not in text


def test_inline_grades_follow_the_audience(built):
    restricted = "\n".join(pages_text(built / "output/restricted/alpha.pdf"))
    plain = "\n".join(pages_text(built / "output/study-group/alpha.pdf"))
    assert "AL-01A2SOURCED" in restricted.replace(" ", "")
    assert "AL-01A2SOURCED" not in plain.replace(" ", "")


def test_manifest_and_noop_rebuild_skips_weasyprint(built):
    manifest = (built / "output/manifest.json").read_text()
    assert '"study-group/alpha.pdf"' in manifest
    code = ("import sys; from briefgen.commands import main; rc = main(['build']); "
            "print('WEASYPRINT' if 'weasyprint' in sys.modules else 'NO-WEASYPRINT'); "
            "sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=built, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "4 unchanged" in proc.stdout and "NO-WEASYPRINT" in proc.stdout


def test_editing_one_note_rebuilds_only_its_packs(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    build(load_project(root), root / "output", BuildOptions(audiences=["study-group"]))
    note = root / "sources/beta/10-only.md"
    note.write_text(note.read_text().replace("Beta fact.", "Beta fact, edited."))
    results = build(load_project(root), root / "output", BuildOptions(audiences=["study-group"]))
    assert {r.area: r.status for r in results} == {"alpha": "unchanged", "beta": "built"}


def test_failed_pack_leaves_previous_pdf_intact_and_others_build(tmp_path, monkeypatch):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    out = root / "output"
    build(load_project(root), out, BuildOptions(audiences=["study-group"]))
    good = (out / "study-group/beta.pdf").read_bytes()
    note = root / "sources/beta/10-only.md"
    note.write_text(note.read_text() + "\nchanged\n")
    (root / "sources/alpha/_area.md").write_text(
        (root / "sources/alpha/_area.md").read_text() + "\nchanged\n")

    from briefgen import pdf

    real = pdf.Renderer.pdf

    def flaky(self, html, **kw):
        if "Beta area" in html:
            raise RuntimeError("simulated WeasyPrint crash")
        return real(self, html, **kw)

    monkeypatch.setattr(pdf.Renderer, "pdf", flaky)
    # in_process: the patch must reach the renderer (worker processes would not see it).
    results = build(load_project(root), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    status = {r.area: r for r in results}
    assert status["beta"].status == "failed" and "simulated" in status["beta"].message
    assert status["alpha"].status == "built"
    assert (out / "study-group/beta.pdf").read_bytes() == good


def test_crash_mid_write_keeps_old_pdf_and_leaves_no_temp_file(tmp_path, monkeypatch):
    from briefgen.build import atomic_write

    target = tmp_path / "pack.pdf"
    atomic_write(target, b"%PDF-old")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        atomic_write(target, b"%PDF-new" * 1000)
    assert target.read_bytes() == b"%PDF-old"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]


def test_cli_check_on_broken_project_prints_located_errors(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    note = root / "sources/beta/10-only.md"
    note.write_text(note.read_text().replace("credibility: 3", "credibility: 9"))
    proc = run_cli("check", cwd=root)
    assert proc.returncode == 1
    assert proc.stderr.startswith("sources/beta/10-only.md:6: error: claims[0].credibility")
    assert "Traceback" not in proc.stderr


def test_cli_build_outside_a_project_is_a_clean_error(tmp_path):
    proc = run_cli("build", cwd=tmp_path)
    assert proc.returncode == 1
    assert "no briefgen.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_claims_json_lists_every_claim_with_status(tmp_path):
    import json

    proc = run_cli("claims", "--format", "json", cwd=FIXTURE)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)}
    assert len(rows) == 8 and "AL-08" not in rows  # the default audience is cleared for CLEAR
    assert rows["AL-04"]["status"] == "disputed"
    assert rows["AL-01"]["single_primary_source"] is True
    assert rows["AL-04"]["evidence"][1] == {"ref": "law-a", "stance": "contradicts",
                                            "locator": "art. 1", "note": "", "quote": "",
                                            "origin": False, "reliability": "A"}
    assert {r["handling"] for r in rows.values()} == {"TLP:CLEAR"}
    cleared = run_cli("claims", "--format", "json", "--clearance", "TLP:AMBER", cwd=FIXTURE)
    rows = {r["id"]: r for r in json.loads(cleared.stdout)}
    assert len(rows) == 9 and rows["AL-08"]["handling"] == "TLP:AMBER"


def test_init_scaffolds_a_project_that_builds(tmp_path):
    proc = run_cli("init", "new", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert run_cli("check", "--strict", cwd=tmp_path / "new").returncode == 0  # no warnings
    proc = run_cli("build", cwd=tmp_path / "new")
    assert proc.returncode == 0, proc.stderr
    for audience in ("study-group", "analyst", "large-print", "print-mono"):
        assert (tmp_path / f"new/output/{audience}/example.pdf").stat().st_size > 10_000
    only = run_cli("init", "two", "--audience", "analyst", cwd=tmp_path)
    assert only.returncode == 0, only.stderr
    assert sorted(p.name for p in (tmp_path / "two/styles").iterdir()) == [
        "analyst", "study-group"]
    again = run_cli("init", "new", cwd=tmp_path)
    assert again.returncode == 1 and "not empty" in again.stderr


def test_provenance_attachments_respect_handling(built):
    import json

    open_pack = pypdf.PdfReader(built / "output/study-group/alpha.pdf").attachments
    assert {"claims-ledger.json", "references.yaml", "briefgen.yaml", "sources/alpha/_area.md",
            "sources/alpha/10-facts.md", "sources/alpha/20-doubts.md"} == set(open_pack)
    ledger = json.loads(open_pack["claims-ledger.json"][0])
    status = {c["id"]: c["status"] for c in ledger["claims"]}
    assert status["AL-01"] == "sourced" and status["AL-04"] == "disputed"
    assert "AL-08" not in status and ledger["handling"] == "TLP:CLEAR"
    everything = b"".join(b"".join(v) for v in open_pack.values())
    for canary in (b"CANARY-CLAIM-9034", b"CANARY-BODY-3310", b"CANARY-REF-7781"):
        assert canary not in everything
    cleared = pypdf.PdfReader(built / "output/restricted/alpha.pdf").attachments
    assert "sources/alpha/30-restricted.md" in cleared
    assert b"CANARY-REF-7781" in cleared["references.yaml"][0]


def test_a_worker_receives_only_its_own_area(tmp_path):
    """What is pickled for each pack does not grow with the project: the shipped pack's project
    holds its own area and audience only, and renders the same HTML as the full pack."""
    import pickle

    from briefgen.pack import assemble, confined
    from briefgen.render import render_html

    project = load_project(FIXTURE)
    assert len(project.areas) > 1
    rendered = 0
    for audience in project.audiences.values():
        for area in project.areas:
            pack = assemble(project, area, audience)
            if pack is None:  # withheld from this audience
                continue
            slim = pickle.loads(pickle.dumps(confined(pack)))
            assert [a.slug for a in slim.project.areas] == [area.slug]
            assert list(slim.project.audiences) == [audience.name]
            assert render_html(slim) == render_html(pack)
            rendered += 1
    assert rendered >= 3


def test_the_biggest_pack_is_handed_to_a_worker_first(tmp_path, monkeypatch):
    """Longest-first scheduling; the results still come back in area order."""
    from briefgen import build as build_module

    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    note = root / "sources/beta/10-only.md"  # beta sorts last; make it the biggest pack
    note.write_text(note.read_text() + "\n\n" + "A longer paragraph of text. " * 400 + "\n")
    handed: list[str] = []
    real_run = build_module.WorkerPool.run

    def spy(self, jobs, finish):
        handed.extend(job.area for job in jobs)
        return real_run(self, jobs, finish)

    monkeypatch.setattr(build_module.WorkerPool, "run", spy)
    results = build(load_project(root), root / "output", BuildOptions(
        audiences=["study-group"], jobs=2))
    assert handed == ["beta", "alpha"]
    assert [r.area for r in results] == ["alpha", "beta"]
    assert {r.status for r in results} == {"built"}


@full_only  # 14 s; worker recycling
def test_workers_stay_warm_and_are_replaced_when_they_grow(tmp_path, monkeypatch):
    """A worker renders pack after pack (WeasyPrint imported once) and is replaced only when
    its resident memory after a pack is over the recycling mark."""
    from briefgen.build import workers

    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    started: list[int] = []
    real_start = workers.WorkerPool._start

    def spy(self):
        started.append(1)
        return real_start(self)

    monkeypatch.setattr(workers.WorkerPool, "_start", spy)
    options = BuildOptions(jobs=1, memory_limit_mb=None, force=True)
    results = build(load_project(root), root / "output", options)
    assert [r.status for r in results] == ["built"] * 4 and len(started) == 1
    started.clear()
    monkeypatch.setattr(workers, "RECYCLE_UNLIMITED_MB", 1)   # every worker is "too big"
    results = build(load_project(root), root / "output", options)
    assert [r.status for r in results] == ["built"] * 4 and len(started) == 4


NOOP_PROBE = r"""
import sys
from briefgen.commands import main
code = main(sys.argv[1:])
print("LOADED" if "briefgen.loading" in sys.modules else "NOT-LOADED",
      "pydantic" in sys.modules, code)   # WeasyPrint never runs here, only in workers
"""


def test_a_noop_build_does_not_load_the_project(tmp_path):
    """Nothing changed since the last complete build: the build answers from the manifest's
    fingerprint without reading notes, validating or importing pydantic; any
    change (even one of the same size), a touched PDF or --force goes the full way."""
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)

    def probe(*args):
        proc = subprocess.run([sys.executable, "-c", NOOP_PROBE, "build", *args], cwd=root,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip().splitlines()

    # A build limited to one audience does not stand for a build of every audience.
    assert probe("--audience", "study-group")[-1] == "LOADED True 0"
    assert probe("--audience", "study-group")[-1] == "NOT-LOADED False 0"
    everything = probe()
    assert everything[-1] == "LOADED True 0" and "2 built, 2 unchanged" in everything[-2]
    quick = probe("-v")
    assert quick[-1] == "NOT-LOADED False 0"
    assert "unchanged study-group/alpha.pdf" in quick
    assert "          withheld note sources/alpha/30-restricted.md (TLP:AMBER) from " \
           "study-group" in quick
    assert quick[-2] == f"4 unchanged -> {root / 'output'}"
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text().replace("Beta fact.", "Beta fakt."))   # same size
    rebuilt = probe()
    assert rebuilt[-1] == "LOADED True 0" and "2 built, 2 unchanged" in rebuilt[-2]
    assert probe()[-1] == "NOT-LOADED False 0"
    pdf = root / "output" / "study-group" / "beta.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n")                    # someone touched a PDF
    assert probe()[-1] == "LOADED True 0"
    assert probe("--force")[-1] == "LOADED True 0"
    # Warnings of the last load are repeated on the quick path too.
    area = root / "sources" / "beta" / "_area.md"
    area.write_text(area.read_text() + "\nSee [a file](other.md).\n")
    slow = subprocess.run([sys.executable, "-m", "briefgen", "build"], cwd=root,
                          capture_output=True, text=True, timeout=300, check=True)
    fast = subprocess.run([sys.executable, "-m", "briefgen", "build"], cwd=root,
                          capture_output=True, text=True, timeout=300, check=True)
    assert "[broken-link]" in slow.stderr and fast.stderr == slow.stderr
