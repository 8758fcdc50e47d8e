"""`briefgen serve`: the live preview, end to end.

Each test starts the real server in a subprocess on a copy of the fixture project (port 0,
loopback) and always stops it. The browser test drives Debian's Chromium through Playwright:
it opens a pack, edits a note on disk and waits for the page to reload itself, breaks the note
and waits for the error overlay, then fixes it and waits for the preview to recover.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from briefgen.errors import Diagnostic, Location
from briefgen.serve.pages import overlay

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/)")


class Server:
    """A `briefgen serve --port 0` subprocess, its output collected, its URL parsed."""

    def __init__(self, project: Path, *options: str) -> None:
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "briefgen", "serve", "-C", str(project), "--port", "0",
             *options], cwd=project,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for stream, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()
        try:
            match = URL.search(self.wait_for(URL.pattern, timeout=120))
        except BaseException:
            self.stop()
            raise
        assert match is not None
        self.url, self.port = match.group(1), int(match.group(2))

    @staticmethod
    def _pump(stream: io.TextIOBase, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)

    def wait_for(self, pattern: str, timeout: float = 60, start: int = 0) -> str:
        """The first stdout line from index `start` on matching `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout[start:]:
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None and not any(
                    re.search(pattern, line) for line in self.stdout[start:]):
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r}; stdout:\n{''.join(self.stdout)}"
                             f"\nstderr:\n{''.join(self.stderr)}")

    def get(self, path: str, host: str | None = None) -> tuple[int, bytes, dict[str, str]]:
        """A raw GET: the path is sent exactly as given (no client-side normalisation)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Host": host} if host else {}
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "_briefgen/status.json", timeout=60) as response:
            return json.load(response)

    def stop(self) -> int:
        """Ctrl-C, as a person would; kill if it does not stop."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.1)  # let the pump threads drain the pipes
        return self.proc.returncode


@pytest.fixture
def serve(basic_project: Path):
    servers: list[Server] = []

    def start(*options: str) -> Server:
        servers.append(Server(basic_project, *options))
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp shows them) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, _, hex_port = fields[1].partition(":")
                if int(hex_port, 16) == port and fields[3] == "0A":   # 0A: LISTEN
                    found.add(address)
    return found


def test_serves_only_its_roots_and_only_on_loopback(serve, basic_project):
    (basic_project / "sources" / "leak.txt").symlink_to(basic_project / "briefgen.yaml")
    (basic_project / "sources" / "beta" / "pic.png").write_bytes(
        (Path(__file__).parent / "fixtures" / "pixel.png").read_bytes())
    with (basic_project / "sources" / "beta" / "10-only.md").open("a") as note:
        note.write('\n![A red square](pic.png "Figure 1: a square")\n')
    server = serve()
    if Path("/proc/net/tcp").exists():
        assert _listening_addresses(server.port) == {"0100007F"}   # 127.0.0.1 only

    status, body, _ = server.get("/")
    assert status == 200
    assert b'href="/preview/study-group/alpha.html"' in body
    assert b"/preview/restricted/" not in body     # one audience at a time: the default one

    status, body, headers = server.get("/preview/study-group/alpha.html")
    assert status == 200 and b"SOURCED-PRIMARY-CLAIM" in body
    assert b'href="/assets/templates/base.css"' in body and b"/_briefgen/live.js" in body
    assert b"CANARY" not in body                     # the clearance rules hold in the preview
    assert "script-src 'self'" in headers["Content-Security-Policy"]

    status, body, _ = server.get("/preview/study-group/beta.html")
    assert b'src="beta/pic.png"' in body      # relative to sources/, as in the PDF
    for path, kind in (("/preview/study-group/beta/pic.png", "image/png"),
                       ("/assets/templates/base.css", "text/css"),
                       ("/assets/fonts/NotoSerif-Regular.ttf", "font/ttf")):
        status, body, headers = server.get(path)
        assert (status, headers["Content-Type"].split(";")[0]) == (200, kind), path
        assert body
    for path in ("/assets/../../etc/passwd",
                 "/assets/templates/../../../../../../etc/passwd",
                 "/assets/templates/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "/assets/templates/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                 "/assets/sources/%2e%2e/briefgen.yaml",
                 "/assets/sources/..%5c..%5cbriefgen.yaml",
                 "/assets/sources/%252e%252e/briefgen.yaml",
                 "/assets/sources/leak.txt",                  # symlink out of sources/
                 "/assets/sources/alpha/%00.md",
                 "/assets/%2e%2e/briefgen.yaml",
                 "/assets/etc/passwd",
                 "/assets//etc/passwd",
                 "/preview/study-group/%2e%2e/%2e%2e/briefgen.yaml",
                 "/preview/study-group/../../briefgen.yaml",
                 "/preview/%2e%2e/%2e%2e.html",
                 "/../../../../etc/passwd",
                 "/etc/passwd",
                 # Source files are never served as they are, whatever the audience.
                 "/assets/sources/references.yaml",
                 "/assets/sources/alpha/10-facts.md",
                 "/assets/styles/study-group/audience.yaml",
                 "/preview/study-group/alpha/10-facts.md",
                 "/preview/study-group/alpha/30-restricted.md",
                 "/preview/study-group/references.yaml",
                 "/preview/restricted/alpha/30-restricted.md",
                 "/preview/restricted/alpha.html",           # not the audience previewed
                 "/preview/study-group/leak.txt"):
        status, body, _ = server.get(path)
        assert status in (403, 404), path
        assert b"Fixture briefing" not in body and b"root:" not in body, path
        assert b"CANARY" not in body, path

    status, _, _ = server.get("/", host="attacker.example")     # DNS rebinding
    assert status == 421
    assert server.status()["ok"] is True

    assert server.stop() == 0                                   # Ctrl-C: clean exit
    assert "Traceback" not in "".join(server.stderr)
    assert any("stopped" in line for line in server.stdout)


def test_error_overlay_is_escaped():
    html = overlay([Diagnostic(Location("sources/<b>x</b>.md", 3), "bad <script>alert(1)</script>",
                               "quote the \"value\" & retry", handling="CLEAR")])
    assert "sources/&lt;b&gt;x&lt;/b&gt;.md:3" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp; retry" in html


def test_starts_with_a_broken_project_and_recovers(serve, basic_project):
    note = basic_project / "sources" / "alpha" / "10-facts.md"
    good = note.read_text()
    note.write_text(good.replace("order: 10", "order: [10"))
    server = serve()
    assert server.status()["ok"] is False
    status, body, _ = server.get("/preview/study-group/alpha.html")
    assert status == 200
    assert b'id="briefgen-errors"' in body and b"sources/alpha/10-facts.md:4" in body
    before = server.status()["generation"]
    note.write_text(good)
    deadline = time.monotonic() + 60
    while server.status()["generation"] == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.status()["ok"] is True
    status, body, _ = server.get("/preview/study-group/alpha.html")
    assert b"SOURCED-PRIMARY-CLAIM" in body and b"briefgen-errors" not in body


def test_pdf_option_builds_after_each_change(serve, basic_project):
    server = serve("--pdf", "--audience", "study-group")
    server.wait_for(r"^pdf .*2 built", timeout=60)
    pdf = basic_project / "output" / "study-group" / "alpha.pdf"
    assert pdf.is_file() and not (basic_project / "output" / "restricted").exists()
    first = pdf.read_bytes()
    mark = len(server.stdout)
    note = basic_project / "sources" / "alpha" / "10-facts.md"
    note.write_text(note.read_text().replace("Audits found", "Auditors found"))
    server.wait_for(r"^pdf .*1 built, 1 unchanged", timeout=60, start=mark)
    assert pdf.read_bytes() != first


# CI sets BRIEFGEN_REQUIRE_BROWSER=1 so that a missing Chromium fails instead of skipping.
@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("BRIEFGEN_REQUIRE_BROWSER"),
                    reason="the browser test needs Debian's Chromium at /usr/bin/chromium "
                           "(apt-get install chromium; scripts/setup.sh installs it as root)")
def test_preview_reloads_itself_in_chromium(serve, basic_project, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    server = serve()
    note = basic_project / "sources" / "alpha" / "10-facts.md"
    good = note.read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1100, "height": 1400})
        try:
            page = browser.new_page()
            page.goto(server.url)
            page.click("text=Alpha area >> nth=0")
            expect(page).to_have_url(re.compile(r"/preview/study-group/alpha\.html$"))
            notes = page.locator("#note-10-facts")
            expect(notes).to_contain_text("The law requires registration")
            expect(page.locator("#caveats")).to_contain_text(
                "SOURCED-PRIMARY-CLAIM the law requires registration.")
            # base.css applied: its accent colour on headings, its bundled fonts loaded.
            page.wait_for_load_state("load")
            expect(page.locator("h2").first).to_have_css("color", "rgb(31, 58, 95)")
            expect(page.locator("html")).to_have_css("font-family", re.compile("Brief Serif"))
            assert page.evaluate("""async () => {
                await document.fonts.ready;
                return [...document.fonts].some(
                    f => f.family.includes('Brief Serif') && f.status === 'loaded');
            }""")
            page.screenshot(path=str(tmp_path / "preview.png"))

            # An edit on disk: the page reloads itself (a new document) and shows it.
            page.evaluate("window.briefgenMarker = 1")
            note.write_text(good.replace("Audits found compliance.",
                                         "Audits found LIVE-EDIT-4711 compliance."))
            expect(notes).to_contain_text("LIVE-EDIT-4711", timeout=30_000)
            assert page.evaluate("window.briefgenMarker === undefined")

            # Broken YAML: the overlay names file:line; the last good text stays behind it.
            note.write_text(good.replace("order: 10", "order: [10"))
            overlay_box = page.locator("#briefgen-errors")
            expect(overlay_box).to_be_visible(timeout=30_000)
            expect(overlay_box).to_contain_text("sources/alpha/10-facts.md:4")
            expect(overlay_box).to_contain_text("invalid YAML")
            page.screenshot(path=str(tmp_path / "overlay.png"))

            # Fixed: the overlay goes, the page shows the fixed text.
            note.write_text(good.replace("Audits found compliance.",
                                         "Audits found FIXED-9922 compliance."))
            expect(notes).to_contain_text("FIXED-9922", timeout=30_000)
            expect(overlay_box).to_have_count(0)
        finally:
            browser.close()


@pytest.mark.parametrize("body, where, expected", [
    ("<p>{{ area.title }</p>", "cover.html.j2:2", "template error: unexpected '}'"),
    ("<p>{{ pack.project.root.read_text() }}</p>", "cover.html.j2:2", "is unsafe"),
])
def test_preview_names_the_template_file_and_line(basic_project, body, where, expected):
    from briefgen.serve.pages import Preview

    templates = basic_project / "styles" / "study-group" / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "cover.html.j2").write_text(f'<section class="cover">\n{body}\n</section>\n')
    preview = Preview(basic_project)
    preview.refresh()  # loads the project, as the server does on start
    status, page = preview.page("study-group", "alpha")
    text = html.unescape(page.decode())
    assert status == 200
    assert f"styles/study-group/templates/{where}" in text, text[-1500:]
    assert expected in text


def test_preview_of_a_cleared_audience_and_only_that_one(serve):
    server = serve("--audience", "restricted")
    status, body, _ = server.get("/")
    assert b"/preview/restricted/alpha.html" in body and b"/preview/study-group/" not in body
    status, body, _ = server.get("/preview/restricted/alpha.html")
    assert status == 200 and b"CANARY-BODY-3310" in body     # cleared for AMBER: shown
    status, body, _ = server.get("/preview/study-group/alpha.html")
    assert status == 404 and b"SOURCED-PRIMARY-CLAIM" not in body


def test_watcher_skips_pipes_and_reads_large_files_by_metadata(basic_project, monkeypatch):
    """A FIFO in sources/ must not hang the watcher; a huge file is not read whole; a styles
    link out of the project is not followed."""
    from briefgen.serve import watch as serve_module
    from briefgen.serve.pages import Preview

    os.mkfifo(basic_project / "sources" / "alpha" / "pipe.md")
    big = basic_project / "sources" / "alpha" / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(serve_module.DIGEST_LIMIT * 4)   # sparse: large, costs nothing
    outside = basic_project.parent / "elsewhere"
    outside.mkdir()
    (outside / "secret.css").write_text("/* OUTSIDE-9911 */")
    (basic_project / "styles" / "study-group" / "linked").symlink_to(outside)
    read: list[Path] = []
    real = serve_module._bounded_digest
    monkeypatch.setattr(serve_module, "_bounded_digest",
                        lambda path: read.append(path) or real(path))
    preview = Preview(basic_project)
    done = threading.Event()
    threading.Thread(target=lambda: (preview.refresh(), done.set()), daemon=True).start()
    assert done.wait(30), "the watcher hung on a FIFO"
    names = {p.name for p in read}
    assert "pipe.md" not in names and "big.bin" not in names and "secret.css" not in names
    assert "10-facts.md" in names
    stats, _ = preview.watcher._stat_all()
    assert "sources/alpha/big.bin" in stats and "sources/alpha/pipe.md" not in stats
    assert not any("secret.css" in name for name in stats)


@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("BRIEFGEN_REQUIRE_BROWSER"),
                    reason="the browser test needs Debian's Chromium at /usr/bin/chromium")
def test_preview_fits_a_phone_without_scrolling_sideways(serve, tmp_path):
    """At 360 px the key tables (min-width 100 mm in base.css) once made the page scroll
    sideways; a wide table now scrolls inside itself."""
    from playwright.sync_api import sync_playwright

    server = serve()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            for width in (360, 1280):
                page = browser.new_page(viewport={"width": width, "height": 800})
                page.goto(server.url.rstrip("/") + "/preview/study-group/alpha.html")
                page.wait_for_load_state("load")
                assert page.locator("table.key-table").count() > 0
                overflow = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right
                                 > document.documentElement.clientWidth + 0.5)
                    .map(e => e.tagName + '.' + e.className)""")
                assert overflow == [], (width, overflow)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(tmp_path / f"preview-{width}.png"))
                page.close()
        finally:
            browser.close()
