"""The preview's HTTP side: a loopback server, strict headers, and one handler.

    /                                     index: every area of the previewed audience
    /preview/<audience>/<area>.html       the pack's HTML, with the preview layer
    /preview/<audience>/<path>            images the audience's packs show (sources/ is the
                                          PDF's base URL); no other file of sources/
    /assets/templates/ fonts/ styles/     the audience's stylesheets and their fonts and
                                          images, briefgen's base stylesheet and fonts
    /_briefgen/status.json live.js preview.css
                                          the generation (a long poll with ?seen=), the script
                                          that waits on it, and the preview's screen layout

Requests for other host names are refused (DNS rebinding); pages carry a strict
Content-Security-Policy and files a sandboxing one.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from briefgen import paths
from briefgen.pdf import BlockedResource, contained_read
from briefgen.serve.pages import FONT_TYPES, Preview, _safe_segment

LONG_POLL_SECONDS = 25.0   # a page's status request waits at most this long for a change
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml",
    ".webp": "image/webp", **FONT_TYPES,
}
STATIC = {"/_briefgen/live.js": ("live.js", "text/javascript; charset=utf-8"),
          "/_briefgen/preview.css": ("preview.css", "text/css; charset=utf-8")}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# A file opened on its own (an SVG, say) runs no script and reaches nothing.
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], preview: Preview, family: int) -> None:
        self.address_family = family
        self.preview = preview
        self.host_names = {"localhost", address[0].lower().strip("[]"),
                           socket.gethostname().lower()}
        super().__init__(address, PreviewHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            print(f"briefgen serve: request failed: {type(error).__name__}: {error}",
                  file=sys.stderr, flush=True)


def make_server(host: str, port: int, preview: Preview) -> PreviewServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return PreviewServer((host.strip("[]"), port), preview, family)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "briefgen-serve"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the page polls twice a second."""

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def _handle(self, send_body: bool) -> None:
        if not self._host_allowed():
            self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host name\n",
                       "text/plain; charset=utf-8", send_body)
            return
        preview = self.server.preview
        raw = urlsplit(self.path).path
        segments = [unquote(s, errors="replace") for s in raw.split("/")[1:]] \
            if raw.startswith("/") else []
        if raw in ("/", "/index.html"):
            self._send(200, preview.index(), "text/html; charset=utf-8", send_body, page=True)
        elif raw == "/_briefgen/status.json":
            query = parse_qs(urlsplit(self.path).query)
            seen = query.get("seen", [""])[0]
            self._send(200, json.dumps(preview.status(seen, LONG_POLL_SECONDS)).encode(),
                       "application/json", send_body)
        elif raw in STATIC:
            name, kind = STATIC[raw]
            self._send(200, (paths.STATIC / name).read_bytes(), kind, send_body)
        elif raw == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon", send_body)
        elif len(segments) >= 3 and segments[0] == "assets":
            self._file(preview.resolve(segments[1], segments[2:]), send_body)
        elif (len(segments) == 3 and segments[0] == "preview" and segments[2].endswith(".html")
              and all(_safe_segment(s) for s in segments[1:])):
            status, body = preview.page(segments[1], segments[2][:-len(".html")])
            self._send(status, body, "text/html; charset=utf-8", send_body, page=True)
        elif len(segments) >= 3 and segments[0] == "preview":
            # Relative URLs in notes (images) resolve against sources/, as in the PDF.
            self._file(preview.image(segments[1], segments[2:]), send_body)
        else:
            self._not_found(send_body)

    def _host_allowed(self) -> bool:
        """Refuse requests for other host names (DNS rebinding); IP literals are fine."""
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        if not name or name in self.server.host_names or name.endswith(".localhost"):
            return True
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False

    def _file(self, path: Path | None, send_body: bool) -> None:
        if path is None:
            self._not_found(send_body)
            return

        try:  # regular files only, bounded in size: the same rules as the PDF's fetcher
            _url, data, _mime = contained_read(path.as_uri(), [path.parent])
        except BlockedResource:
            self._not_found(send_body)
            return
        kind = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        cache = "max-age=3600" if path.suffix.lower() in FONT_TYPES else "no-store"
        self._send(200, data, kind, send_body, cache=cache, csp=FILE_CSP)

    def _not_found(self, send_body: bool) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body)

    def _send(self, status: int, body: bytes, content_type: str, send_body: bool,
              page: bool = False, cache: str = "no-store", csp: str = "") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            if page or csp:
                self.send_header("Content-Security-Policy", PAGE_CSP if page else csp)
            self.end_headers()
            if send_body and body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

