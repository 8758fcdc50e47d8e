"""The HTML edition: one self-contained file per pack that reads offline on a phone or a
desktop. The HTML `render` made for the PDF, with the audience's stylesheets and the images
inline (data: URIs, read through the contained fetcher), a reading layout for screens
(edition.css), landmarks and the TLP marking at the top and the foot, back-links with text,
and the pack's claims ledger as a JSON-LD block that nothing executes. No script, no font
files (the reader's own serif and sans-serif fonts; the PDF embeds briefgen's), and no
request for anything outside the file."""

from __future__ import annotations

import base64
import html as htmlmod
import json
import re
from pathlib import Path
from urllib.parse import urljoin

from briefgen import i18n, paths
from briefgen.formats import Context, Edition
from briefgen.pack import Pack

EDITION_CSS = paths.TEMPLATES / "edition.css"  # hashed with the templates, like base.css
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^)'"]*)\1\s*\)""", re.IGNORECASE)
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)
_PAGEREF = re.compile(r'<a class="pageref" href="#(use-[^"]+)"></a>')


def data_uri(url: str, roots: list[Path], blocked: list[str]) -> str | None:
    """`url` (a file: URL) as a data: URI if the containment rules allow it, else None (and
    the refusal recorded, as the PDF's fetcher records it)."""
    from briefgen.pdf import BlockedResource, contained_read

    try:
        _, data, mime = contained_read(url, roots)
    except BlockedResource as exc:
        blocked.append(f"{url} ({exc})")
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def stylesheet(path: Path, roots: list[Path], blocked: list[str]) -> str:
    """A stylesheet's text for a screen edition: @font-face rules dropped, every other url()
    made a data: URI (or dropped, if the containment rules refuse it)."""
    from briefgen.pdf import BlockedResource, contained_read

    try:
        _, data, _ = contained_read(path.as_uri(), roots)
    except BlockedResource as exc:
        blocked.append(f"{path} ({exc})")
        return ""
    text = _FONT_FACE.sub("", data.decode("utf-8", "replace"))

    def inline(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith("data:"):
            return match.group(0)
        uri = data_uri(urljoin(path.as_uri(), target), roots, blocked)
        return f'url("{uri}")' if uri else "none"
    return _CSS_URL.sub(inline, text).replace("</", "<\\/")


def screen_font_px(pack: Pack) -> int:
    """The base size on a screen: the audience's print size, scaled for reading at arm's
    length (10.5 pt prints at 14 px; a screen wants about 17), never below 16 px."""
    return max(16, round(pack.audience.config.base_font_size * 1.6))


_HEADING = re.compile(r"<h([1-6])\b([^>]*)>(.*?)</h\1>", re.DOTALL | re.IGNORECASE)


def level_headings(html: str) -> str:
    """Headings one level apart at most, in document order: a note's `##` under its h2 title
    prints as h4 in the PDF (the bookmarks skip the gap); on a screen, where headings are how
    assistive technology moves through a page, it becomes h3."""
    previous = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal previous
        level = min(int(match.group(1)), previous + 1)
        previous = level
        return f"<h{level}{match.group(2)}>{match.group(3)}</h{level}>"
    return _HEADING.sub(fix, html)


def back_links(html: str, lang: str = "en") -> str:
    """The caveats' links back to where a claim is made: in print they show a page number
    (CSS target-counter); on a screen they need words to be links at all (in `lang`)."""
    words = htmlmod.escape(i18n.language(lang).gettext("back to the text"))
    return _PAGEREF.sub(lambda m: f'<a class="pageref" href="#{m[1]}">{words}</a>', html)


def ledger_script(pack: Pack) -> str:
    """The pack's claims ledger (what this audience may see) as inert JSON-LD."""
    from briefgen.ledger import pack_ledger

    text = json.dumps(pack_ledger(pack), ensure_ascii=False, indent=1, sort_keys=True)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return (f'<script type="application/ld+json" id="briefgen-claims-ledger">{text}'
            "</script>")


def edition_html(pack: Pack, html: str, context: Context, blocked: list[str]) -> str:
    """The rendered HTML made fit for a screen, every resource inline."""
    from briefgen.pdf import allowed_roots

    roots = allowed_roots(context.project_root)
    base = (context.project_root.resolve() / "sources").as_uri() + "/"

    def embed(match: re.Match[str]) -> str:
        src = htmlmod.unescape(match.group(2))
        new = data_uri(urljoin(base, src), roots, blocked)
        return f"{match.group(1)}{htmlmod.escape(new or '', quote=True)}{match.group(3)}"

    html = _IMG_SRC.sub(embed, html)
    html = level_headings(back_links(html, pack.lang))
    # A wide table scrolls inside itself on a phone: it takes the keyboard focus, so that
    # someone without a pointer can scroll it too.
    html = re.sub(r"<table\b", '<table tabindex="0"', html)
    styles = [stylesheet(p, roots, blocked) for p in context.stylesheets]
    styles.append(EDITION_CSS.read_text("utf-8"))
    styles.append(f":root {{ font-size: {screen_font_px(pack)}px; }}")
    head = ('<meta name="viewport" content="width=device-width, initial-scale=1">'
            + "".join(f"<style>{css}</style>" for css in styles if css))
    html = html.replace("</head>", head + "</head>", 1)
    marking = f"TLP:{pack.tlp}"
    label = htmlmod.escape(i18n.language(pack.lang).gettext("Handling"), quote=True)
    html = re.sub(r"(<body\b[^>]*>)", lambda m: f'{m[1]}<header class="edition-tlp" '
                  f'aria-label="{label}">{marking}</header><main>', html, count=1)
    return html.replace("</body>", f'</main><footer class="edition-tlp end" '
                        f'aria-label="{label}">{marking}</footer></body>', 1)


def build(pack: Pack, html: str, context: Context) -> Edition:
    blocked: list[str] = []
    page = edition_html(pack, html, context, blocked)
    page = page.replace("</head>", ledger_script(pack) + "</head>", 1)
    return Edition(page.encode("utf-8"), blocked=blocked)
