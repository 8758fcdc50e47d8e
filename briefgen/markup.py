"""Markdown note bodies to safe HTML, with claim markers and citations.

Marker syntax in a note body:
  [[INT-07]]              a claim reference: renders the claim's status marker, linked to it
  [@ref-id]               a citation of a reference in sources/references.yaml
  [@ref-id, art. 8]       ... with a locator
  [@a; @b, p. 3]          several citations at once

Order of work, and why: markers are swapped for unguessable tokens *before* Markdown runs,
the Markdown output is sanitised with an allowlist (nh3), and only then are the tokens
replaced by trusted HTML. So note text can never forge a marker, an id or a class, and raw
HTML in a note cannot smuggle scripts, styles, objects or attachments.
"""

from __future__ import annotations

import html as htmllib
import posixpath
import re
import secrets
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

CLAIM_MARKER = re.compile(r"\[\[\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\s*\]\]")
# The bracket classes exclude "[" (and "<" in a tag) so a scan stops at the next candidate:
# linear time on hostile text such as "[@a[@a[@a..." (otherwise quadratic).
CITATION = re.compile(r"\[@([^\[\]\n]+)\]")
CITE_ITEM = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9_.-]*)\s*(?:,\s*(.*))?$")

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "b", "i", "u", "s", "sub", "sup", "small", "code", "pre",
    "kbd", "blockquote", "q", "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
    "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "a", "img", "figure",
    "figcaption", "abbr", "span", "div", "mark",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"}, "td": {"align"}, "abbr": {"title"}, "ol": {"start"},
}
HEADING = re.compile(r"<(/?)h([1-6])>")
MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(([^)\s]*)")
HTML_IMAGE = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
HTML_ALT = re.compile(r"""\balt\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
HTML_SRC = re.compile(r"""\bsrc\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
# In sanitised output (nh3 writes attributes in double quotes, escaped).
OUT_LINK = re.compile(r'<a\b([^>]*)>(.*?)</a>', re.DOTALL)
OUT_HREF = re.compile(r'\bhref="([^"]*)"')
OUT_IMG = re.compile(r"<img\b[^>]*>")
OUT_SRC = re.compile(r'\bsrc="([^"]*)"')
# An image alone in a paragraph becomes a figure; its Markdown title becomes the caption.
LONE_IMAGE = re.compile(r"<p>(<img\b[^>]*?>)</p>")
IMG_TITLE = re.compile(r'\btitle="([^"]*)"')


@dataclass(frozen=True)
class Marker:
    kind: str           # "claim" | "cite"
    target: str         # claim id or reference id
    locator: str
    line: int           # 1-based line within the text given to find_markers
    column: int


def parse_citation(inner: str) -> list[tuple[str, str]] | None:
    """`a; @b, p. 3` -> [("a", ""), ("b", "p. 3")], or None if it is not a citation."""
    items = []
    for part in inner.split(";"):
        match = CITE_ITEM.match(part.strip())
        if not match:
            return None
        items.append((match.group(1), (match.group(2) or "").strip()))
    return items


def find_markers(text: str) -> list[Marker]:
    """Every claim marker and citation with its position, for validation and linting."""
    found: list[Marker] = []
    for match in CLAIM_MARKER.finditer(text):
        line, col = _position(text, match.start())
        found.append(Marker("claim", match.group(1), "", line, col))
    for match in CITATION.finditer(text):
        items = parse_citation(match.group(1))
        line, col = _position(text, match.start())
        for ref_id, locator in items or []:
            found.append(Marker("cite", ref_id, locator, line, col))
    return found


@dataclass(frozen=True)
class Image:
    alt: str
    line: int
    column: int
    src: str = ""


def _attribute(pattern: re.Pattern[str], tag: str) -> str:
    match = pattern.search(tag)
    return next((g for g in match.groups()[1:] if g is not None), "") if match else ""


def find_images(text: str) -> list[Image]:
    """Markdown and raw-HTML images with their alt text and file, for the image rules."""
    found = []
    for match in MD_IMAGE.finditer(text):
        found.append(Image(match.group(1).strip(), *_position(text, match.start()),
                           src=match.group(2)))
    for match in HTML_IMAGE.finditer(text):
        tag = match.group(0)
        found.append(Image(_attribute(HTML_ALT, tag).strip(), *_position(text, match.start()),
                           src=htmllib.unescape(_attribute(HTML_SRC, tag))))
    return found


def _figure(match: re.Match[str]) -> str:
    img = match.group(1)
    title = IMG_TITLE.search(img)
    caption = f"<figcaption>{title.group(1)}</figcaption>" if title else ""
    return f"<figure>{img}{caption}</figure>"


def _position(text: str, offset: int) -> tuple[int, int]:
    starts = _line_starts(text)  # cached: one pass per text, not one per marker
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


@lru_cache(maxsize=8)
def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


ClaimRenderer = Callable[[str], str]
CiteRenderer = Callable[[list[tuple[str, str]]], str]
UrlRewriter = Callable[[str], str | None]
SAFE_LINK = re.compile(r"^(?:https?://[^/\\]|mailto:|#)", re.IGNORECASE)


def web_or_anchor(href: str) -> str | None:
    """The only links a reader's PDF viewer may follow: the web, mail and the pack itself."""
    return href if SAFE_LINK.match(href) else None


def note_anchor(href: str, area: str, notes: set[str]) -> str | None:
    """`#note-SLUG` for a relative link to a note of `area` among `notes`, else None."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
        return None
    path = posixpath.normpath(posixpath.join(area, unquote(parts.path)))
    folder, name = posixpath.split(path)
    slug = name[:-len(".md")]
    return f"#note-{slug}" if folder == area and slug in notes else None


def _rewrite_links(html_text: str, link: UrlRewriter) -> str:
    def one(match: re.Match[str]) -> str:
        attributes, inner = match.groups()
        href = OUT_HREF.search(attributes)
        target = link(htmllib.unescape(href.group(1))) if href else None
        if target is None:
            return inner  # plain text: no annotation, no path of the builder's machine
        title = re.search(r'\btitle="[^"]*"', attributes)
        extra = f" {title.group(0)}" if title else ""
        return f'<a href="{htmllib.escape(target)}"{extra}>{inner}</a>'

    return OUT_LINK.sub(one, html_text)


def render(body: str, *, claim: ClaimRenderer, cite: CiteRenderer, heading_shift: int = 2,
           link: UrlRewriter = web_or_anchor, image: UrlRewriter | None = None) -> str:
    """Render a note body to sanitised HTML; marker HTML comes from the trusted callbacks.

    `link` maps each link target to the one the output may carry (None: the link becomes
    plain text); `image` maps each image file name to its URL (None: the image is dropped).
    """
    nonce = secrets.token_hex(8)
    replacements: list[str] = []

    def token(html: str) -> str:
        replacements.append(html)
        return f"bgx{nonce}q{len(replacements) - 1}x"

    def swap_cite(match: re.Match[str]) -> str:
        items = parse_citation(match.group(1))
        return token(cite(items)) if items else match.group(0)

    import markdown  # imported here: loading and a no-op build only scan for markers
    import nh3

    text = CLAIM_MARKER.sub(lambda m: token(claim(m.group(1))), body)
    text = CITATION.sub(swap_cite, text)
    html = markdown.markdown(
        text, extensions=["tables", "sane_lists", "smarty", "def_list", "abbr"],
        extension_configs={"tables": {"use_align_attribute": True}}, output_format="html")
    html = nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel=None,
        url_schemes={"http", "https", "mailto"}, strip_comments=True,
        clean_content_tags={"script", "style"})

    def shift(match: re.Match[str]) -> str:
        level = min(int(match.group(2)) + heading_shift, 6)
        return f"<{match.group(1)}h{level}>"

    html = HEADING.sub(shift, html)
    html = _rewrite_links(html, link)
    if image is not None:
        html = _rewrite_images(html, image)
    html = LONE_IMAGE.sub(_figure, html)
    return re.sub(rf"bgx{nonce}q(\d+)x", lambda m: replacements[int(m.group(1))], html)


def _rewrite_images(html_text: str, image: UrlRewriter) -> str:
    def one(match: re.Match[str]) -> str:
        tag = match.group(0)
        src = OUT_SRC.search(tag)
        target = image(htmllib.unescape(src.group(1))) if src else None
        if target is None or src is None:
            return ""
        return tag[:src.start(1)] + htmllib.escape(target) + tag[src.end(1):]

    return OUT_IMG.sub(one, html_text)


def inline(text: str) -> str:
    """Render a short Markdown string (summary, basis) as inline, sanitised HTML."""
    html = render(text, claim=lambda _id: "", cite=lambda _items: "", image=lambda _src: None)
    return re.sub(r"^<p>(.*)</p>$", r"\1", html.strip(), flags=re.DOTALL)
