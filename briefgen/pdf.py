"""HTML -> PDF bytes with WeasyPrint, through one restricted URL fetcher.

WeasyPrint is imported lazily (it costs ~0.4 s): a no-op build never imports it.
The fetcher serves only `file:` URLs that resolve (after symlinks) inside the allowed roots,
the project and briefgen's own package data, and `data:` URLs. No network, no redirects.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from briefgen.render import PACKAGE_TEMPLATES

if TYPE_CHECKING:  # pragma: no cover
    from weasyprint.urls import URLFetcherResponse

PACKAGE_ROOT = PACKAGE_TEMPLATES.parent
MAX_RESOURCE_BYTES = 20 * 1024 * 1024


class BlockedResource(ValueError):
    """A resource the containment rules refuse; WeasyPrint logs it and carries on."""


def _make_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ContainedFetcher(URLFetcher):
        def __init__(self, roots: list[Path], blocked: list[str]) -> None:
            super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
            self.roots = [r.resolve() for r in roots]
            self.blocked = blocked

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:  # noqa: ANN401
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return _data_response(url, URLFetcherResponse)
            if scheme != "file":
                return self._refuse(url, f"scheme '{scheme}:' is not allowed")
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                return self._refuse(url, "remote file host")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self.roots):
                return self._refuse(url, "outside the project")
            if not path.is_file():
                return self._refuse(url, "no such file")
            if path.stat().st_size > MAX_RESOURCE_BYTES:
                return self._refuse(url, "file too large")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                      {"Content-Type": mime})

        def _refuse(self, url: str, why: str) -> URLFetcherResponse:
            self.blocked.append(f"{url[:200]} ({why})")
            raise BlockedResource(f"blocked {url[:200]}: {why}")

    return ContainedFetcher


def _data_response(url: str, response_class: type) -> Any:  # noqa: ANN401
    header, _, payload = url[5:].partition(",")
    mime = header.split(";")[0] or "text/plain"
    body = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
    return response_class(url, body, {"Content-Type": mime})


class Renderer:
    """One per worker process: keeps WeasyPrint's font configuration and parsed base CSS."""

    def __init__(self) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self.weasyprint = weasyprint
        self.font_config = FontConfiguration()
        self.fetcher_class = _make_fetcher_class()
        self._css_cache: dict[tuple[str, bytes], Any] = {}

    def _css(self, path: Path, fetcher: Any) -> Any:  # noqa: ANN401
        data = path.read_bytes()
        key = (str(path), hashlib.sha256(data).digest())
        if key not in self._css_cache:
            self._css_cache[key] = self.weasyprint.CSS(
                string=data.decode("utf-8"), base_url=path.as_uri(), url_fetcher=fetcher,
                font_config=self.font_config)
        return self._css_cache[key]

    def pdf(self, html: str, *, project_root: Path, stylesheets: list[Path], identifier: bytes,
            variant: str | None = None, tags: bool = False) -> tuple[bytes, int, list[str]]:
        blocked: list[str] = []
        fetcher = self.fetcher_class([project_root, PACKAGE_ROOT], blocked)
        # Cached CSS objects hold the fetcher they were made with; they only ever fetch
        # package fonts and files beside the stylesheet, which the same rules allow.
        css = [self._css(p, fetcher) for p in stylesheets]
        document = self.weasyprint.HTML(
            string=html, base_url=(project_root / "sources").as_uri() + "/", url_fetcher=fetcher)
        options = {"stylesheets": css, "pdf_identifier": identifier, "pdf_variant": variant,
                   "pdf_tags": tags}
        rendered = document.render(font_config=self.font_config, **options)
        data = rendered.write_pdf(**options)
        assert isinstance(data, bytes)
        return data, len(rendered.pages), blocked
