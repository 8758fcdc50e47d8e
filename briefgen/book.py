"""The book: every area of the briefing, as one audience may see it, in one volume (a pack
of packs, as DESIGN §8 puts it). One cover and contents for the whole briefing; each area in
order as a part (key judgments, scope, notes, caveats); one sources appendix numbered across
the book; one keys appendix; an index of every claim. Made from the packs `pack.assemble`
confined to the audience, so the handling rule holds as in each pack; every edition (PDF,
HTML, EPUB) is made from the book's HTML like a pack's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from markupsafe import Markup

from briefgen.i18n import language
from briefgen.model import Area, Audience, Project
from briefgen.pack import Pack, assemble, most_restrictive
from briefgen.schema import AreaMeta

BOOK = "book"   # the book's name in output/<audience>/ (no area may be called so)
GLOBAL_IDS = ("claim-", "use-", "ref-")  # unique across the project: kept as they are


@dataclass(frozen=True)
class Book:
    pack: Pack                 # the whole briefing: every visible claim, reference, note
    parts: tuple[Pack, ...]    # each area's pack, citation numbers running across the book


def assemble_book(project: Project, audience: Audience) -> Book | None:
    """The book for `audience`, or None when every area is withheld from it."""
    packs = [p for area in project.areas if (p := assemble(project, area, audience))]
    if not packs:
        return None
    numbers: dict[str, int] = {}
    references = {}
    for pack in packs:
        for ref_id in sorted(pack.citation_numbers, key=pack.citation_numbers.__getitem__):
            if ref_id not in numbers:
                numbers[ref_id] = len(numbers) + 1
                references[ref_id] = pack.references[ref_id]
    parts = tuple(replace(p, references=references, citation_numbers=numbers) for p in packs)
    notes = tuple(n for p in packs for n in p.notes)
    tlp = most_restrictive(*(p.tlp for p in packs))
    title = language(audience.config.lang or project.config.lang).gettext("Complete briefing")
    area = Area(BOOK, f"{BOOK}.md", AreaMeta(title=title), "", 1, notes,
                handling=most_restrictive(*(p.area.handling for p in packs)))
    whole = Pack(project, area, audience, notes, tuple(c for p in packs for c in p.claims),
                 {k: v for p in packs for k, v in p.gradings.items()},
                 tuple(kj for p in packs for kj in p.key_judgments), references, numbers,
                 tlp, [w for p in packs for w in p.withheld])
    return Book(whole, parts)


@dataclass(frozen=True)
class Part:
    slug: str
    title: str
    html: Markup
    sections: list[tuple[str, str]]   # (anchor, title) for the contents
    claims: tuple                     # the part's claims, for the index


_ID = re.compile(r'\bid="([^"]+)"')
_HREF = re.compile(r'\bhref="#([^"]+)"')
_SECTION = re.compile(r'<section class="(?:scope|note|caveats|discussion|key-judgments)[^"]*" '
                      r'id="([^"]+)">\s*<h2>(.*?)</h2>', re.DOTALL)


def _prefixed(html: str, slug: str) -> str:
    """The part's own ids (`caveats`, `note-10-facts`, `scope`...) prefixed with its area, so
    two parts never share one; links to them follow. Claim, marker and reference anchors are
    unique across the project and stay as they are."""
    local = {i for i in _ID.findall(html) if not i.startswith(GLOBAL_IDS)}
    html = _ID.sub(lambda m: f'id="{slug}--{m[1]}"' if m[1] in local else m[0], html)
    return _HREF.sub(lambda m: f'href="#{slug}--{m[1]}"' if m[1] in local else m[0], html)


def render_book_html(book: Book) -> str:
    from briefgen.render import render_fragment

    parts = []
    for pack in book.parts:
        html = _prefixed(render_fragment(pack, "book_part.html.j2"), pack.area.slug)
        sections = [(anchor, re.sub(r"<[^>]+>", "", title).strip())
                    for anchor, title in _SECTION.findall(html)]
        parts.append(Part(pack.area.slug, pack.area.meta.title, Markup(html), sections,
                          pack.claims))
    return render_fragment(book.pack, "book.html.j2", parts=parts)
