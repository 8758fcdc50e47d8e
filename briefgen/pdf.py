"""HTML -> PDF bytes with WeasyPrint, through one restricted URL fetcher.

WeasyPrint is imported lazily (it costs ~0.4 s): a no-op build never imports it.

Every resource a pack pulls in goes through one `ContainedFetcher`: the HTML's images, every
stylesheet (briefgen's own, the audience's, their `@import`s and `@font-face` sources), SVG
`<image>`/`<use>` references, attachments. It serves only

* `data:` URLs, and
* `file:` URLs that resolve (after symlinks and `..`) to a regular, non-hidden file inside
  the project or inside briefgen's own templates and fonts.

Anything else (`http:`, `https:`, `ftp:`, a file outside the project, a remote file host) is
refused before any connection or file read happens, and is listed in the pack's `blocked`
report. There is no network code path at all, so there are no redirects to follow.

`rel=attachment` embeds a file in the PDF, so it is honoured only for files the build chose
(the `attachments` argument); on any other element the link type is removed before layout.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import io
import logging
import mimetypes
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

from briefgen import images, paths
from briefgen.layout import FrontGuess, FrontMatterLast, order_sensitive

if TYPE_CHECKING:  # pragma: no cover
    from weasyprint.urls import URLFetcherResponse

MAX_RESOURCE_BYTES = 20 * 1024 * 1024
_LINK_TOKENS = re.compile(r"[^\t\n\f\r ]+")


class BlockedResource(ValueError):
    """A resource the containment rules refuse; WeasyPrint logs it and carries on."""


class PackFailure(Exception):
    """A pack cannot be rendered for a reason the user can fix; the message says which."""


def allowed_roots(project_root: Path) -> list[Path]:
    return [project_root.resolve(), *paths.DATA_FOLDERS]


def contained_read(url: str, roots: Sequence[Path]) -> tuple[str, bytes, str]:
    """The (final URL, bytes, MIME type) of `url` if the containment rules allow it.

    Raises BlockedResource, naming the rule, for everything else. Pure Python, no WeasyPrint:
    the rules can be tested on their own.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        raise BlockedResource("malformed URL") from None
    scheme = parts.scheme.lower()
    if scheme == "data":
        return _read_data_url(url)
    if scheme != "file":
        raise BlockedResource(f"scheme '{scheme or '(none)'}:' is not allowed; briefgen never "
                              "uses the network")
    if parts.netloc not in ("", "localhost"):
        raise BlockedResource("remote file host")
    raw = unquote(parts.path)
    if "\0" in raw:
        raise BlockedResource("malformed file path")
    try:
        path = Path(raw).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise BlockedResource("no such file") from None
    # The most specific root decides: briefgen's data inside a project's `.venv` is allowed.
    root = max((r for r in roots if path.is_relative_to(r)), key=lambda r: len(r.parts),
               default=None)
    if root is None:
        raise BlockedResource("outside the project")
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        raise BlockedResource("hidden file or folder")
    if root == roots[0]:  # the project: plain files only, no link or second name
        problem = paths.link_problem(Path(os.path.normpath(raw)), root)
        if problem:
            raise BlockedResource(problem)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise BlockedResource("not a regular file")
        if info.st_size > MAX_RESOURCE_BYTES:
            raise BlockedResource(f"file over {MAX_RESOURCE_BYTES // 2**20} MiB")
        with path.open("rb") as handle:
            data = handle.read(MAX_RESOURCE_BYTES + 1)
    except OSError as exc:
        raise BlockedResource(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_RESOURCE_BYTES:
        raise BlockedResource(f"file over {MAX_RESOURCE_BYTES // 2**20} MiB")
    return path.as_uri(), data, images.sniffed_type(data) or mimetypes.guess_type(path.name)[0] \
        or "application/octet-stream"




def _read_data_url(url: str) -> tuple[str, bytes, str]:
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise BlockedResource("malformed data: URL")
    fields = [f.strip() for f in header.split(";")]
    mime = fields[0].lower() or "text/plain"
    try:
        if any(f.lower() == "base64" for f in fields[1:]):
            body = base64.b64decode(unquote(payload), validate=False)
        else:
            body = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise BlockedResource("malformed data: URL") from None
    if len(body) > MAX_RESOURCE_BYTES:
        raise BlockedResource(f"data: URL over {MAX_RESOURCE_BYTES // 2**20} MiB")
    return url, body, mime


def _describe(url: str) -> str:
    if url.startswith("data:"):
        return url[:40] + ("..." if len(url) > 40 else "")
    return url[:200]


def _make_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ContainedFetcher(URLFetcher):
        """WeasyPrint's fetcher with every network and out-of-project path removed."""

        def __init__(self, roots: Iterable[Path] = (), blocked: list[str] | None = None) -> None:
            super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
            self.roots = [r.resolve() for r in roots]
            self.blocked = blocked if blocked is not None else []

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:  # noqa: ANN401
            try:
                final_url, data, mime = contained_read(url, self.roots)
            except BlockedResource as exc:
                entry = f"{_describe(url)} ({exc})"
                if entry not in self.blocked:
                    self.blocked.append(entry)
                raise BlockedResource(f"blocked {_describe(url)}: {exc}") from None
            return URLFetcherResponse(final_url, data, {"Content-Type": mime})

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:  # noqa: ANN401
            # urllib's opener interface, in case anything calls it: same rules, no network.
            return self.fetch(getattr(url, "full_url", url))

    return ContainedFetcher


def limit_attachments(root: Any, base_url: str, allowed: set[str],  # noqa: ANN401
                      blocked: list[str]) -> None:
    """Drop `rel=attachment` from every element whose target the build did not choose."""
    for element in root.iter():
        rel = element.get("rel") if hasattr(element, "get") else None
        if not rel:
            continue
        tokens = _LINK_TOKENS.findall(rel)
        if not any(t.lower() == "attachment" for t in tokens):
            continue
        href = (element.get("href") or "").strip()
        target = urljoin(base_url, href) if href else ""
        if target and _file_uri_key(target) in allowed:
            continue
        kept = [t for t in tokens if t.lower() != "attachment"]
        if kept:
            element.set("rel", " ".join(kept))
        else:
            del element.attrib["rel"]
        blocked.append(f"{_describe(href or '(no href)')} (rel=attachment: not a file the build "
                       "chose to attach)")


def _file_uri_key(uri: str) -> str:
    try:
        parts = urlsplit(uri)
        if parts.scheme.lower() != "file":
            return uri
        return Path(unquote(parts.path)).resolve().as_uri()
    except (ValueError, OSError, RuntimeError):
        return uri


def import_weasyprint() -> Any:  # noqa: ANN401
    """Import WeasyPrint without ctypes' slow library search, where that cannot matter.

    WeasyPrint tries several names for each native library (Windows, macOS and Linux
    spellings). For each name that does not load at once, cffi calls
    `ctypes.util.find_library`, which on Linux runs ldconfig, gcc and ld: 22 misses, about
    0.27 s of CPU in every process that imports WeasyPrint. Every list also holds the Linux
    soname (`libpango-1.0.so.0`, ...), which the dynamic loader finds directly, honouring
    LD_LIBRARY_PATH. So on Linux the search is skipped during the import; if the import
    fails that way, it is done again with the search, and WeasyPrint's own message.
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint
    except (OSError, ImportError):
        for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
            del sys.modules[name]
        ctypes.util.find_library = search
        import weasyprint
    finally:
        ctypes.util.find_library = search
    return weasyprint


def compress_once(_document: Any, pdf: Any) -> None:  # noqa: ANN401
    """A WeasyPrint `finisher`: each stream of the finished PDF is compressed once, not twice.

    Given an identifier, pydyf writes every object and then reads every object's bytes again
    to hash them for the second half of `/ID`; a stream's bytes are made by compressing it,
    so each stream is compressed twice (about 3 % of a build). WeasyPrint calls the finisher
    when it has finished with the PDF, just before pydyf writes it; from then on no stream
    changes, so each keeps the bytes it made the first time (`_frozen`); only the object
    stream pydyf makes while writing is still read twice. The PDF is the same, byte for
    byte (tests/test_reproducible.py). With a pydyf whose `Stream.data` is
    not a plain property, nothing is changed."""
    import pydyf

    if not isinstance(pydyf.Stream.__dict__.get("data"), property):
        return
    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and not getattr(item, "_briefgen_frozen", False):
            item.__class__ = _frozen(type(item))  # type: ignore[arg-type]


@functools.cache
def _frozen(stream_class: type) -> type:
    """`stream_class` (pydyf's Stream or WeasyPrint's subclass for page content) with its
    `data` made once and kept."""
    made_by = stream_class.data.fget  # type: ignore[attr-defined]

    def data(self: Any) -> bytes:  # noqa: ANN401
        made = self.__dict__.get("_briefgen_data")
        if made is None:
            made = self.__dict__["_briefgen_data"] = made_by(self)
        return bytes(made)

    return type(f"Frozen{stream_class.__name__}", (stream_class,),
                {"data": property(data), "_briefgen_frozen": True})


class Renderer:
    """One per worker process: keeps WeasyPrint's font configuration and parsed base CSS."""

    def __init__(self) -> None:
        weasyprint = import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        from briefgen.layout import resolve_page_references_early

        resolve_page_references_early()
        self.weasyprint = weasyprint
        self.font_config = FontConfiguration()
        # One fetcher for the HTML and every stylesheet; its roots and blocked list are set
        # for each pack, so cached stylesheets keep fetching under the current pack's rules.
        self.fetcher = _make_fetcher_class()()
        self._css_cache: dict[tuple[Path, str, bytes],
                              tuple[Any, list[str], list[str], bool]] = {}
        # What each audience's (set of stylesheets') cover and front matter took: the guess
        # for its next pack (see layout.FrontMatterLast).
        self.front_guess: dict[tuple[Path, ...], FrontGuess] = {}
        # What WeasyPrint ignored in the audience's CSS for the current pack (an unknown
        # property, a bad value), as `file: message at line:column` warnings.
        self.warnings: list[str] = []

    def _css(self, path: Path, project_root: Path) -> tuple[Any, bool]:
        """The parsed stylesheet, and whether its result could depend on layout order."""
        try:
            url, data, _ = contained_read(path.absolute().as_uri(), self.fetcher.roots)
        except BlockedResource as exc:
            raise PackFailure(f"stylesheet {paths.shown(path, project_root)}: {exc}") from None
        key = (project_root, url, hashlib.sha256(data).digest())
        if key not in self._css_cache:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise PackFailure(f"stylesheet {paths.shown(path, project_root)}:{line}: not valid "
                                  "UTF-8; save it as UTF-8") from None
            mark = len(self.fetcher.blocked)
            with _css_messages() as messages:
                css = self.weasyprint.CSS(string=text, base_url=url, url_fetcher=self.fetcher,
                                          font_config=self.font_config)
            shown = paths.shown(path, project_root)
            # @import and @font-face are fetched while parsing: remember what was refused so
            # packs that reuse the parsed sheet report it too. briefgen's own base.css is known
            # to lay out the same in any order (see layout.FrontMatterLast); others are checked.
            own = path.resolve() == (paths.TEMPLATES / "base.css").resolve()
            self._css_cache[key] = (css, self.fetcher.blocked[mark:],
                                    [f"{shown}: {m}" for m in messages],
                                    not own and order_sensitive(text))
        css, refused, ignored, sensitive = self._css_cache[key]
        for entry in refused:
            if entry not in self.fetcher.blocked:
                self.fetcher.blocked.append(entry)
        self.warnings += [w for w in ignored if w not in self.warnings]
        return css, sensitive

    def pdf(self, html: str, *, project_root: Path, stylesheets: list[Path], identifier: bytes,
            variant: str | None = None, tags: bool = False,
            attachments: Sequence[Path] = (),
            embedded: Sequence[tuple[str, bytes, str]] = ()) -> tuple[bytes, int, list[str]]:
        """Render one pack. `attachments` are the only files the PDF may embed; `embedded`
        are generated ones (name, bytes, description), such as the provenance files."""
        project_root = project_root.resolve()
        blocked: list[str] = []
        self.fetcher.roots = allowed_roots(project_root)
        self.fetcher.blocked = blocked
        self.warnings = []
        parsed = [self._css(p, project_root) for p in stylesheets]
        css = [sheet for sheet, _ in parsed]
        sensitive = any(flag for _, flag in parsed)
        base_url = (project_root / "sources").as_uri() + "/"
        document = self.weasyprint.HTML(string=html, base_url=base_url, url_fetcher=self.fetcher)
        chosen = [p.resolve() for p in attachments]
        for path in chosen:
            if not any(paths.inside(path, r) for r in self.fetcher.roots):
                raise PackFailure(f"attachment {path} is outside the project")
        limit_attachments(document.etree_element, document.base_url or base_url,
                          {p.as_uri() for p in chosen}, blocked)
        options: dict[str, Any] = {"stylesheets": css, "pdf_identifier": identifier,
                                   "pdf_variant": variant, "pdf_tags": tags}
        fixed = datetime(1980, 1, 1, tzinfo=UTC)  # no clock dates in the output
        files = [self.weasyprint.Attachment(url=p.as_uri(), url_fetcher=self.fetcher,
                                            created=fixed, modified=fixed) for p in chosen]
        files += [self.weasyprint.Attachment(file_obj=io.BytesIO(data), name=name,
                                             description=description, created=fixed,
                                             modified=fixed)
                  for name, data, description in embedded]
        if files:
            options["attachments"] = files
        rendered = self._layout(document, options, tuple(stylesheets), sensitive)
        data = rendered.write_pdf(finisher=compress_once, **options)
        assert isinstance(data, bytes)
        return data, len(rendered.pages), blocked

    def _layout(self, document: Any, options: dict[str, Any],  # noqa: ANN401
                audience: tuple[Path, ...], sensitive_css: bool) -> Any:  # noqa: ANN401
        """Lay the document out, the front matter last when that is safe (each page once)."""
        root = document.etree_element
        inline = [*("".join(e.itertext()) for e in root.iter("style")),
                  *(e.get("style") or "" for e in root.iter() if isinstance(e.tag, str))]
        sensitive_css = sensitive_css or any(order_sensitive(text) for text in inline)
        guess = self.front_guess.setdefault(audience, FrontGuess())
        plan = FrontMatterLast.find(root, sensitive_css)
        pages = guess.pages(plan.items) if plan is not None else None
        if plan is not None and pages is not None:
            plan.move(pages)
            for _ in range(3):
                extra = self.weasyprint.CSS(string=plan.css(), font_config=self.font_config)
                rendered = document.render(font_config=self.font_config, **{
                    **options, "stylesheets": [*options["stylesheets"], extra]})
                found = plan.measure(rendered)
                if found is not None:
                    guess.learn(plan.items, *found)
                    if found == (plan.cover_pages, plan.front_pages):
                        return plan.reorder(rendered)
                # Laid out again (with what was measured, or in document order), after letting
                # go of this layout: two at once would double the peak memory.
                del rendered
                if found is None:
                    break
                plan.cover_pages, plan.front_pages = found
            plan.undo()
        rendered = document.render(font_config=self.font_config, **options)
        if plan is not None and pages is None:
            # Unknown page counts: laid out in order, and measured for the next pack.
            found = plan.measure_in_order(rendered)
            if found is not None:
                guess.learn(plan.items, *found)
        return rendered


@contextlib.contextmanager
def _css_messages() -> Iterator[list[str]]:
    """Collect what WeasyPrint's logger says while a stylesheet is parsed and validated."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if text.startswith(("Ignored", "Invalid", "Unknown", "Expected", "Unsupported")):
                messages.append(text)

    logger = logging.getLogger("weasyprint")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
