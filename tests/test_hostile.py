"""Hostile input and failure safety: nothing leaks, nothing is lost, every error is clear.

Note authors are not trusted (SECURITY.md). Every attack here is checked where it would do
harm: in the PDF bytes (raw, every decompressed stream, the extracted text, the attachments),
on a loopback listener that must see zero connections, and in the build's exit code and
messages. Each leak check has a positive control, a file inside the project carrying its own
marker, to prove the check would notice an embedded file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pypdf
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefgen import markup
from briefgen.build import atomic_write, build, remove_partial_writes
from briefgen.errors import BriefgenError
from briefgen.pdf import BlockedResource, PackFailure, Renderer, contained_read
from briefgen.sources import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
SECRET = "SECRET-CANARY-7f3a9c"     # only ever in files outside the project
CONTROL = "CONTROL-CANARY-51e2d0"   # in a file inside the project: the detector must see it
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


# --- helpers ----------------------------------------------------------------------------------


def jpeg(marker: str) -> bytes:
    """A tiny JPEG whose comment segment holds `marker`; PDFs embed JPEGs byte for byte."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "JPEG")
    data, comment = buffer.getvalue(), marker.encode()
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


def haystack(data: bytes) -> str:
    """Everything a reader could get out of a PDF: raw bytes, every stream decompressed,
    page text, metadata and attachments."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    parts = [data.decode("latin-1"), str(reader.metadata)]
    parts += [page.extract_text() for page in reader.pages]
    for name, contents in reader.attachments.items():
        parts.append(name)
        parts += [c.decode("latin-1") for c in contents]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - free or odd objects: the raw bytes cover them
            continue
        if isinstance(obj, pypdf.generic.StreamObject):
            try:
                parts.append(obj.get_data().decode("latin-1"))
            except Exception:  # noqa: BLE001
                continue
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def write_note(root: Path, area: str, name: str, body: str, title: str = "Hostile note") -> Path:
    path = root / "sources" / area / name
    path.write_text(f"---\ntitle: {json.dumps(title)}\norder: 50\n---\n{body}\n")
    return path


def add_audience(root: Path, name: str, css: str) -> Path:
    folder = root / "styles" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "audience.yaml").write_text(f"title: {name} readers\nclearance: CLEAR\n")
    (folder / "style.css").write_text(css)
    return folder


def run_cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=timeout, check=False)


class Listener:
    """A loopback TCP listener that counts connections; it stops itself after `lifetime`."""

    def __init__(self, lifetime: float = 180) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.connections += 1
            conn.close()
        self.sock.close()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/{path}"

    def stop(self) -> int:
        time.sleep(0.3)  # let a late connection attempt arrive before counting
        self._stop.set()
        self._thread.join(5)
        return self.connections


def secrets_outside(base: Path) -> Path:
    """Files next to (not inside) the project, each holding the secret marker."""
    outside = base / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.jpg").write_bytes(jpeg(SECRET))
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "secret.ttf").write_text(f"{SECRET}\n")
    (outside / "evil.css").write_text(f'body::after {{ content: "{SECRET}"; }}\n')
    (outside / "secret.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="20">'
        f'<text id="t" x="0" y="15">{SECRET}</text></svg>')
    (outside / "secret-note.md").write_text(f"---\ntitle: {SECRET}\n---\n{SECRET}\n")
    return outside


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
    results = build(load_project(root), root / "output", audiences=["study-group"], jobs=2)
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
                     "image 'beta/link.jpg' is outside the project",
                     "image 'beta/outdir/secret.jpg' is outside the project",
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
    results = build(load_project(basic_project), basic_project / "output", areas=["beta"])
    status = {r.audience: r for r in results}
    assert status["study-group"].status == "built"
    assert status["restricted"].status == "failed"
    assert status["restricted"].message == (
        "styles/restricted/templates/cover.html.j2 points outside the project (symlink?); "
        "audience styles and templates must live inside the project")
    assert not (basic_project / "output" / "restricted" / "beta.pdf").exists()


# --- parsing: hostile YAML and oversized files --------------------------------------------------


@pytest.mark.parametrize("target", ["briefgen.yaml", "sources/references.yaml",
                                    "styles/study-group/audience.yaml"])
def test_python_object_tags_never_run(basic_project, target):
    marker = basic_project.parent / "PWNED"
    path = basic_project / target
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    if target.endswith("references.yaml"):
        path.write_text(path.read_text().replace('title: "Law Alpha"', f"title: {payload}", 1))
    else:
        path.write_text(path.read_text() + f"\nsubtitle: {payload}\n")
    proc = run_cli("check", cwd=basic_project)
    assert proc.returncode == 1 and not marker.exists()
    assert f"{target}:" in proc.stderr and "invalid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_alias_bomb_under_the_alias_count_is_refused_fast(basic_project, yaml_parser):
    # 7 levels x 9 aliases = 63 aliases (under the count cap) standing for 9**8 values.
    lines = ["- id: bomb", "  title: bomb", "  custom: {reliability: A, descriptor: d}",
             "  note: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"  n{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    refs = basic_project / "sources" / "references.yaml"
    refs.write_text(refs.read_text() + "\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    assert time.perf_counter() - started < 5
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("sources/references.yaml:")
    assert "aliases expand to more than 10,000 values" in message
    assert "hint: briefgen files do not need YAML aliases" in message


@pytest.mark.parametrize("value, expected", [
    ("2025-02-30", "cannot read the value '2025-02-30': day is out of range for month"),
    ("9" * 5000, "the number has too many digits"),
    ("!!float not-a-number", "cannot read the value 'not-a-number'"),
    ("!!binary aGVsbG8=", "the tag !!binary is not supported"),
    ("!!set {a, b}", "the tag !!set is not supported"),
    # PyYAML builds the string and briefgen refuses it; libyaml refuses the escape itself.
    ('"\\ud800 lone surrogate"', ("escaped lone surrogate", "invalid Unicode character escape")),
    ("&x [*x]", "recursive"),
])
def test_impossible_yaml_values_are_located_errors(basic_project, value, expected,
                                                  yaml_parser):
    config = basic_project / "briefgen.yaml"
    config.write_text(config.read_text().replace("as_of: 2025-03-01", f"as_of: {value}"))
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("briefgen.yaml:4: error: invalid YAML: "), message
    assert any(text in message for text in ([expected] if isinstance(expected, str)
                                            else expected)), message
    assert "hint: " in message


@pytest.mark.parametrize("target, old, new", [
    ("sources/alpha/10-facts.md", "    credibility: 1\n", "    credibility: seven\n"),
    ("sources/alpha/_area.md", "order: 1", "order: first"),
    ("briefgen.yaml", "as_of: 2025-03-01", "as_of: yesterday"),
    ("sources/beta/10-only.md", "title: Only note", "title: Only note\nhandling: PURPLE"),
    ("sources/beta/10-only.md", "title: Only note", "title: ''"),
    ("sources/references.yaml", 'title: "Law Alpha"', "title: {a: b}"),
    ("sources/references.yaml", "primary: true", "primary: maybe-not"),
    ("styles/study-group/audience.yaml", "clearance: CLEAR", "clearance: [CLEAR]"),
    ("sources/beta/10-only.md", "credibility: 3", "credibility: 3\n    evidence: seven"),
    ("sources/beta/10-only.md", "---\ntitle", "--- x\ntitle"),
    ("sources/beta/10-only.md", "title: Only note\nclaims:", "- a list\n- not a mapping"),
    ("sources/beta/10-only.md", "title: Only note", "title: Only note\ntitle: again"),
    ("sources/beta/10-only.md", "title: Only note", "title: \x1b"),
])
def test_every_loading_error_has_a_line_and_a_hint(basic_project, target, old, new,
                                                   yaml_parser):
    path = basic_project / target
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r}"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    for diagnostic in info.value.diagnostics:
        assert diagnostic.location.file == target
        assert diagnostic.location.line is not None, diagnostic.format()
        assert diagnostic.hint, diagnostic.format()
        assert "Traceback" not in diagnostic.format()


def test_50_mb_note_is_refused_fast_without_reading_it(basic_project):
    code = textwrap.dedent("""
        import resource, sys, time
        from pathlib import Path
        from briefgen.errors import BriefgenError
        from briefgen.sources import load_project
        started = time.perf_counter()
        try:
            load_project(Path(sys.argv[1]))
            print("LOADED")
        except BriefgenError as exc:
            print(exc)
        print("SECONDS", time.perf_counter() - started)
        print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)

    def load() -> tuple[str, float, int]:
        proc = subprocess.run([sys.executable, "-c", code, str(basic_project)], env=ENV,
                              capture_output=True, text=True, timeout=120, check=True)
        lines = proc.stdout.splitlines()
        return (proc.stdout, float(lines[-2].split()[1]), int(lines[-1].split()[1]))

    _, _, baseline_kb = load()
    note = basic_project / "sources" / "beta" / "20-huge.md"
    with note.open("w") as handle:
        handle.write("---\ntitle: huge\n---\n")
        chunk = "All work and no play. " * 4096
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)
    output, seconds, maxrss_kb = load()
    assert "sources/beta/20-huge.md: error: file is 52.4 MB, over the 2 MiB limit" in output
    assert "hint: split it into several notes" in output
    assert seconds < 5
    assert maxrss_kb - baseline_kb < 20 * 1024  # the 50 MB were never read into memory


def test_pipes_and_folders_named_like_notes_are_errors_not_hangs(basic_project):
    os.mkfifo(basic_project / "sources" / "beta" / "20-pipe.md")
    (basic_project / "sources" / "beta" / "30-folder.md").mkdir()
    proc = run_cli("check", cwd=basic_project, timeout=60)
    assert proc.returncode == 1
    assert "sources/beta/20-pipe.md: error: not a regular file" in proc.stderr
    assert "sources/beta/30-folder.md: error: not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("unit", ["[@a", "[[A]] ", "![", "<img ", "[@law-a] "])
def test_marker_scans_stay_linear_on_hostile_notes(basic_project, unit):
    body = unit * ((2 * 1024 * 1024 - 100) // len(unit))
    write_note(basic_project, "beta", "20-hostile.md", body)
    started = time.perf_counter()
    with contextlib.suppress(BriefgenError):
        load_project(basic_project)
    assert time.perf_counter() - started < 15


# --- faults: each failing pack fails alone, with a clear message --------------------------------


def test_faulty_packs_fail_alone_with_exit_code_and_summary(basic_project):
    root = basic_project
    add_audience(root, "slow", "body { column-count: 100000 }\n")       # never finishes
    add_audience(root, "huge", "body { font-size: 1e9px }\n")           # does not fit an int
    for name in ("restricted",):
        shutil.rmtree(root / "styles" / name)
    (root / "sources" / "alpha" / "30-restricted.md").unlink()
    write_note(root, "beta", "20-deep.md", "<div>" * 5000 + "deep" + "</div>" * 5000)
    previous = root / "output" / "slow" / "alpha.pdf"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"%PDF-1.7 previous good pack")
    started = time.perf_counter()
    proc = run_cli("build", "--timeout", "5", "--jobs", "2", cwd=root)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = proc.stderr[proc.stderr.index(" failed -> "):]
    assert "1 built, 5 failed" in proc.stderr
    assert ("failed: slow/alpha: timed out after 5 s and was stopped (the limit is set with "
            "--timeout)") in summary
    assert "failed: huge/alpha: layout failed: a size is too large to lay out" in summary
    assert "failed: study-group/beta: layout failed: the document is nested too deeply" in summary
    for pack in ("slow/beta", "huge/beta"):
        assert f"failed: {pack}: " in summary
    built = (root / "output" / "study-group" / "alpha.pdf").read_bytes()
    assert "Alpha area" in pdf_text(built)
    assert previous.read_bytes() == b"%PDF-1.7 previous good pack"  # not replaced
    assert not list(previous.parent.glob(".*.tmp"))                 # no half-written file
    assert elapsed < 90


def test_pathological_markdown_is_bounded_by_the_timeout(basic_project):
    # Python-Markdown is quadratic on unclosed brackets: HTML is rendered in the worker, so
    # the per-pack timeout covers it, and the other packs build.
    write_note(basic_project, "beta", "20-brackets.md", "[" * 300_000)
    results = build(load_project(basic_project), basic_project / "output", timeout=5,
                    audiences=["study-group"], jobs=2)
    status = {r.area: r for r in results}
    assert status["alpha"].status == "built"
    assert status["beta"].status == "failed"
    assert status["beta"].message.startswith("timed out after 5 s")


def test_memory_limit_stops_a_runaway_pack_and_the_others_build(basic_project):
    add_audience(basic_project, "hog", "p { margin-top: 1e9px }\n")  # endless pages
    results = build(load_project(basic_project), basic_project / "output", areas=["beta"],
                    audiences=["study-group", "hog"], jobs=2, timeout=90, memory_limit_mb=520)
    status = {r.audience: r for r in results}
    assert status["study-group"].status == "built"
    assert status["hog"].status == "failed"
    assert "out of memory" in status["hog"].message
    assert status["hog"].seconds < 60


# --- atomic writes under SIGKILL -----------------------------------------------------------------

WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from briefgen.build import atomic_write
    if sys.argv[2] == "pause":
        def pause(fd):
            print("WRITTEN", flush=True)
            time.sleep(60)
        os.fsync = pause
    print("START", flush=True)
    atomic_write(Path(sys.argv[1]), b"%PDF-new " + b"x" * int(sys.argv[3]))
    print("DONE", flush=True)
""")


def writer(target: Path, mode: str, size: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(target), mode, str(size)],
                            stdout=subprocess.PIPE, text=True, env=ENV)


def test_kill_between_write_and_rename_keeps_the_previous_pdf(tmp_path):
    target = tmp_path / "pack.pdf"
    old = b"%PDF-old complete"
    atomic_write(target, old)
    proc = writer(target, "pause", 20_000_000)
    assert proc.stdout.readline().strip() == "START"
    assert proc.stdout.readline().strip() == "WRITTEN"  # all data written, not yet renamed
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    assert target.read_bytes() == old
    leftovers = list(tmp_path.glob(".pack.pdf.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0
    remove_partial_writes(target)
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]


def test_written_files_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    atomic_write(tmp_path / "new.pdf", b"%PDF")
    assert (tmp_path / "new.pdf").stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path / "kept.pdf").write_bytes(b"old")
    (tmp_path / "kept.pdf").chmod(0o640)
    atomic_write(tmp_path / "kept.pdf", b"%PDF")
    assert (tmp_path / "kept.pdf").stat().st_mode & 0o777 == 0o640


def test_kill_at_any_moment_leaves_the_old_or_the_new_file_never_a_mix(tmp_path):
    target = tmp_path / "pack.pdf"
    old = b"%PDF-old complete"
    size = 32_000_000
    new = b"%PDF-new " + b"x" * size
    outcomes = set()
    for delay in (0.0, 0.05, 0.15, 0.4, 2.0):
        atomic_write(target, old)
        proc = writer(target, "run", size)
        assert proc.stdout.readline().strip() == "START"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        data = target.read_bytes()
        assert data in (old, new)
        outcomes.add(data == new)
        remove_partial_writes(target)
    assert True in outcomes  # the last, slow kill let the write finish


def test_killing_a_real_build_never_leaves_a_broken_pdf(basic_project):
    out = basic_project / "output"
    results = build(load_project(basic_project), out, jobs=2)
    before = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    assert len(before) == 4 and all(r.status == "built" for r in results)
    proc = subprocess.Popen([sys.executable, "-m", "briefgen", "build", "--force", "--jobs", "2"],
                            cwd=basic_project, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stdout.readline().startswith("built")  # one pack written, others in flight
    os.killpg(proc.pid, signal.SIGKILL)                 # the parent and its workers
    proc.wait(30)
    proc.stdout.close()
    for path, old in before.items():
        data = path.read_bytes()
        assert data == old or len(pypdf.PdfReader(io.BytesIO(data)).pages) > 0
    json.loads((out / "manifest.json").read_text())
    rebuilt = build(load_project(basic_project), out, jobs=2)
    assert all(r.status in ("built", "unchanged") for r in rebuilt)
    assert not list(out.rglob(".*.tmp"))


# --- properties: any input gives HTML/PDF or a clean BriefgenError ------------------------------

TOKENS = st.sampled_from([
    "[[", "]]", "[@", "]", "[", "(", ")", "<", ">", "{{", "}}", "{%", "%}", "*", "_", "`", "#",
    "|", "\n", "\n\n", "---", "> ", "- ", "1. ", "<script>", "</script>", "javascript:",
    "<img src=x onerror=alert(1)>", "<a href='javascript:alert(1)'>", "&", "&#0;", "\x00",
    "\ud7ff", "\u202e", "<div>", "</div>", "[[AL-01]]", "[@law-a, p. 1]", "![a](b.png)",
    "<svg><image href='file:///etc/passwd'/></svg>", "<style>", "<!--", "-->", "\t", "\\",
])
BODIES = st.lists(st.one_of(TOKENS, st.text(max_size=12)), max_size=40).map("".join)


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


@settings(max_examples=60, deadline=None)
@given(BODIES)
def test_markdown_bodies_always_give_safe_html(body):
    html = markup.render(body, claim=lambda cid: f'<a href="#claim-{cid}">{cid}</a>',
                         cite=lambda items: "[cite]")
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in markup.ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in markup.ALLOWED_ATTRIBUTES.get(tag, ()), (tag, name)
            if name in ("href", "src"):
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto"), (tag, name, value)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=20), st.dates(),
    st.sampled_from(["CLEAR", "AMBER", "RED", "law-a", "supports", "judgment", "likely", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["id", "text", "ref", "stance", "credibility", "kind",
                                     "evidence", "title", "x"]), inner, max_size=4)),
    max_leaves=12)
KEYS = st.sampled_from(["title", "order", "handling", "claims", "summary", "unknown", "1"])
FRONT = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=5).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(max_size=80),
    st.lists(st.sampled_from(["title: t", "claims:", "  - id: X-1", "    text: t",
                              "    evidence: [{ref: law-a, stance: supports}]", "&a x",
                              "*a", "!!str", "? [a]", ": b", "'", '"', "{", "- ", "\t"]),
             max_size=8).map("\n".join))


def test_front_matter_gives_a_project_or_a_clean_error(basic_project):
    from briefgen.pack import assemble
    from briefgen.render import render_html

    note = basic_project / "sources" / "beta" / "20-generated.md"

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(FRONT, BODIES)
    def check(front, body):
        note.write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8",
                        errors="surrogatepass")
        try:
            project = load_project(basic_project)
        except BriefgenError as exc:
            assert exc.diagnostics and all(d.location.file for d in exc.diagnostics)
            return
        for area in project.areas:
            for audience in project.audiences.values():
                pack = assemble(project, area, audience)
                if pack is not None:
                    with contextlib.suppress(BriefgenError):
                        assert isinstance(render_html(pack), str)

    check()


def test_generated_notes_render_to_pdf_or_fail_alone(basic_project):
    note = basic_project / "sources" / "beta" / "20-generated.md"
    out = basic_project / "output"

    @settings(max_examples=5, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(max_size=30), BODIES)
    def check(title, body):
        note.write_text(f"---\ntitle: {json.dumps(title)}\n---\n{body}\n", encoding="utf-8",
                        errors="surrogatepass")
        try:
            project = load_project(basic_project)
        except BriefgenError:
            return
        results = build(project, out, areas=["beta"], audiences=["study-group"], force=True,
                        in_process=True)
        (result,) = results
        if result.status == "built":
            assert pypdf.PdfReader(out / "study-group" / "beta.pdf").pages
        else:
            assert result.status == "failed" and result.message

    check()


# --- audience templates: sandboxed, and only the audience's own data in reach --------------


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__[1].__subclasses__()",
    "pack.__class__",
    "cycler.__init__.__globals__",
    "pack.references.clear()",
    "pack.project.root.read_text()",
    "pack.audience.directory.joinpath('../../briefgen.yaml').read_text()",
    "project.parse_file('/etc/passwd')",
    "project.model_validate_json('{}')",
])
def test_a_template_cannot_reach_python_internals(basic_project, expression):
    override = basic_project / "styles" / "study-group" / "templates"
    override.mkdir(parents=True, exist_ok=True)
    (override / "cover.html.j2").write_text(
        '<section class="cover" id="cover">\n<h1>{{ area.title }}</h1>\n'
        f"<p>{{{{ {expression} }}}}</p>\n</section>\n")
    results = build(load_project(basic_project), basic_project / "output", areas=["alpha"],
                    audiences=["study-group"])
    (result,) = results
    assert result.status == "failed"
    # Named with the template's file and line, and what the sandbox allows.
    assert result.message.startswith(
        "template failed: styles/study-group/templates/cover.html.j2:3: "), result.message
    assert "unsafe" in result.message or "undefined" in result.message, result.message
    assert not (basic_project / "output" / "study-group" / "alpha.pdf").exists()


def test_a_template_walking_the_pack_finds_no_withheld_note(basic_project):
    """The pack a template gets holds only what its audience may see, so even a template that
    dumps every note, claim and reference it can reach prints no withheld canary."""
    override = basic_project / "styles" / "study-group" / "templates"
    override.mkdir(parents=True, exist_ok=True)
    (override / "cover.html.j2").write_text(
        '<section class="cover" id="cover"><h1>{{ area.title }}</h1>\n'
        "{% for a in pack.project.areas %}{% for n in a.notes %}<p>{{ n.meta.title }} "
        "{{ n.body }}{% for c in n.claims %} {{ c.id }}{% endfor %}</p>{% endfor %}{% endfor %}\n"
        "{% for n in pack.area.notes %}<p>{{ n.body }}</p>{% endfor %}\n"
        "{% for k, r in pack.project.references.items() %}<p>{{ k }} {{ r.title }}</p>"
        "{% endfor %}\n</section>\n")
    results = build(load_project(basic_project), basic_project / "output", areas=["alpha"],
                    audiences=["study-group"])
    assert [r.status for r in results] == ["built"], [r.message for r in results]
    text = "".join(page.extract_text() for page in
                   pypdf.PdfReader(basic_project / "output/study-group/alpha.pdf").pages)
    assert "Fact" in text  # the dump did run: visible notes are there
    for canary in ("CANARY-CLAIM-9034", "CANARY-TITLE-5521", "CANARY-BODY-3310",
                   "CANARY-REF-7781"):
        assert canary not in text
