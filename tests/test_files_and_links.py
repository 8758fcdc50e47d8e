"""Files and links: what a pack may point at, read, write and delete, and the errors a person
gets when a file is wrong. Each case failed (silently, or with a traceback) before it was fixed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pypdf
import pytest

from briefgen.build import BuildOptions, build
from briefgen.errors import BriefgenError
from briefgen.loading import load_project

FIXTURES = Path(__file__).parent / "fixtures"


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)


def append(path: Path, text: str) -> None:
    path.write_text((path.read_text() if path.exists() else "") + text)


def link_targets(pdf: Path) -> list[str]:
    found = []
    for page in pypdf.PdfReader(pdf).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                found.append(str(action["/URI"]))
    return found


def png(width: int, height: int, *, whole: bool = True) -> bytes:
    """A black 1-bit PNG of `width` x `height` pixels, deflated to about a thousandth of its
    rows (so a 400-megapixel image is a 50 kB file); `whole=False`: the same header with one
    short row of data, a corrupt file that merely claims that size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    if whole:
        packer = zlib.compressobj(9)
        row = b"\0" * (1 + (width + 7) // 8)
        data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    else:
        data = zlib.compress(b"\0" * 16)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


# --- links ----------------------------------------------------------------------------------


def test_only_web_mail_and_internal_links_become_annotations(basic_project):
    note = basic_project / "sources" / "alpha" / "10-facts.md"
    append(note, "\nLinks: [web](https://example.org/a), [mail](mailto:a@example.org), "
                 "[claim](#claim-AL-01), [sibling](20-doubts.md), "
                 "[restricted](30-restricted.md), [relative](other/file.pdf), "
                 "[host](//evil.example/x), [file](file:///etc/passwd), "
                 "[escape](../../etc/passwd), [beta](../beta/10-only.md).\n")
    results = build(load_project(basic_project), basic_project / "output", BuildOptions(
        audiences=["study-group"], areas=["alpha"], in_process=True))
    assert results[0].status == "built", results[0].message
    pdf = basic_project / "output" / "study-group" / "alpha.pdf"
    uris = link_targets(pdf)
    assert sorted(uris) == ["https://example.org/a", "mailto:a@example.org"], uris
    raw = pdf.read_bytes()
    assert b"file:" not in raw and str(basic_project).encode() not in raw
    assert b"evil.example" not in raw and b"etc/passwd" not in raw
    text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "restricted" in text and "escape" in text      # kept as plain text
    # The link to a note of the pack goes to that note inside the PDF.
    html = _html(basic_project, "study-group", "alpha")
    assert '<a href="#note-20-doubts">sibling</a>' in html
    assert "30-restricted" not in html                    # withheld from this audience
    warnings = {d.message for d in load_project(basic_project).warnings
                if d.code == "broken-link"}
    assert {w.split("'")[1] for w in warnings} == {
        "other/file.pdf", "//evil.example/x", "file:///etc/passwd", "../../etc/passwd",
        "../beta/10-only.md"}


def _html(root: Path, audience: str, area: str) -> str:
    from briefgen.pack import assemble
    from briefgen.render import render_html

    project = load_project(root)
    pack = assemble(project, next(a for a in project.areas if a.slug == area),
                    project.audiences[audience])
    assert pack is not None
    return render_html(pack)


# --- images ---------------------------------------------------------------------------------


def test_image_paths_resolve_from_the_note_folder_or_sources(basic_project):
    shutil.copy(FIXTURES / "pixel.png", basic_project / "sources" / "beta" / "near.png")
    (basic_project / "sources" / "_shared").mkdir()
    shutil.copy(FIXTURES / "pixel.png", basic_project / "sources" / "_shared" / "far.png")
    append(basic_project / "sources" / "beta" / "10-only.md",
           "\n![next to the note](near.png)\n\n![the 1.0 form](beta/near.png)\n\n"
           "![elsewhere](../_shared/far.png)\n")
    html = _html(basic_project, "study-group", "beta")
    assert html.count('src="beta/near.png"') == 2 and 'src="_shared/far.png"' in html


def test_each_image_is_located_once_when_its_note_is_loaded(basic_project, monkeypatch):
    """The loader finds each image file once; the checks, the input hash and the renderer
    use what it found (they each looked it up again before)."""
    from briefgen import images
    from briefgen.build.cache import input_hash
    from briefgen.pack import assemble
    from briefgen.render import render_html

    shutil.copy(FIXTURES / "pixel.png", basic_project / "sources" / "beta" / "near.png")
    append(basic_project / "sources" / "beta" / "10-only.md",
           "\n![one](near.png)\n\n![two](beta/near.png)\n")
    calls: list[str] = []
    real = images.locate

    def counting(root: Path, text_file: str, src: str) -> images.Located:
        calls.append(src)
        return real(root, text_file, src)

    monkeypatch.setattr(images, "locate", counting)
    project = load_project(basic_project)
    assert sorted(calls) == ["beta/near.png", "near.png"]
    area = next(a for a in project.areas if a.slug == "beta")
    for audience in project.audiences.values():
        input_hash(project, area, audience)
        pack = assemble(project, area, audience)
        if pack is not None:
            assert render_html(pack).count('src="beta/near.png"') == 2
    assert len(calls) == 2


def test_a_missing_image_is_a_located_error_in_check_and_build(basic_project):
    append(basic_project / "sources" / "beta" / "10-only.md", "\nSee ![map](map.png).\n")
    for command in (["check"], ["build"]):
        proc = run(basic_project, *command)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert "sources/beta/10-only.md:12:5: error: image 'map.png' not found" in proc.stderr
        assert "image paths start from the note's folder" in proc.stderr
    assert not (basic_project / "output").exists()


@pytest.mark.parametrize("size, expected", [
    ((20000, 20000), "has more pixels than any image may have"),
    ((12000, 12000), "has 12000 x 12000 pixels (144 megapixels, the limit is 50)"),
])
def test_decompression_bombs_are_refused_with_a_located_error(basic_project, size, expected):
    (basic_project / "sources" / "beta" / "bomb.png").write_bytes(png(*size))
    append(basic_project / "sources" / "beta" / "10-only.md", "\n![bomb](bomb.png)\n")
    with pytest.raises(BriefgenError) as caught:
        load_project(basic_project)
    (problem,) = caught.value.diagnostics
    assert problem.format().startswith("sources/beta/10-only.md:12:1: error: image 'bomb.png' ")
    assert expected in problem.message


@pytest.mark.parametrize("size", [(20000, 20000), (12000, 12000)])
def test_a_small_file_claiming_a_huge_size_is_called_corrupt(basic_project, size):
    # a flipped bit in the header, not an image to scale down (#22: every hint is true)
    (basic_project / "sources" / "beta" / "bomb.png").write_bytes(png(*size, whole=False))
    append(basic_project / "sources" / "beta" / "10-only.md", "\n![bomb](bomb.png)\n")
    with pytest.raises(BriefgenError) as caught:
        load_project(basic_project)
    (problem,) = caught.value.diagnostics
    assert problem.message.startswith("image 'bomb.png' is corrupt or cut short (PNG: its "
                                      f"header claims {size[0]} x {size[1]} pixels")
    assert "megapixels" not in problem.format() and "scale" not in problem.hint
    assert "save it again" in problem.hint


def test_replacing_an_image_rebuilds_the_packs_that_show_it(basic_project):
    (basic_project / "sources" / "_shared").mkdir()
    image = basic_project / "sources" / "_shared" / "pic.png"
    shutil.copy(FIXTURES / "pixel.png", image)
    append(basic_project / "sources" / "beta" / "10-only.md", "\n![pic](../_shared/pic.png)\n")
    out = basic_project / "output"
    first = build(load_project(basic_project), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    assert [r.status for r in first] == ["built", "built"]
    image.write_bytes(png(2, 2))
    again = build(load_project(basic_project), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    assert {r.area: r.status for r in again} == {"alpha": "unchanged", "beta": "built"}


# --- file names, stylesheets, page sizes --------------------------------------------------


@pytest.mark.parametrize("name", ["evil\u202egnp.md", "tab\there.md", "zero\u200bwidth.png"])
def test_file_names_with_control_or_bidi_characters_are_refused(basic_project, name):
    (basic_project / "sources" / "beta" / name).write_text("---\ntitle: x\n---\n")
    with pytest.raises(BriefgenError) as caught:
        load_project(basic_project)
    problem = next(d for d in caught.value.diagnostics if d.code == "file-name")
    assert (problem.location.file.startswith("sources/beta/") and "\\u" in problem.location.file) \
        or "\\t" in problem.location.file or "\\x09" in problem.location.file
    assert "control or bidirectional-format characters" in problem.message


def test_css_syntax_errors_are_located_warnings_and_fail_strict(basic_project):
    append(basic_project / "styles" / "study-group" / "style.css",
           "\nh2 { color: red;; font-size 14pt; }\n.note { color: blue\n")
    proc = run(basic_project, "check")
    assert proc.returncode == 0
    assert "styles/study-group/style.css:" in proc.stderr and "[css]" in proc.stderr
    assert "Expected ':' after declaration name" in proc.stderr
    assert "'{' is never closed" in proc.stderr
    assert run(basic_project, "check", "--strict").returncode == 1


def test_css_weasyprint_ignores_is_reported_by_the_build(basic_project):
    append(basic_project / "styles" / "study-group" / "style.css", "\nh2 { colr: red; }\n")
    proc = run(basic_project, "build", "--audience", "study-group")
    assert proc.returncode == 0, proc.stderr
    line = "styles/study-group/style.css:2:6: warning: Ignored `colr: red` at 2:6"
    assert proc.stderr.count(line) == 1, proc.stderr   # two packs, one stylesheet: said once


# --- templates ------------------------------------------------------------------------------


def test_a_template_cannot_include_a_linked_file(basic_project):
    templates = basic_project / "styles" / "study-group" / "templates"
    templates.mkdir()
    (templates / "leak.html.j2").symlink_to(
        basic_project / "sources" / "alpha" / "30-restricted.md")
    (templates / "cover.html.j2").write_text(
        '<section class="cover">{% include "leak.html.j2" %}</section>\n')
    proc = run(basic_project, "build", "--audience", "study-group")
    assert proc.returncode == 1 and "CANARY" not in proc.stdout + proc.stderr
    assert "is a symbolic link" in proc.stderr
    assert not (basic_project / "output" / "study-group" / "alpha.pdf").exists()


def test_a_templates_folder_that_is_a_link_is_refused(basic_project):
    (basic_project / "styles" / "study-group" / "templates").symlink_to(
        basic_project / "sources" / "alpha", target_is_directory=True)
    proc = run(basic_project, "build", "--audience", "study-group")
    assert proc.returncode == 1 and "CANARY" not in proc.stdout + proc.stderr
    assert "styles/study-group/templates: is a symbolic link" in proc.stderr


# --- where a build writes and deletes -------------------------------------------------------


def test_an_output_link_out_of_the_project_is_refused(basic_project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not briefgen's")
    (basic_project / "output").symlink_to(elsewhere, target_is_directory=True)
    proc = run(basic_project, "build")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "output: error: output is a link to" in proc.stderr and "--out DIR" in proc.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    # Named on the command line, the same folder is where the person wants the packs.
    assert run(basic_project, "build", "--out", str(elsewhere)).returncode == 0
    assert (elsewhere / "study-group" / "alpha.pdf").is_file()


def test_a_withheld_area_deletes_only_the_pack_briefgen_wrote(basic_project, tmp_path):
    out = basic_project / "output"
    build(load_project(basic_project), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    pack = out / "study-group" / "beta.pdf"
    precious = tmp_path / "precious.pdf"
    precious.write_bytes(b"someone else's file")
    pack.unlink()
    pack.symlink_to(precious)                 # a link where the pack was
    area = basic_project / "sources" / "beta" / "_area.md"
    area.write_text(area.read_text().replace("order: 2", "order: 2\nhandling: RED"))
    results = build(load_project(basic_project), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    # Not deleted, and not reported "withheld" either: a file the manifest cannot account for
    # where a withheld pack would be fails the build, named (briefgen.build.prove_output).
    beta = {r.area: r for r in results}["beta"]
    assert beta.status == "failed" and "study-group/beta.pdf: should not be here" in beta.message
    assert precious.read_bytes() == b"someone else's file" and pack.is_symlink()
    # The pack briefgen wrote, unchanged, is removed when its area becomes withheld.
    pack.unlink()
    area.write_text(area.read_text().replace("handling: RED\n", ""))
    build(load_project(basic_project), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    assert pack.is_file()
    area.write_text(area.read_text().replace("order: 2", "order: 2\nhandling: RED"))
    build(load_project(basic_project), out, BuildOptions(
        audiences=["study-group"], in_process=True))
    assert not pack.exists()


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"),
                    reason="root ignores permissions; setpriv drops them")
def test_an_unwritable_output_folder_is_a_located_error(basic_project):
    """A real read-only folder; as root the build runs as `nobody`, for whom it is one."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="briefgen-ro-"))
    try:
        work.chmod(0o755)
        root = work / "p"
        shutil.copytree(basic_project, root)
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        out = root / "output"
        out.mkdir(mode=0o555)
        out.chmod(0o555)
        command = [sys.executable, "-m", "briefgen", "build"]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       *command]
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300,
                              check=False, env={**os.environ, "HOME": str(work)})
    finally:
        with contextlib.suppress(OSError):
            (work / "p" / "output").chmod(0o755)
        shutil.rmtree(work, ignore_errors=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "output: error: cannot write to the output folder: Permission denied" in proc.stderr
    assert "nothing was built" in proc.stderr
