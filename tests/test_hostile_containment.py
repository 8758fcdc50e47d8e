"""Hostile input (SECURITY.md): note authors are not trusted. Each leak check has a positive
control, a file inside the project carrying its own marker, to prove the check would notice.

Containment: the fetcher's rules, the PDF engine on raw HTML, a whole hostile project built
by real workers (no secret in any PDF, no network connection), links out of the project.
"""

from __future__ import annotations

import io
import os
import shutil

import pypdf
import pytest
from hostile_helpers import (  # the suite's shared helpers
    CONTROL,
    FIXTURE,
    SECRET,
    Listener,
    haystack,
    jpeg,
    pdf_text,
    secrets_outside,
    write_note,
)

from briefgen.build import BuildOptions, build
from briefgen.errors import BriefgenError
from briefgen.loading import load_project
from briefgen.pdf import BlockedResource, PackFailure, Renderer, contained_read

# --- the fetcher's rules, on their own ---------------------------------------------------------


@pytest.fixture
def contained(tmp_path):
    root = tmp_path / "project"
    (root / "sources").mkdir(parents=True)
    outside = secrets_outside(tmp_path)
    (root / "sources" / "ok.jpg").write_bytes(jpeg(CONTROL))
    (root / "sources" / "link.jpg").symlink_to(outside / "secret.jpg")
    (root / "sources" / "outdir").symlink_to(outside, target_is_directory=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(SECRET)
    os.mkfifo(root / "sources" / "pipe.jpg")
    return root.resolve(), outside.resolve()


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:9/x.png", "scheme 'http:'"),
    ("https://example.invalid/x.png", "scheme 'https:'"),
    ("ftp://127.0.0.1/x", "scheme 'ftp:'"),
    ("gopher://127.0.0.1/x", "scheme 'gopher:'"),
    ("jar:file:///x.jar!/a", "scheme 'jar:'"),
    ("//127.0.0.1/x", "scheme '(none):'"),
    ("file://127.0.0.1/etc/passwd", "remote file host"),
    ("file:///etc/passwd", "outside the project"),
    ("{outside}/secret.jpg", "outside the project"),
    ("{root}/sources/../../outside/secret.jpg", "outside the project"),
    ("{root}/sources/%2e%2e/%2e%2e/outside/secret.jpg", "outside the project"),
    ("{root}/sources/link.jpg", "outside the project"),
    ("{root}/sources/outdir/secret.jpg", "outside the project"),
    ("{root}/.git/config", "hidden file"),
    ("{root}/sources/pipe.jpg", "not a regular file"),
    ("{root}/sources", "not a regular file"),
    ("{root}/sources/missing.jpg", "no such file"),
    ("{root}/sources/ok.jpg%00.png", "malformed file path"),
    ("data:image/png;base64,QQ", "malformed data: URL"),
    ("data:image/png;base64", "malformed data: URL"),
])
def test_fetcher_refuses_everything_but_project_files_and_data(contained, url, reason):
    root, outside = contained
    if url.startswith("{"):
        url = "file://" + url.format(root=root, outside=outside)
    with pytest.raises(BlockedResource, match=reason.replace("(", r"\(").replace(")", r"\)")):
        contained_read(url, [root])


def test_fetcher_serves_project_files_and_data_urls(contained):
    root, _ = contained
    final, data, mime = contained_read((root / "sources" / "ok.jpg").as_uri(), [root])
    assert CONTROL.encode() in data and mime == "image/jpeg" and final.startswith("file://")
    assert contained_read("data:text/plain;base64,aGk=", [root])[1] == b"hi"
    assert contained_read("data:,a%20b", [root])[1] == b"a b"
    # briefgen installed in a virtualenv inside the project: its data is still allowed,
    # the rest of the hidden folder is not.
    package_data = root / ".venv" / "briefgen" / "templates"
    package_data.mkdir(parents=True)
    (package_data / "base.css").write_text("p {}")
    (root / ".venv" / "other.txt").write_text(SECRET)
    assert contained_read((package_data / "base.css").as_uri(), [root, package_data])[1] == b"p {}"
    with pytest.raises(BlockedResource, match="hidden file"):
        contained_read((root / ".venv" / "other.txt").as_uri(), [root, package_data])


# --- the PDF engine alone: raw HTML that never went through the sanitiser ----------------------


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_engine_contains_raw_html_that_skipped_the_sanitiser(tmp_path, renderer):
    """Templates and markers are trusted HTML; even so the engine fetches nothing outside."""
    root = tmp_path / "project"
    (root / "sources").mkdir(parents=True)
    outside = secrets_outside(tmp_path)
    (root / "sources" / "control.jpg").write_bytes(jpeg(CONTROL))
    listener = Listener()
    secret = (outside / "secret.jpg").as_uri()
    html = f"""<!DOCTYPE html><html><head>
      <link rel="stylesheet" href="{(outside / 'evil.css').as_uri()}">
      <link rel="stylesheet" href="{listener.url('link.css')}">
      <link rel="attachment" href="{(outside / 'secret.txt').as_uri()}">
      <style>
        @import url("{(outside / 'evil.css').as_uri()}");
        @import url("{listener.url('import.css')}");
        @font-face {{ font-family: Leak; src: url("{(outside / 'secret.ttf').as_uri()}"); }}
        @font-face {{ font-family: Net; src: url("{listener.url('font.woff')}"); }}
        body {{ font-family: Leak, Net, serif;
                background-image: url("{listener.url('bg.png')}"); }}
        h1::after {{ content: url("{secret}"); }}
      </style></head><body>
      <h1>Engine</h1>
      <img src="control.jpg">
      <img src="{secret}"> <img src="../../outside/secret.jpg">
      <img src="{listener.url('img.png')}"> <img src="{listener.url('x.png', 'localhost')}">
      <img src="//127.0.0.1:{listener.port}/protocol-relative.png">
      <object data="{(outside / 'secret.txt').as_uri()}"></object>
      <embed src="{secret}"> <iframe src="{(outside / 'secret.txt').as_uri()}"></iframe>
      <a rel="attachment" href="../../outside/secret.txt">attached?</a>
      <svg width="40" height="40" xmlns="http://www.w3.org/2000/svg">
        <image href="{secret}" width="20" height="20"/>
        <image href="{listener.url('svg.png')}" width="20" height="20"/>
        <use href="{(outside / 'secret.svg').as_uri()}#t"/>
      </svg></body></html>"""
    data, _, blocked = renderer.pdf(html, project_root=root, stylesheets=[],
                                    identifier=b"0" * 16)
    assert listener.stop() == 0
    found = haystack(data)
    assert SECRET not in found
    assert CONTROL in found  # positive control: an allowed image is embedded byte for byte
    assert pypdf.PdfReader(io.BytesIO(data)).attachments == {}
    report = "\n".join(blocked)
    assert f"{secret} (outside the project)" in report
    assert f"{listener.url('img.png')} (scheme 'http:'" in report
    assert "(remote file host)" in report  # the protocol-relative URL
    assert "rel=attachment" in report


def test_attachments_only_for_files_the_build_chose(tmp_path, renderer):
    root = tmp_path / "project"
    (root / "sources").mkdir(parents=True)
    secrets_outside(tmp_path)
    (root / "sources" / "chosen.txt").write_text(f"{CONTROL}\n")
    (root / "sources" / "other.txt").write_text("NOT-CHOSEN-3141\n")
    html = ('<html><head><link rel="attachment" href="other.txt"></head><body>'
            '<a rel="attachment" href="chosen.txt">ok</a> '
            '<a rel="nofollow ATTACHMENT" href="other.txt">no</a> '
            '<a rel="attachment" href="../../outside/secret.txt">no</a></body></html>')
    data, _, blocked = renderer.pdf(html, project_root=root, stylesheets=[],
                                    identifier=b"1" * 16,
                                    attachments=[root / "sources" / "chosen.txt"])
    attachments = pypdf.PdfReader(io.BytesIO(data)).attachments
    assert list(attachments) == ["chosen.txt"]
    found = haystack(data)
    assert CONTROL in found and "NOT-CHOSEN-3141" not in found and SECRET not in found
    assert sum("rel=attachment" in b for b in blocked) == 3
    with pytest.raises(PackFailure, match="outside the project"):
        renderer.pdf(html, project_root=root, stylesheets=[], identifier=b"1" * 16,
                     attachments=[tmp_path / "outside" / "secret.txt"])


# --- a whole hostile project through the real build (worker processes) -------------------------

HOSTILE_BODY = """\
Jinja stays text: {{{{ 7 * 7 }}}} and {{% for x in range(3) %}}LOOP{{% endfor %}} and
{{{{ cycler.__init__.__globals__.os.popen('id').read() }}}}.

![control image](beta/control.jpg)

![svg with outside references](beta/evil.svg)
![svg with an external entity](beta/xxe.svg) ![svg entity bomb](beta/laughs.svg)

<object data="../../outside/secret.txt"></object> <embed src="../../outside/secret.txt">
<iframe src="../../outside/secret.txt"></iframe>
<a rel="attachment" href="../../outside/secret.txt">attach</a>
<link rel="attachment" href="../../outside/secret.txt">

<script>document.write("SCRIPT-RAN-1")</script>
<img alt="x" src="beta/control.jpg" onerror="alert('ONERROR-RAN-2')" onload="alert(3)">
[js link](javascript:alert('JS-LINK-4')) <a href="JaVaScRiPt:alert(5)">js5</a>
<a href="jav&#x09;ascript:alert(6)">js6</a> <a href=" javascript:alert(7)">js7</a>
<svg><script>alert(8)</script></svg> <math><mtext><script>alert(9)</script></mtext></math>
"""

# Images a note may not show: each is a located error before anything renders (the fetcher
# would refuse them too: see the renderer tests above).
HOSTILE_IMAGES = """\
![relative escape](../../outside/secret.jpg) ![absolute](file://{outside}/secret.jpg)
<img alt="raw" src="../../outside/secret.jpg"> <img alt="abs" src="file://{outside}/secret.jpg">
![symlinked file](beta/link.jpg) ![symlinked folder](beta/outdir/secret.jpg)
<img alt="net" src="{net}/img.png"> ![net md]({net_localhost}/md.png)
<img alt="tls" src="{net_tls}/tls.png"> <img alt="pr" src="//127.0.0.1:{port}/pr.png">
"""

EVIL_SVG = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
  width="60" height="20">
  <image href="file://{outside}/secret.jpg" width="10" height="10"/>
  <image xlink:href="../../../outside/secret.jpg" width="10" height="10"/>
  <image href="{net}/svg.png" width="10" height="10"/>
  <use href="../../../outside/secret.svg#t"/>
</svg>"""

HOSTILE_CSS = """\
@import url("../../../outside/evil.css");
@import url("file://{outside}/evil.css");
@import url("{net}/import.css");
@import url("local.css");
@font-face {{ font-family: Leak; src: url("file://{outside}/secret.ttf"); }}
@font-face {{ font-family: Leak2; src: url("../../../outside/secret.ttf"); }}
@font-face {{ font-family: Net; src: url("{net}/font.woff"); }}
body {{ background-image: url("{net}/bg.png"); }}
h2::after {{ content: url("../../../outside/secret.jpg"); }}
.note p {{ font-family: Leak, Leak2, Net, serif; }}
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One project carrying every attack, built once with real worker processes."""
    base = tmp_path_factory.mktemp("hostile")
    root = base / "basic"
    shutil.copytree(FIXTURE, root)
    # Provenance embeds the notes' own text as inert files, attack strings included; these
    # tests are about what rendering makes of them, so the attachments are switched off here
    # (tests/test_e2e.py checks the provenance attachments and their handling filter).
    for audience in (root / "styles").glob("*/audience.yaml"):
        audience.write_text(audience.read_text() + "provenance: false\n")
    outside = secrets_outside(base)
    listener = Listener()
    fill = {"outside": outside, "port": listener.port, "net": listener.url("")[:-1],
            "net_localhost": listener.url("", "localhost")[:-1],
            "net_tls": listener.url("", scheme="https")[:-1]}
    beta = root / "sources" / "beta"
    (beta / "control.jpg").write_bytes(jpeg(CONTROL))
    (beta / "link.jpg").symlink_to(outside / "secret.jpg")
    (beta / "outdir").symlink_to(outside, target_is_directory=True)
    (beta / "evil.svg").write_text(EVIL_SVG.format(**fill))
    (beta / "xxe.svg").write_text(
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{outside}/secret.txt">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="90" height="20"><text y="15">&x;</text>'
        "</svg>")
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    (beta / "laughs.svg").write_text(
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e0 "lol">{entities}]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="90" height="20"><text y="15">&e9;'
        "</text></svg>")
    note = write_note(root, "beta", "20-hostile.md",
                      HOSTILE_BODY.format(**fill) + "\nMarked. [[HX-01]] [@law-a]\n",
                      title="Title {{ 7 * 7 }} {% if true %}JINJA-TITLE{% endif %}")
    note.write_text(note.read_text().replace("order: 50\n", (
        "order: 50\nclaims:\n  - id: HX-01\n"
        "    text: \"<b>ESCAPED-CLAIM</b> <img src='../../outside/secret.jpg'> {{ 6 * 7 }}\"\n"
        "    credibility: 3\n    evidence: [{ref: law-a, stance: supports}]\n"), 1))
    refs = root / "sources" / "references.yaml"
    refs.write_text(refs.read_text().replace(
        'title: "Law Alpha"', 'title: "Law Alpha <link rel=attachment href=secret.txt>"', 1))
    styles = root / "styles" / "study-group"
    (styles / "style.css").write_text(HOSTILE_CSS.format(**fill))
    (styles / "local.css").write_text('body::before { content: "LOCAL-IMPORT-OK"; }\n')
    images = write_note(root, "beta", "30-images.md", HOSTILE_IMAGES.format(**fill),
                        title="Hostile images")
    with pytest.raises(BriefgenError) as refused:
        load_project(root)
    images.unlink()
    results = build(load_project(root), root / "output", BuildOptions(
        audiences=["study-group"], jobs=2))
    connections = listener.stop()
    pdfs = {r.area: (root / "output" / "study-group" / f"{r.area}.pdf").read_bytes()
            for r in results if r.status == "built"}
    return {"root": root, "results": {r.area: r for r in results}, "pdfs": pdfs,
            "connections": connections, "refused": refused.value.diagnostics}


def test_hostile_images_in_notes_are_located_errors(hostile):
    """Every image a note may not show stops the build before rendering, at its line."""
    found = {(d.location.line, d.message) for d in hostile["refused"]
             if d.location.file == "sources/beta/30-images.md"}
    messages = "\n".join(sorted(m for _, m in found))
    for expected in ("image '../../outside/secret.jpg' is outside the project",
                     "image 'beta/link.jpg' points outside the project",
                     "image 'beta/outdir/secret.jpg' points outside the project",
                     "/img.png' is not a file in the project",
                     "/md.png' is not a file in the project",
                     "/tls.png' is not a file in the project",
                     "image '//127.0.0.1:"):
        assert expected in messages, (expected, messages)
    assert "file://" in messages and len(found) == 10
    assert all(line is not None for line, _ in found)


def test_hostile_project_builds_and_no_secret_reaches_any_pdf(hostile):
    assert {a: r.status for a, r in hostile["results"].items()} == {
        "alpha": "built", "beta": "built"}, [r.message for r in hostile["results"].values()]
    for data in hostile["pdfs"].values():
        found = haystack(data)
        assert SECRET not in found
        assert pypdf.PdfReader(io.BytesIO(data)).attachments == {}


def test_positive_controls_prove_the_detectors_work(hostile):
    beta = hostile["pdfs"]["beta"]
    assert CONTROL in haystack(beta)                    # an allowed image is embedded
    assert "LOCAL-IMPORT-OK" in pdf_text(beta)          # an allowed @import is applied


def test_no_network_connection_is_ever_made(hostile):
    assert hostile["connections"] == 0


def test_blocked_resources_are_reported_per_pack(hostile):
    beta = "\n".join(hostile["results"]["beta"].blocked)
    for expected in ("outside/secret.jpg (outside the project)",
                     "outside/evil.css (outside the project)",
                     "outside/secret.ttf (outside the project)",
                     "/svg.png (scheme 'http:'", "/import.css (scheme 'http:'",
                     "/bg.png (scheme 'http:'", "/font.woff (scheme 'http:'"):
        assert expected in beta, (expected, beta)
    # The stylesheet is parsed once per worker; every pack still reports what it refused.
    alpha = "\n".join(hostile["results"]["alpha"].blocked)
    assert "outside/evil.css (outside the project)" in alpha
    assert "/import.css (scheme 'http:'" in alpha


def test_scripts_handlers_and_javascript_links_never_reach_the_pdf(hostile):
    found = haystack(hostile["pdfs"]["beta"])
    for bad in ("SCRIPT-RAN-1", "ONERROR-RAN-2", "JS-LINK-4", "alert(", "/JavaScript", "/JS ",
                "javascript:", "JaVaScRiPt:"):
        assert bad not in found, bad


def test_jinja_in_notes_and_titles_is_printed_literally(hostile):
    text = pdf_text(hostile["pdfs"]["beta"])
    assert "{{ 7 * 7 }}" in text
    assert "{% for x in range(3) %}LOOP{% endfor %}" in text.replace("\n", " ")
    assert "LOOPLOOP" not in text and "uid=" not in text
    assert "Title {{ 7 * 7 }} {% if true %}JINJA-TITLE{% endif %}" in text


def test_markup_in_front_matter_and_references_is_escaped_text(hostile):
    text = pdf_text(hostile["pdfs"]["beta"])
    assert "<b>ESCAPED-CLAIM</b>" in text and "{{ 6 * 7 }}" in text
    assert "Law Alpha <link rel=attachment href=secret.txt>" in text.replace("\n", " ")


def test_symlinked_note_and_config_outside_the_project_are_refused(basic_project, tmp_path):
    outside = secrets_outside(tmp_path)
    (basic_project / "sources" / "beta" / "20-link.md").symlink_to(outside / "secret-note.md")
    refs = basic_project / "sources" / "references.yaml"
    (outside / "refs.yaml").write_text(refs.read_text())
    refs.unlink()
    refs.symlink_to(outside / "refs.yaml")
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    messages = [d.format() for d in info.value.diagnostics]
    assert any(m.startswith("sources/beta/20-link.md: error: points outside the project")
               for m in messages), messages
    assert any(m.startswith("sources/references.yaml: error: points outside the project")
               for m in messages), messages
    assert SECRET not in str(info.value)


def test_audience_files_linked_outside_fail_that_audience_only(basic_project, tmp_path):
    outside = secrets_outside(tmp_path)
    templates = basic_project / "styles" / "restricted" / "templates"
    templates.mkdir()
    (templates / "cover.html.j2").symlink_to(outside / "secret.txt")
    results = build(load_project(basic_project), basic_project / "output", BuildOptions(
        areas=["beta"]))
    status = {r.audience: r for r in results}
    assert status["study-group"].status == "built"
    assert status["restricted"].status == "failed"
    (problem,) = status["restricted"].problems
    assert problem.format() == (
        "styles/restricted/templates/cover.html.j2: error: points outside the project "
        "(a symbolic link) [link]\n    hint: copy the file here, or move it; briefgen reads "
        "only plain files of the project (no links), so each text has the handling of the "
        "folder it really lives in")
    assert not (basic_project / "output" / "restricted" / "beta.pdf").exists()
