"""The handling boundary by construction (issue #19): each case here was a way withheld
material reached a lower reader, or stale output was reported as current; each test failed
before the change that closed it. SECURITY.md ("The boundary, as invariants") names them.

Canaries: RED content carries a string found nowhere else; each test looks for it in the
channel it covers (PDF, terminal, JSON, manifest, preview overlay and status) and a positive
control shows the detector sees it where it is allowed.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from hostile_helpers import pdf_text

from briefgen.build import BuildOptions, build
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.loading import load_project
from briefgen.pack import assemble, confined

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
RED_NOTE = """\
---
title: "Red note CANARY-TITLE-3141"
order: 30
claims:
  - id: RD-01
    text: "CANARY-CLAIM-2718 a restricted claim."
    credibility: 2
    evidence:
      - {ref: report-b, stance: supports, locator: "p. 9"}
---
CANARY-BODY-1618 restricted text. [[RD-01]]
"""
CANARIES = ("CANARY-TITLE-3141", "CANARY-CLAIM-2718", "CANARY-BODY-1618")


def run(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=root,
                          capture_output=True, text=True, timeout=timeout, check=False)


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    return root


def red_area(root: Path) -> Path:
    """An area `gamma` marked TLP:RED whose note has no handling of its own."""
    area = root / "sources" / "gamma"
    area.mkdir()
    (area / "_area.md").write_text("---\ntitle: Gamma CANARY-AREA-1414\norder: 3\n"
                                   "handling: TLP:RED\n---\nRestricted scope.\n")
    (area / "10-red.md").write_text(RED_NOTE)
    return area


def found(text: str, canaries: tuple[str, ...] = CANARIES) -> list[str]:
    return [c for c in canaries if c in text]


# --- 1. one handling per file --------------------------------------------------------------


def test_a_link_to_a_note_of_a_red_area_is_refused(tmp_path):
    root = project(tmp_path)
    red_area(root)
    (root / "sources" / "beta" / "15-link.md").symlink_to(
        root / "sources" / "gamma" / "10-red.md")
    proc = run(root, "check")
    assert proc.returncode == 1
    assert "sources/beta/15-link.md: error: is a symbolic link" in proc.stderr
    assert found(proc.stdout + proc.stderr) == []


def test_a_hard_link_is_refused_as_a_note_and_as_a_template(tmp_path):
    root = project(tmp_path)
    red = red_area(root) / "10-red.md"
    os.link(red, root / "sources" / "beta" / "15-hard.md")
    proc = run(root, "check", "--clearance", "RED")
    assert proc.returncode == 1 and "15-hard.md: error: is a hard link" in proc.stderr
    assert "gamma/10-red.md: error: is a hard link" in proc.stderr  # both names refused
    (root / "sources" / "beta" / "15-hard.md").unlink()
    templates = root / "styles" / "study-group" / "templates"
    templates.mkdir()
    os.link(red, templates / "cover.html.j2")       # the note is refused, so nothing builds
    proc = run(root, "build")
    assert proc.returncode == 1 and found(proc.stdout + proc.stderr) == []
    assert not (root / "output").exists()
    (templates / "cover.html.j2").unlink()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("CANARY-ELSEWHERE-1123")
    os.link(outside, templates / "cover.html.j2")
    proc = run(root, "build")
    assert proc.returncode == 1
    assert "styles/study-group/templates/cover.html.j2: is a hard link" in proc.stderr
    assert not (root / "output" / "study-group").exists()          # that audience fails
    assert (root / "output" / "restricted" / "alpha.pdf").exists()  # the others build
    assert "CANARY-ELSEWHERE-1123" not in proc.stdout + proc.stderr


def test_a_pipe_in_place_of_a_stylesheet_is_an_error_not_skipped(tmp_path):
    root = project(tmp_path)
    os.mkfifo(root / "styles" / "study-group" / "style.css")
    proc = run(root, "check", timeout=60)
    assert proc.returncode == 1
    assert "styles/study-group/style.css: error: not a regular file" in proc.stderr


def test_the_projects_handling_is_every_notes_floor(tmp_path):
    root = project(tmp_path)
    config = root / "briefgen.yaml"
    config.write_text(config.read_text() + "handling: RED\n")
    loaded = load_project(root)
    audience = loaded.audiences["study-group"]                  # cleared for CLEAR
    assert all(assemble(loaded, area, audience) is None for area in loaded.areas)
    assert {n.handling for a in loaded.areas for n in a.notes} == {"RED"}
    rows = json.loads(run(root, "claims", "--format", "json").stdout)
    review = json.loads(run(root, "claims", "--format", "claimreview").stdout)
    assert rows == [] and review["@graph"] == []
    red = json.loads(run(root, "claims", "--format", "json", "--clearance", "RED").stdout)
    assert red and {r["handling"] for r in red} == {"TLP:RED"}  # positive control


# --- 2. diagnostics are handled data -------------------------------------------------------


def test_a_red_references_bad_doi_is_never_quoted_on_any_channel(tmp_path):
    root = project(tmp_path)
    refs = root / "sources" / "references.yaml"
    refs.write_text(refs.read_text() + '- id: red-ref\n  type: report\n  title: Restricted\n'
                    '  DOI: "CANARY-DOI-5772"\n  custom: {reliability: B, tlp: RED}\n')
    text, as_json = run(root, "check"), run(root, "check", "--format", "json")
    built = run(root, "build")
    for proc in (text, as_json, built):
        assert proc.returncode == 1
        assert "CANARY-DOI-5772" not in proc.stdout + proc.stderr
    line = refs.read_text().splitlines().index("- id: red-ref") + 1
    assert re.search(rf"sources/references.yaml:({line}|{line + 3}): error: a problem in text "
                     r"handled as TLP:RED \(withheld: TLP:RED\)", text.stderr), text.stderr
    entries = json.loads(as_json.stdout)
    assert entries and all(e["file"] == "sources/references.yaml"
                           and "withheld: TLP:RED" in e["message"] for e in entries)
    revealed = run(root, "check", "--clearance", "RED")             # the author may ask
    assert "CANARY-DOI-5772" in revealed.stderr

    from briefgen.serve.pages import Preview

    preview = Preview(root)
    preview.refresh()
    pages = preview.index() + json.dumps(preview.status()).encode()
    assert preview.status()["errors"] and b"CANARY-DOI-5772" not in pages


def test_a_red_notes_broken_link_stays_out_of_messages_json_and_manifest(tmp_path):
    root = project(tmp_path)
    note = root / "sources" / "alpha" / "30-restricted.md"      # TLP:AMBER in the fixture
    note.write_text(note.read_text() + "\n[x](CANARY-LINK-6931.md) ![y](CANARY-IMG-4142.png)\n")
    proc, as_json = run(root, "check"), run(root, "check", "--format", "json")
    assert proc.returncode == 1
    assert "CANARY" not in proc.stdout + proc.stderr + as_json.stdout
    assert "sources/alpha/30-restricted.md" in proc.stderr and "TLP:AMBER" in proc.stderr
    note.write_text(note.read_text().replace("![y](CANARY-IMG-4142.png)", ""))
    built = run(root, "build", "-v")
    manifest = (root / "output" / "manifest.json").read_text()
    assert "CANARY" not in built.stdout + built.stderr + manifest
    assert "withheld" not in manifest and "warning" not in manifest
    assert "CANARY-LINK-6931" in run(root, "check", "--clearance", "AMBER").stderr


def test_the_preview_overlay_quotes_only_what_its_audience_may_see():
    from briefgen.serve.pages import overlay

    red = Diagnostic(Location("sources/a/b.md", 3), "bad CANARY-OVERLAY-1", handling="RED")
    clear = Diagnostic(Location("sources/a/c.md", 4), "bad VISIBLE-2", handling="CLEAR")
    shown = overlay([red, clear], "AMBER")
    assert "CANARY-OVERLAY-1" not in shown and "withheld: TLP:RED" in shown
    assert "VISIBLE-2" in shown and "sources/a/b.md:3" in shown
    assert "CANARY-OVERLAY-1" in overlay([red], "RED")


def test_an_unclassified_message_about_content_fails_closed():
    about_note = Diagnostic(Location("sources/a/b.md", 3), "CANARY-UNKNOWN")
    about_style = Diagnostic(Location("styles/x/style.css", 3), "VISIBLE")
    assert "CANARY-UNKNOWN" not in about_note.format() + json.dumps(about_note.to_dict())
    assert "VISIBLE" in about_style.format()


def test_control_characters_in_messages_are_escaped(tmp_path):
    root = project(tmp_path)
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + "\n[x](bad\x1b[31mname\u202e.md)\n")
    proc = run(root, "check")
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr
    assert "\\u001b[31mname\\u202e.md" in proc.stderr


def test_the_preview_index_shows_no_withheld_area(tmp_path):
    from briefgen.serve.pages import Preview

    root = project(tmp_path)
    red_area(root)
    preview = Preview(root)
    preview.refresh()
    index = preview.index().decode()
    assert "CANARY-AREA-1414" not in index and "gamma" not in index
    assert "1 area withheld" in index
    status, page = preview.page("study-group", "gamma")
    assert status == 404 and b"CANARY" not in page and b"RED" not in page


# --- 3. names are content ------------------------------------------------------------------


@pytest.mark.parametrize(("where", "text"), [
    ("title", "See RD-01"),                                 # a note's title
    ("body", "[details](#claim-RD-01)"),                    # a link anchor
    ("descriptor", "Also cited for RD-01."),                # a reference's descriptor
])
def test_a_withheld_id_in_any_printed_field_is_refused(tmp_path, where, text):
    root = project(tmp_path)
    (root / "sources" / "beta" / "20-red.md").write_text(RED_NOTE.replace(
        "order: 30\n", "order: 30\nhandling: RED\n"))
    note = root / "sources" / "beta" / "10-only.md"
    if where == "title":
        note.write_text(note.read_text().replace("title: ", f"title: {text} ", 1))
    elif where == "body":
        note.write_text(note.read_text() + f"\n{text}\n")
    else:
        refs = root / "sources" / "references.yaml"
        refs.write_text(refs.read_text().replace("descriptor: ", f"descriptor: {text} ", 1))
    with pytest.raises(BriefgenError) as caught:
        load_project(root)
    assert [d.code for d in caught.value.diagnostics] == ["withheld-mention"]


def test_ids_of_any_shape_are_found(tmp_path):
    root = project(tmp_path)
    (root / "sources" / "beta" / "20-red.md").write_text(RED_NOTE.replace(
        "order: 30\n", "order: 30\nhandling: RED\n").replace("RD-01", "redclaim"))
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + "\nCompare redclaim.\n")
    with pytest.raises(BriefgenError) as caught:
        load_project(root)
    assert "mentions claim 'redclaim'" in caught.value.diagnostics[0].format("RED")


def test_templates_see_how_much_was_withheld_never_what(tmp_path):
    root = project(tmp_path)
    loaded = load_project(root)
    alpha = next(a for a in loaded.areas if a.slug == "alpha")
    pack = assemble(loaded, alpha, loaded.audiences["study-group"])
    assert pack is not None and pack.withheld                  # the AMBER note
    seen = confined(pack)
    assert seen.withheld == [] and seen.withheld_count == len(pack.withheld)
    assert seen.project.handling_map is None                   # no file names either


# --- 4. output is proven ----------------------------------------------------------------


def test_a_pdf_the_manifest_cannot_account_for_fails_the_build(tmp_path):
    """After a killed build: the PDF of an area now withheld is still there, not recorded."""
    root = project(tmp_path)
    assert run(root, "build").returncode == 0
    stray = root / "output" / "study-group" / "gamma.pdf"
    stray.write_bytes((root / "output" / "study-group" / "beta.pdf").read_bytes())
    red_area(root)
    proc = run(root, "build")
    assert proc.returncode == 1
    assert ("output/study-group/gamma.pdf: should not be here: the pack is withheld from this "
            "audience") in proc.stderr
    assert stray.exists()                                       # never deleted unproven
    (root / "output" / "study-group" / "notes.txt").write_text("mine")
    stray.unlink()
    proc = run(root, "build")
    assert proc.returncode == 1 and "output/study-group/notes.txt: is not a file" in proc.stderr


def test_a_failed_pack_whose_audience_now_sees_less_loses_its_old_pdf(tmp_path):
    root = project(tmp_path)
    note = root / "sources" / "beta" / "20-red.md"
    note.write_text(RED_NOTE)                                    # CLEAR for now
    assert run(root, "build", "--audience", "study-group").returncode == 0
    old = root / "output" / "study-group" / "beta.pdf"
    assert "CANARY-BODY-1618" in pdf_text(old.read_bytes())
    templates = root / "styles" / "study-group" / "templates"
    templates.mkdir()
    (templates / "caveats.html.j2").write_text("{{ 1 / 0 }}")     # every pack fails
    proc = run(root, "build", "--audience", "study-group")
    assert proc.returncode == 1 and old.exists()                # nothing changed: kept
    note.write_text(RED_NOTE.replace("order: 30\n", "order: 30\nhandling: RED\n"))
    proc = run(root, "build", "--audience", "study-group")
    assert proc.returncode == 1
    assert "previous edition of this pack was removed" in proc.stdout + proc.stderr
    assert not old.exists()
    assert (root / "output" / "study-group" / "alpha.pdf").exists()  # alpha sees the same


def test_a_replaced_image_outside_sources_is_not_unchanged(tmp_path):
    root = project(tmp_path)
    (root / "assets").mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "pixel.png", root / "assets" / "p.png")
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + "\n![a dot](../../assets/p.png)\n")
    assert run(root, "build", "--audience", "study-group").returncode == 0
    assert "1 unchanged" in run(root, "build", "--audience", "study-group", "--area",
                                "beta").stdout
    from PIL import Image

    Image.new("RGB", (3, 3), "blue").save(root / "assets" / "p.png")
    proc = run(root, "build", "--audience", "study-group", "--area", "beta")
    assert proc.returncode == 0 and "1 built" in proc.stdout


def test_the_pdf_id_does_not_change_when_only_withheld_content_does(tmp_path):
    root = project(tmp_path)
    red = root / "sources" / "beta" / "20-red.md"
    red.write_text(RED_NOTE.replace("order: 30\n", "order: 30\nhandling: RED\n"))

    def pdf_id() -> object:
        results = build(load_project(root), root / "output", BuildOptions(
            audiences=["study-group"], areas=["beta"], force=True, in_process=True))
        assert results[0].status == "built"
        reader = pypdf.PdfReader(root / "output" / "study-group" / "beta.pdf")
        return reader.trailer["/ID"]

    before = pdf_id()
    red.write_text(red.read_text().replace("CANARY-BODY-1618", "CANARY-BODY-EDITED"))
    assert pdf_id() == before
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + "\nA visible change.\n")
    assert pdf_id() != before                                  # positive control


# --- 5. types from content ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["huge.dat", "huge.svg", "huge"])
def test_an_images_type_and_size_come_from_its_content(tmp_path, name):
    from PIL import Image

    root = project(tmp_path)
    note = root / "sources" / "beta" / "10-only.md"
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")             # 81 megapixels, small file
    (note.parent / name).write_bytes(buffer.getvalue())
    note.write_text(note.read_text() + f"\n![a huge image]({name})\n")
    proc = run(root, "check")
    assert proc.returncode == 1
    assert f"image '{name}' has 9000 x 9000 pixels" in proc.stderr


def test_a_file_that_is_not_an_image_is_named_for_what_it_is(tmp_path):
    root = project(tmp_path)
    note = root / "sources" / "beta" / "10-only.md"
    (note.parent / "fake.png").write_text("not an image")
    (note.parent / "cut.png").write_bytes(
        (Path(__file__).parent / "fixtures" / "pixel.png").read_bytes()[:40])
    note.write_text(note.read_text() + "\n![a](fake.png) ![b](cut.png)\n")
    proc = run(root, "check")
    assert "image 'fake.png' is not an image briefgen can read" in proc.stderr
    assert "image 'cut.png' is corrupt or cut short" in proc.stderr
    assert "megapixels" not in proc.stderr                       # every hint fits its mistake


# --- 6. the command line -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_timeouts_must_be_finite_and_positive(tmp_path, value):
    proc = run(project(tmp_path), "build", "--timeout", value)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--timeout must be a finite number of seconds" in proc.stderr


def test_a_closed_pipe_ends_quietly_with_the_conventional_status(tmp_path):
    root = project(tmp_path)
    proc = subprocess.run(f"{sys.executable} -m briefgen build -j 2 | head -1", shell=True,
                          cwd=root, capture_output=True, text=True, timeout=300, check=False,
                          executable="/bin/bash")
    statuses = subprocess.run(
        f"{sys.executable} -m briefgen build --force -j 2 | head -1; "
        'echo "${PIPESTATUS[0]}"', shell=True, cwd=root, capture_output=True, text=True,
        timeout=300, check=False, executable="/bin/bash")
    assert "Traceback" not in proc.stderr + statuses.stderr
    assert "AssertionError" not in proc.stderr + statuses.stderr
    assert statuses.stdout.splitlines()[-1] == "141"
    manifest = json.loads((root / "output" / "manifest.json").read_text())
    assert len([p for p in manifest["packs"] if p["format"] == "pdf"]) == 4  # all finished


def test_extends_names_an_audience_never_a_path(tmp_path):
    root = project(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "audience.yaml").write_text("title: x\nCANARY_KEY_99: 1\n")
    from briefgen import paths

    # A path from briefgen's own audiences folder to a folder outside the project: before
    # the fix, briefgen joined the two and read the audience.yaml it found there.
    escape = os.path.relpath(outside, paths.AUDIENCES)
    (root / "styles" / "study-group" / "audience.yaml").write_text(
        f"title: x\nextends: {escape}\n")
    proc = run(root, "check")
    assert proc.returncode == 1 and "CANARY_KEY_99" not in proc.stderr
    assert "styles/study-group/audience.yaml" in proc.stderr and "extends" in proc.stderr


def test_serve_pdf_builds_the_previewed_audience_only(tmp_path):
    from briefgen.serve.pages import Preview
    from briefgen.serve.pdfs import Builder

    root = project(tmp_path)
    preview = Preview(root)
    preview.refresh()
    said: list[str] = []

    class Console:
        def say(self, text: str) -> None:
            said.append(text)

        problem = say

    assert preview.state.project is not None
    Builder(preview, Console())._build(preview.state.project)  # type: ignore[arg-type]
    assert sorted(p.name for p in (root / "output").iterdir()) == [
        ".briefgen-state.json", "manifest.json", "study-group"] or sorted(
        p.name for p in (root / "output").iterdir()) == ["manifest.json", "study-group"]


def test_an_unknown_area_lists_and_suggests_only_clear_areas(tmp_path):
    root = project(tmp_path)
    red_area(root)
    typo = run(root, "build", "--area", "alpah")
    assert typo.returncode == 1
    assert "sources/: error: no area 'alpah'" in typo.stderr
    assert "did you mean 'alpha'?" in typo.stderr
    assert "areas: alpha, beta (and 1 handled above TLP:CLEAR)" in typo.stderr
    near_red = run(root, "build", "--area", "gamm")
    assert "gamma" not in near_red.stderr and "did you mean" not in near_red.stderr
    assert "no area 'gamm'" in near_red.stderr
