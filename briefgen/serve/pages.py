"""The preview's pages: each pack as its audience may see it, plus the preview layer.

`Preview` keeps the latest project that loaded (a generation counter says which), renders a
pack's HTML with the same `render_html` as the PDF, and adds the preview layer to the copy
sent to the browser: stylesheet links, screen CSS, the reload script and, when the project
has errors, an overlay. It previews one audience at a time and serves only the files that
audience's pages load (`allowed_files`).
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from briefgen import paths
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.model import Project, stylesheets_for
from briefgen.serve.watch import Watcher

PAGE_WIDTHS = {"A4": "210mm", "A5": "148mm", "B5": "176mm", "letter": "8.5in", "legal": "8.5in"}
FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}
# What an audience folder may hand the browser: stylesheets and what they load.
STYLE_ASSETS = {".css", *FONT_TYPES, ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


@dataclass
class State:
    generation: int = 0
    project: Project | None = None      # the latest project that loaded (may be stale)
    errors: list[Diagnostic] = field(default_factory=list)   # why the latest load failed
    warnings: list[Diagnostic] = field(default_factory=list)



class Preview:
    """The watched project and the pages made from it, one generation at a time."""

    def __init__(self, root: Path, audience: str | None = None) -> None:
        self.root = root.resolve()
        self.audience = audience
        self.instance = secrets.token_hex(4)   # a restarted server always reloads the page
        self.lock = threading.Lock()
        self.changes = threading.Condition(self.lock)   # notified at every new generation
        self.state = State()
        self.watcher = Watcher(self.root)
        self._cache: dict[tuple[int, str, str], tuple[int, bytes]] = {}
        self.roots = {"templates": paths.TEMPLATES, "fonts": paths.FONTS,
                      "styles": self.root / "styles"}
        self._allowed: tuple[int, frozenset[Path]] | None = None

    def refresh(self) -> list[str]:
        """Reload if any watched file changed; the changed names (empty if nothing did)."""
        changed = self.watcher.changed()
        if changed:
            self._load()
        return changed

    def _load(self) -> None:
        from briefgen.loading import load_project

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
                self.changes.notify_all()
            return
        with self.lock:
            self.state = State(self.state.generation + 1, project, [], list(project.warnings))
            self._cache.clear()
            self.changes.notify_all()

    def status(self, seen: str = "", wait: float = 0.0) -> dict:
        """The generation, at once; or, when the page says which one it `seen`, as soon as
        there is a newer one, waiting at most `wait` seconds (a long poll)."""
        key = f"{self.instance}:{self.state.generation}"
        if seen == key and wait > 0:
            with self.lock:
                self.changes.wait_for(
                    lambda: f"{self.instance}:{self.state.generation}" != seen, timeout=wait)
        state = self.state
        return {"generation": state.generation, "instance": self.instance,
                "ok": not state.errors,
                "errors": [d.to_dict(self.clearance()) for d in state.errors]}

    # Pages -----------------------------------------------------------------------------

    def clearance(self) -> str:
        """Who reads the preview: the previewed audience (TLP:CLEAR until it is known). Its
        overlay and status quote a message only if that reader may see what it quotes."""
        project = self.state.project
        names = self.audiences()
        return project.audiences[names[0]].config.clearance if project and names else "CLEAR"

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
                    if path.suffix.lower() in STYLE_ASSETS and paths.inside(path, layer):
                        allowed.add(path.resolve())
            for area in project.areas:
                pack = assemble(project, area, audience)
                if pack is None:
                    continue
                shown = [area.scope_images, *(n.images for n in pack.notes)]
                allowed.update(found.path for found_images in shown
                               for _, found in found_images if found.path is not None)
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
                # An area above the clearance is content: neither its title nor its folder
                # name is shown, only how many there are.
                shown = [a for a in project.areas if audience.clears(a.handling)]
                for area in shown:
                    href = f"/preview/{quote(name)}/{quote(area.slug)}.html"
                    label = (f'<a href="{html.escape(href)}">{html.escape(area.meta.title)}</a>'
                             f' <span class="slug">{html.escape(area.slug)}</span>')
                    items.append(f"<li>{label}</li>")
                hidden = len(project.areas) - len(shown)
                if hidden:
                    items.append(f'<li class="note">{hidden} area{"s" if hidden > 1 else ""} '
                                 "withheld: marked above this audience's clearance</li>")
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
            if pack is None:  # named like an area that does not exist: no title, no marking
                return 404, self._message_page(state, "Not found", f"no area '{area_slug}'",
                                               errors)
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
            document = _insert_before(document, "</body>",
                                      overlay(errors, self.clearance(), stale), at_start=False)
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
        if root_name == "styles" and paths.link_problem(root.joinpath(*segments), self.root):
            return None  # a link or a second name: served only as the plain file it is
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
        if paths.link_problem(self.root / "sources" / Path(*segments), self.root):
            return None
        return path if path in self.allowed_files() else None


def _safe_segment(segment: str) -> bool:
    return (segment not in ("", ".", "..") and not segment.startswith(".")
            and not any(c in segment for c in "/\\\0"))


def _insert_before(document: str, tag: str, text: str, at_start: bool) -> str:
    match = re.search(re.escape(tag), document, re.IGNORECASE)
    if match is None:
        return text + document if at_start else document + text
    return document[:match.start()] + text + document[match.start():]


def _render_failure(exc: Exception, root: Path) -> Diagnostic:
    from briefgen.render import locate_template_error

    file, line, message = locate_template_error(exc, root)
    if file is not None:
        return Diagnostic(Location(file, line), f"template error: {message}",
                          "fix the template; the preview reloads when you save it")
    return Diagnostic(Location("(render)"), f"rendering failed: {message}")


def overlay(errors: list[Diagnostic], clearance: str = "CLEAR", stale: bool = False) -> str:
    """The error overlay: every problem as `file:line: message`, escaped, as a reader
    cleared for `clearance` may see it (Diagnostic.shown_to)."""
    items = []
    for d in errors:
        shown = d.shown_to(clearance)
        hint = (f'<div class="briefgen-hint">hint: {html.escape(shown.hint)}</div>'
                if shown.hint else "")
        items.append(f'<li><code class="briefgen-where">{html.escape(str(d.location))}</code>: '
                     f"{html.escape(d.severity)}: {html.escape(shown.message)}{hint}</li>")
    count = len(errors)
    return (f'<div id="briefgen-errors" role="alert" aria-live="assertive">'
            f'<div class="briefgen-panel"><h2>briefgen: {count} problem{"s" * (count != 1)}'
            "</h2><p>Fix the file and save: this page reloads by itself."
            f"{' Behind this message: the last version that loaded.' if stale else ''}</p>"
            f"<ul>{''.join(items)}</ul></div></div>")

