"""`briefgen serve`: a live HTML preview of the packs for authors, reloaded as they write.

One process, standard library only. A watcher polls the project's sources/, styles/ and
briefgen.yaml (and briefgen's own templates) for changed mtimes or sizes, reloads the project
when the bytes really changed, and bumps a generation counter. A loopback HTTP server serves:

    /                                     index: every area of the previewed audience
    /preview/<audience>/<area>.html       the pack's HTML from render_html, plus our preview
                                          layer: stylesheet links, screen CSS, the live-reload
                                          script and, when the project has errors, an overlay
    /preview/<audience>/<path>            images the audience's packs show (sources/ is the
                                          PDF's base URL); no other file of sources/
    /assets/templates/ fonts/ styles/     the audience's stylesheets and their fonts and
                                          images, briefgen's base stylesheet and fonts

Handling: the preview shows one audience at a time (--audience, default the project's
default audience), through the same confined pack as the PDF. It serves nothing that audience
may not see and never a source file as it is: no notes, no bibliography, no configuration.
    /_briefgen/status.json live.js preview.css
                                          the generation counter, the script that polls it, and
                                          the screen layout of the preview

The HTML given to WeasyPrint never contains any of the preview layer: it is added to the copy
sent to the browser only. With --pdf the incremental PDF build runs in a thread of the same
process after every change.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote, unquote, urlsplit

from briefgen.errors import BriefgenError, Diagnostic, Location

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.build import PackResult
    from briefgen.model import Project

POLL_SECONDS = 0.4
DIGEST_LIMIT = 1024 * 1024  # watched files larger than this are known by their metadata
DEFAULT_PORT = 8000
PAGE_WIDTHS = {"A4": "210mm", "A5": "148mm", "B5": "176mm", "letter": "8.5in", "legal": "8.5in"}
FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}
# What an audience folder may hand the browser: stylesheets and what they load.
STYLE_ASSETS = {".css", *FONT_TYPES, ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8", ".j2": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".yaml": "text/plain; charset=utf-8", ".yml": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml",
    ".webp": "image/webp", **FONT_TYPES,
}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# A file opened on its own (an SVG, say) runs no script and reaches nothing.
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


# -- command line --------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser,
               ) -> argparse.ArgumentParser:
    """Add `serve` to the CLI's subcommands."""
    s = subparsers.add_parser(
        "serve", parents=[common_parent],
        help="live HTML preview in the browser, reloaded as you edit",
        description="Serve an HTML preview of every pack on localhost that reloads itself in "
                    "the browser when sources/, styles/ or briefgen.yaml change.")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N",
                   help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)")
    s.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    s.add_argument("--audience", default=None, metavar="NAME",
                   help="preview (and build) only this audience (default: every audience)")
    s.add_argument("--pdf", action="store_true",
                   help="also rebuild the PDFs into PROJECT/output after every change")
    return s


def run(args: argparse.Namespace, root: Path) -> int:
    """Serve until Ctrl-C; 0 on a clean stop, 1 if the server cannot start, 2 on bad options."""
    console = Console(bool(getattr(args, "quiet", False)))
    try:
        return _serve(args, root, console)
    except KeyboardInterrupt:   # Ctrl-C before the server was up
        return 0


def _serve(args: argparse.Namespace, root: Path, console: Console) -> int:
    if not 0 <= args.port <= 65535:
        console.problem(f"briefgen: error: --port must be 0..65535, not {args.port}")
        return 2
    preview = Preview(root, audience=args.audience)
    changed = preview.refresh()
    console.report_load(preview, changed, first=True)
    project = preview.state.project
    if args.audience and project is not None and args.audience not in project.audiences:
        known = ", ".join(sorted(project.audiences)) or "none"
        console.problem(f"briefgen: error: no audience '{args.audience}' (audiences: {known})")
        return 2
    if not _is_loopback(args.host):
        console.problem(f"briefgen serve: warning: listening on {args.host}, which is not a "
                        "loopback address: anyone who can reach this machine can read every "
                        "pack this audience may see")
    try:
        server = make_server(args.host, args.port, preview)
    except OSError as exc:
        console.problem(f"briefgen: error: cannot listen on {args.host}:{args.port}: "
                        f"{exc.strerror or exc}")
        return 1
    builder = Builder(preview, console) if args.pdf else None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.25},
                              name="briefgen-http", daemon=True)
    # Ctrl-C and SIGTERM stop the server cleanly, even if SIGINT was ignored by whoever
    # started us in the background.
    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
                    signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupt)}
    try:
        thread.start()
        host, port = server.server_address[:2]
        url = f"http://{_url_host(str(host))}:{port}/"
        console.always(f"briefgen serve: previewing {root} at {url}  (Ctrl-C to stop)")
        if builder is not None:
            builder.start()
            builder.kick()
        while True:
            time.sleep(POLL_SECONDS)
            changed = preview.refresh()
            if changed:
                console.report_load(preview, changed)
                if builder is not None:
                    builder.kick()
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            if thread.is_alive():
                server.shutdown()
            server.server_close()
            if builder is not None:
                builder.stop()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
    console.say("briefgen serve: stopped")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class Console:
    """The terminal: progress on stdout (silenced by -q), problems on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.lock = threading.Lock()

    def _print(self, text: str, stream: TextIO) -> None:
        with self.lock:
            print(text, file=stream, flush=True)

    def always(self, text: str) -> None:
        self._print(text, sys.stdout)

    def say(self, text: str) -> None:
        if not self.quiet:
            self._print(text, sys.stdout)

    def problem(self, text: str) -> None:
        self._print(text, sys.stderr)

    def report_load(self, preview: Preview, changed: list[str], first: bool = False) -> None:
        state = preview.state
        if not first and changed:
            shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more"
                                              if len(changed) > 3 else "")
            self.say(f"changed   {shown}")
        if state.errors:
            for diagnostic in state.errors:
                self.problem(diagnostic.format())
            self.problem(f"{len(state.errors)} error(s): the preview shows them until fixed")
            return
        for warning in state.warnings:
            self.say(warning.format())
        project = state.project
        if project is not None:
            self.say(f"{'loaded' if first else 'reloaded':<9} {len(project.areas)} area(s), "
                     f"{len(project.audiences)} audience(s), {len(project.claims)} claim(s) "
                     f"(generation {state.generation})")


# -- the project, watched ------------------------------------------------------------------


@dataclass
class State:
    generation: int = 0
    project: Project | None = None      # the latest project that loaded (may be stale)
    errors: list[Diagnostic] = field(default_factory=list)   # why the latest load failed
    warnings: list[Diagnostic] = field(default_factory=list)


def package_templates() -> Path:
    from briefgen.render import PACKAGE_TEMPLATES

    return PACKAGE_TEMPLATES


class Preview:
    """The watched project and the pages made from it, one generation at a time."""

    def __init__(self, root: Path, audience: str | None = None) -> None:
        self.root = root.resolve()
        self.audience = audience
        self.instance = secrets.token_hex(4)   # a restarted server always reloads the page
        self.lock = threading.Lock()
        self.state = State()
        self._stats: dict[str, tuple[int, int, int]] | None = None
        self._hashes: dict[str, bytes] = {}     # file name -> sha256 of its bytes
        self._digest = b""
        self._cache: dict[tuple[int, str, str], tuple[int, bytes]] = {}
        templates = package_templates()
        self.roots = {
            "templates": templates.resolve(),
            "fonts": (templates.parent / "fonts").resolve(),
            "styles": self.root / "styles",
        }
        self._allowed: tuple[int, frozenset[Path]] | None = None

    # Watching --------------------------------------------------------------------------

    def watched_files(self) -> Iterator[tuple[str, Path]]:
        """(display name, path) of every file whose change may change a preview or a PDF."""
        yield "briefgen.yaml", self.root / "briefgen.yaml"
        for prefix, folder in (("", self.root / "sources"), ("", self.root / "styles"),
                               ("briefgen:", self.roots["templates"])):
            if not folder.is_dir() or (not prefix and not _inside(folder, self.root)):
                continue  # a link out of the project: the loader reports it, we never read it
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
                base = Path(dirpath)
                for name in sorted(filenames):
                    if not _ignored(name):
                        path = base / name
                        shown = (path.relative_to(self.root).as_posix() if not prefix
                                 else prefix + path.relative_to(folder).as_posix())
                        yield shown, path

    def _stat_all(self) -> tuple[dict[str, tuple[int, int, int]], dict[str, Path]]:
        """Metadata of every watched regular file; pipes, devices and links out of the
        project are skipped (the loader reports them; reading a pipe would hang)."""
        stats: dict[str, tuple[int, int, int]] = {}
        paths: dict[str, Path] = {}
        for shown, path in self.watched_files():
            with contextlib.suppress(OSError):
                st = path.stat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                if not shown.startswith("briefgen:") and not _inside(path, self.root):
                    continue
                stats[shown] = (st.st_mtime_ns, st.st_size, st.st_ino)
                paths[shown] = path
        return stats, paths

    def _content_digest(self, changed: list[str], paths: dict[str, Path],
                        stats: dict[str, tuple[int, int, int]]) -> bytes:
        """A hash of every watched file's name and content; only changed files are read, and
        only small ones: a file over DIGEST_LIMIT is known by its metadata (no project file
        is that large; reading a 4 GB one would cost 4 GB)."""
        for name in changed:
            self._hashes.pop(name, None)
            if name not in paths:
                continue
            if stats[name][1] > DIGEST_LIMIT:
                self._hashes[name] = repr(stats[name]).encode()
                continue
            with contextlib.suppress(OSError):
                self._hashes[name] = _bounded_digest(paths[name])
        digest = hashlib.sha256()
        for name in sorted(paths):
            digest.update(name.encode() + b"\0" + self._hashes.get(name, b"-"))
        return digest.digest()

    def refresh(self) -> list[str]:
        """Reload if any watched file changed; the changed names (empty if nothing did)."""
        stats, paths = self._stat_all()
        if stats == self._stats:
            return []
        old = self._stats or {}
        changed = sorted(n for n in stats.keys() | old.keys() if stats.get(n) != old.get(n))
        self._stats = stats
        digest = self._content_digest(changed, paths, stats)
        if digest == self._digest:   # touched or saved unchanged: nothing to reload
            return []
        self._digest = digest
        self._load()
        return changed or ["briefgen.yaml"]

    def _load(self) -> None:
        from briefgen.sources import load_project

        try:
            project = load_project(self.root)
        except Exception as exc:  # noqa: BLE001 - keep serving and show why
            if isinstance(exc, BriefgenError):
                errors = [d for d in exc.diagnostics if d.severity == "error"] or exc.diagnostics
            else:
                errors = [Diagnostic(Location("(load)"),
                                     f"loading failed: {type(exc).__name__}: {exc}",
                                     "a bug in briefgen if your files look right")]
            with self.lock:
                self.state = State(self.state.generation + 1, self.state.project, errors)
                self._cache.clear()
            return
        with self.lock:
            self.state = State(self.state.generation + 1, project, [], list(project.warnings))
            self._cache.clear()

    def status(self) -> dict:
        state = self.state
        return {"generation": state.generation, "instance": self.instance,
                "ok": not state.errors, "errors": [_plain(d) for d in state.errors]}

    # Pages -----------------------------------------------------------------------------

    def audiences(self) -> list[str]:
        """The audience previewed: the one asked for, else the project's default. One at a
        time, so a page can never show more than that audience may see."""
        project = self.state.project
        if project is None:
            return []
        name = self.audience or project.config.default_audience
        return [name] if name in project.audiences else []

    def allowed_files(self) -> frozenset[Path]:
        """Every file the previewed audience's pages may load: its stylesheets and what sits
        beside them (fonts, images), briefgen's base stylesheet and fonts, and the images its
        packs show. Nothing else of the project is ever served."""
        state = self.state
        cached = self._allowed
        if cached is not None and cached[0] == state.generation:
            return cached[1]
        from briefgen import images
        from briefgen.build import stylesheets_for
        from briefgen.markup import find_images
        from briefgen.pack import assemble

        allowed: set[Path] = set()
        project = state.project
        for name in self.audiences():
            assert project is not None
            audience = project.audiences[name]
            for sheet in stylesheets_for(audience):
                allowed.add(sheet.resolve())
            for layer in audience.layers:
                for path in layer.rglob("*"):
                    if path.suffix.lower() in STYLE_ASSETS and _inside(path, layer):
                        allowed.add(path.resolve())
            for area in project.areas:
                pack = assemble(project, area, audience)
                if pack is None:
                    continue
                texts = [(area.display, area.scope), *((n.display, n.body) for n in pack.notes)]
                for display, text in texts:
                    for image in find_images(text):
                        found = images.locate(project.root, display, image.src).path
                        if found is not None:
                            allowed.add(found)
        fonts = self.roots["fonts"]
        allowed.update(p.resolve() for p in fonts.iterdir() if p.suffix.lower() in FONT_TYPES)
        result = frozenset(allowed)
        self._allowed = (state.generation, result)
        return result

    def index(self) -> bytes:
        state = self.state
        project = state.project
        title = html.escape(project.config.title) if project else "briefgen preview"
        rows: list[str] = []
        if project is not None:
            for name in self.audiences():
                audience = project.audiences[name]
                items = []
                for area in project.areas:
                    href = f"/preview/{quote(name)}/{quote(area.slug)}.html"
                    label = (f'<a href="{html.escape(href)}">{html.escape(area.meta.title)}</a>'
                             f' <span class="slug">{html.escape(area.slug)}</span>')
                    if not audience.clears(area.meta.handling):
                        label += (f' <span class="note">withheld: TLP:'
                                  f'{html.escape(area.meta.handling)} is above this '
                                  "audience's clearance</span>")
                    items.append(f"<li>{label}</li>")
                rows.append(f"<section><h2>{html.escape(audience.config.title)} "
                            f'<span class="slug">{html.escape(name)} · clearance TLP:'
                            f"{html.escape(audience.config.clearance)}</span></h2>"
                            f"<ul>{''.join(items)}</ul></section>")
            if not self.audiences():
                rows.append(f"<p>No audience '{html.escape(self.audience or '')}' in this "
                            "project.</p>")
        elif not state.errors:
            rows.append("<p>Loading…</p>")
        body = (f"<main class=\"briefgen-index\"><h1>{title}</h1>"
                f"<p class=\"lead\">Live preview of every pack of one audience: what its "
                f"readers may see, and nothing else (<code>briefgen serve --audience NAME"
                f"</code> previews another). Pages reload themselves when you save a file; "
                f"the PDFs are built with <code>briefgen build</code>.</p>"
                f"{''.join(rows)}</main>")
        page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{title}: preview</title></head><body>{body}</body></html>")
        return self._decorate(page, state, [], state.errors).encode("utf-8")

    def page(self, audience_name: str, area_slug: str) -> tuple[int, bytes]:
        state = self.state
        key = (state.generation, audience_name, area_slug)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._page(state, audience_name, area_slug)
        with self.lock:
            if self.state.generation == state.generation:
                self._cache[key] = result
        return result

    def _page(self, state: State, audience_name: str, area_slug: str) -> tuple[int, bytes]:
        from briefgen.build import stylesheets_for
        from briefgen.pack import assemble
        from briefgen.render import render_html

        project = state.project
        errors = list(state.errors)
        if project is None:
            return 200, self._message_page(state, "briefgen preview", "", errors)
        audience = (project.audiences.get(audience_name)
                    if audience_name in self.audiences() else None)
        area = next((a for a in project.areas if a.slug == area_slug), None)
        if audience is None or area is None:
            what = (f"audience '{audience_name}' is not the one previewed" if audience is None
                    else f"no area '{area_slug}'")
            return 404, self._message_page(state, "Not found", what, errors)
        try:
            pack = assemble(project, area, audience)
            if pack is None:
                return 200, self._message_page(
                    state, area.meta.title, f"Withheld: the area is marked TLP:"
                    f"{area.meta.handling}, above the clearance of audience '{audience_name}' "
                    f"(TLP:{audience.config.clearance}). No pack is built for it.", errors)
            document = render_html(pack)
        except BriefgenError as exc:
            return 200, self._message_page(state, area.meta.title, "", errors + exc.diagnostics)
        except Exception as exc:  # noqa: BLE001 - a broken template must not stop the server
            return 200, self._message_page(state, area.meta.title, "",
                                           [*errors, _render_failure(exc, self.root)])
        sheets = [self.asset_url(p) for p in stylesheets_for(audience)]
        width = PAGE_WIDTHS.get(audience.config.page_size, "210mm")
        return 200, self._decorate(document, state, [u for u in sheets if u], errors,
                                   page_width=width, stale=True).encode("utf-8")

    def _message_page(self, state: State, title: str, message: str,
                      errors: list[Diagnostic]) -> bytes:
        body = f"<h1>{html.escape(title)}</h1>"
        if message:
            body += f"<p>{html.escape(message)}</p>"
        body += '<p><a href="/">All packs</a></p>'
        page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f"<title>{html.escape(title)}: preview</title></head><body>"
                f'<main class="briefgen-index">{body}</main></body></html>')
        return self._decorate(page, state, [], errors).encode("utf-8")

    def asset_url(self, path: Path) -> str | None:
        """The URL under which the server serves `path`, or None if it is outside every root."""
        resolved = path.resolve()
        for name, root in self.roots.items():
            with contextlib.suppress(ValueError, OSError):
                rel = resolved.relative_to(root.resolve())
                return f"/assets/{name}/" + "/".join(quote(part) for part in rel.parts)
        return None

    def _decorate(self, document: str, state: State, stylesheets: list[str],
                  errors: list[Diagnostic] | None, page_width: str = "210mm",
                  stale: bool = False) -> str:
        """Add the preview layer to a page: stylesheets, screen CSS, script, error overlay."""
        head = "".join(f'<link rel="stylesheet" href="{html.escape(u)}">' for u in stylesheets)
        head += (f'<link rel="stylesheet" href="/_briefgen/preview.css">'
                 f'<style>:root {{ --briefgen-page-width: {html.escape(page_width)}; }}</style>'
                 f'<meta name="briefgen-generation" content="{self.instance}:'
                 f'{state.generation}">'
                 '<script src="/_briefgen/live.js" defer></script>')
        document = _insert_before(document, "</head>", head, at_start=True)
        if errors:
            document = _insert_before(document, "</body>", overlay(errors, stale),
                                      at_start=False)
        return document

    # Files -----------------------------------------------------------------------------

    def resolve(self, root_name: str, segments: list[str]) -> Path | None:
        """A file inside one of the served roots, or None: never a path that leaves the root."""
        root = self.roots.get(root_name)
        if root is None or not segments or not all(_safe_segment(s) for s in segments):
            return None
        try:
            base = root.resolve(strict=True)
            path = base.joinpath(*segments).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_relative_to(base) or not path.is_file():
            return None
        return path if path in self.allowed_files() else None

    def image(self, audience_name: str, segments: list[str]) -> Path | None:
        """An image one of the previewed audience's packs shows, by its path from sources/."""
        if audience_name not in self.audiences() or not all(_safe_segment(s)
                                                             for s in segments):
            return None
        try:
            base = (self.root / "sources").resolve(strict=True)
            path = base.joinpath(*segments).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return path if path in self.allowed_files() else None


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def _bounded_digest(path: Path) -> bytes:
    """sha256 of a regular file of at most DIGEST_LIMIT bytes, opened without blocking."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b"not-regular"
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return hashlib.sha256(handle.read(DIGEST_LIMIT + 1)).digest()
    finally:
        os.close(fd)


def _ignored(name: str) -> bool:
    """Editor droppings and hidden files: never read by the loader, never watched."""
    return name.startswith(".") or name.endswith("~") or name == "__pycache__"


def _safe_segment(segment: str) -> bool:
    return (segment not in ("", ".", "..") and not segment.startswith(".")
            and not any(c in segment for c in "/\\\0"))


def _insert_before(document: str, tag: str, text: str, at_start: bool) -> str:
    match = re.search(re.escape(tag), document, re.IGNORECASE)
    if match is None:
        return text + document if at_start else document + text
    return document[:match.start()] + text + document[match.start():]


def _plain(diagnostic: Diagnostic) -> str:
    return f"{diagnostic.location}: {diagnostic.severity}: {diagnostic.message}"


def _render_failure(exc: Exception, root: Path) -> Diagnostic:
    from briefgen.render import locate_template_error

    file, line, message = locate_template_error(exc, root)
    if file is not None:
        return Diagnostic(Location(file, line), f"template error: {message}",
                          "fix the template; the preview reloads when you save it")
    return Diagnostic(Location("(render)"), f"rendering failed: {message}")


def overlay(errors: list[Diagnostic], stale: bool = False) -> str:
    """The error overlay: every problem as `file:line: message`, escaped."""
    items = []
    for d in errors:
        hint = f'<div class="briefgen-hint">hint: {html.escape(d.hint)}</div>' if d.hint else ""
        items.append(f'<li><code class="briefgen-where">{html.escape(str(d.location))}</code>: '
                     f"{html.escape(d.severity)}: {html.escape(d.message)}{hint}</li>")
    count = len(errors)
    return (f'<div id="briefgen-errors" role="alert" aria-live="assertive">'
            f'<div class="briefgen-panel"><h2>briefgen: {count} problem{"s" * (count != 1)}'
            "</h2><p>Fix the file and save: this page reloads by itself."
            f"{' Behind this message: the last version that loaded.' if stale else ''}</p>"
            f"<ul>{''.join(items)}</ul></div></div>")


# -- HTTP ----------------------------------------------------------------------------------


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
            self._send(200, json.dumps(preview.status()).encode(),
                       "application/json", send_body)
        elif raw == "/_briefgen/live.js":
            self._send(200, LIVE_JS.encode(), "text/javascript; charset=utf-8", send_body)
        elif raw == "/_briefgen/preview.css":
            self._send(200, PREVIEW_CSS.encode(), "text/css; charset=utf-8", send_body)
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
        from briefgen.pdf import BlockedResource, contained_read

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


# -- --pdf: the incremental build in a thread ----------------------------------------------


class Builder:
    """Runs build.build after each change, one build at a time, always on the latest project."""

    def __init__(self, preview: Preview, console: Console) -> None:
        self.preview = preview
        self.console = console
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="briefgen-pdf", daemon=True)
        self._built_generation = -1

    def start(self) -> None:
        self.thread.start()

    def kick(self) -> None:
        self.wanted.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wanted.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            if self.stopping.is_set():
                return
            state = self.preview.state
            if state.generation == self._built_generation:
                continue
            self._built_generation = state.generation
            if state.errors or state.project is None:
                self.console.problem("pdf       not built: the project has errors")
                continue
            self._build(state.project)

    def _build(self, project: Project) -> None:
        from briefgen.build import build, output_folder

        audiences = [self.preview.audience] if self.preview.audience else None
        started = time.perf_counter()
        try:
            out = output_folder(project.root, None)
            results = build(project, out, audiences=audiences, jobs=1, on_result=self._show)
        except BriefgenError as exc:
            for diagnostic in exc.diagnostics:
                self.console.problem(diagnostic.format())
            return
        except Exception as exc:  # noqa: BLE001 - keep serving whatever the build does
            self.console.problem(f"pdf       build failed: {type(exc).__name__}: {exc}")
            return
        counts = {s: sum(r.status == s for r in results)
                  for s in ("built", "unchanged", "withheld", "failed")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to build"
        line = f"pdf       {summary} -> {out} ({time.perf_counter() - started:.1f} s)"
        (self.console.problem if counts["failed"] else self.console.say)(line)

    def _show(self, result: PackResult) -> None:
        name = f"{result.audience}/{result.area}.pdf"
        if result.status == "failed":
            self.console.problem(f"pdf       FAILED {name}: {result.message}")
        elif result.status == "built":
            self.console.say(f"pdf       built {name} ({result.pages} pages, "
                             f"{result.seconds:.1f} s)")


# -- the preview layer: served from /_briefgen/ --------------------------------------------

LIVE_JS = r"""// briefgen serve: reload this page when the project changes. Preview only.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="briefgen-generation"]');
  var mine = meta ? meta.getAttribute("content") : "";
  var key = "briefgen-scroll:" + location.pathname;
  var banner = null;
  try {
    var y = sessionStorage.getItem(key);
    if (y !== null) {
      sessionStorage.removeItem(key);
      window.addEventListener("load", function () { window.scrollTo(0, Number(y) || 0); });
    }
  } catch (e) { /* storage may be off */ }
  function offline(on) {
    if (on && !banner && document.body) {
      banner = document.createElement("div");
      banner.id = "briefgen-offline";
      banner.textContent = "briefgen serve is not running: this page will not update.";
      document.body.appendChild(banner);
    } else if (!on && banner) {
      banner.remove();
      banner = null;
    }
  }
  function poll() {
    fetch("/_briefgen/status.json", {cache: "no-store"})
      .then(function (response) { return response.json(); })
      .then(function (status) {
        offline(false);
        if (status.instance + ":" + status.generation !== mine) {
          try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) { /* off */ }
          location.reload();
          return;
        }
        setTimeout(poll, 400);
      }, function () {
        offline(true);
        setTimeout(poll, 1500);
      });
  }
  setTimeout(poll, 400);
})();
"""

PREVIEW_CSS = """/* briefgen serve: the pack on screen, one sheet of paper wide. Preview only. */
@media screen {
  html { background: #d8d8d8; }
  body {
    box-sizing: border-box; width: var(--briefgen-page-width, 210mm); max-width: 100%;
    margin: 16px auto; padding: 20mm 18mm 22mm 20mm; background: #fff; color: #1a1a1a;
    box-shadow: 0 1px 6px rgba(0, 0, 0, 0.35);
  }
  /* Where the PDF starts a new page. */
  .cover, .contents { border-bottom: 1px dashed #bbb; padding-bottom: 10mm; margin-bottom: 10mm; }
  .first-note, .caveats, .sources, .keys {
    border-top: 1px dashed #bbb; padding-top: 10mm; margin-top: 10mm;
  }
}
.briefgen-index { font: 15px/1.5 system-ui, sans-serif; }
.briefgen-index h1 { font-size: 1.6em; margin: 0 0 0.3em; }
.briefgen-index h2 { font-size: 1.15em; margin: 1.2em 0 0.3em; border: 0; }
.briefgen-index .slug, .briefgen-index .note { color: #666; font-size: 0.9em; }
#briefgen-errors {
  position: fixed; inset: 0; z-index: 2147483647; overflow: auto; padding: 5vh 4vw;
  background: rgba(20, 20, 20, 0.55); font: 14px/1.45 system-ui, sans-serif;
}
#briefgen-errors .briefgen-panel {
  max-width: 60em; margin: 0 auto; padding: 1em 1.4em; background: #fff5f5; color: #1a1a1a;
  border-top: 6px solid #b3001b; border-radius: 4px; box-shadow: 0 4px 24px rgba(0, 0, 0, 0.4);
}
#briefgen-errors h2 {
  color: #b3001b; font: bold 1.25em system-ui, sans-serif; margin: 0 0 0.4em;
  padding: 0; border: 0;
}
#briefgen-errors ul { margin: 0.6em 0 0; padding-left: 1.2em; }
#briefgen-errors li { margin: 0 0 0.6em; white-space: pre-wrap; overflow-wrap: anywhere; }
#briefgen-errors code { font: bold 0.95em ui-monospace, monospace; }
#briefgen-errors .briefgen-hint { color: #555; }
#briefgen-offline {
  position: fixed; left: 0; right: 0; bottom: 0; z-index: 2147483647; padding: 6px 12px;
  background: #333; color: #fff; font: 13px system-ui, sans-serif; text-align: center;
}
@media print { #briefgen-errors, #briefgen-offline { display: none; } }
"""


# -- `python -m briefgen.serve`, until the CLI has the subcommand ---------------------------


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-C", "--project", type=Path, default=None, metavar="DIR")
    common.add_argument("-q", "--quiet", action="store_true")
    parser = argparse.ArgumentParser(prog="python -m briefgen.serve")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub, common)
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return _run_from(args, run)


def _run_from(args: argparse.Namespace, runner: Callable[[argparse.Namespace, Path], int],
              ) -> int:
    from briefgen.sources import find_root

    try:
        return runner(args, find_root(args.project or Path.cwd()))
    except BriefgenError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
