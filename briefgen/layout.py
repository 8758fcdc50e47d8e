"""Page references resolved without laying pages out again: a small, guarded change to how
WeasyPrint updates `target-counter(attr(href url), page)`.

How WeasyPrint does it: a box whose `content` holds `target-counter(..., page)` is recorded
as missing its *own* page counter, and its text is computed again only when its own page is
laid out, after the fact: the page is laid out with the number missing, flagged as changed
and laid out again in the next pass; the total page count, known after the first pass,
changes its page counters once more and costs a third layout. In a briefing pack the
caveats' "see p. N" references make every caveats page cost three layouts, and the contents
page too.

The change: a box whose content is only text, leaders and `target-counter`s of the page
counter (nothing of its own page) is tied to the anchors it points at. When an anchor's page
becomes known or changes, the box's text is computed at once: before its own first layout
when it comes later in the document (the caveats, pointing back at claim markers: laid out
once), or, when its page is already laid out (a reference pointing forward), that page is
flagged and laid out once more. Nothing else changes, and the PDF shows the same numbers;
`tests/test_e2e.py` checks every page number against where its target really is, and
`benchmarks/layouts.py` counts the layouts. The contents, the one place whose references
point forward, are laid out last and moved into place (`FrontMatterLast`, below), so every
page of a pack is laid out once.

It applies only to the WeasyPrint versions it was written against (`SUPPORTED`); with any
other, WeasyPrint runs unchanged.
"""

from __future__ import annotations

import re
from typing import Any

SUPPORTED = ("70.",)
_ONLY_TEXT = ("string", "leader()")
_TARGET = ("target-counter()", "target-counters()")
_state = {"applied": False}


def _target_anchors(box: Any) -> list[str] | None:  # noqa: ANN401
    """The anchors a box's `content` points at with page counters, if that is all it needs
    (text, leaders and target counters of `page`); None otherwise."""
    from weasyprint.css.targets import anchor_name_from_token
    from weasyprint.urls import get_url_tuple

    content = box.style["content"]
    if not isinstance(content, (list, tuple)):
        return None
    anchors = []
    for type_, value in content:
        if type_ in _ONLY_TEXT:
            continue
        if type_ not in _TARGET or value[1] != "page":
            return None
        token = value[0]
        if token[0] == "attr()":
            name, kind, fallback = token[1]
            attr = box.element.get(name, fallback) if box.element is not None else fallback
            token = (("url", get_url_tuple(attr, box.style.base_url)) if kind == "url"
                     else ("string", attr))
        anchor = anchor_name_from_token(token)
        if anchor is None:
            return None
        anchors.append(anchor)
    return anchors or None


def resolve_page_references_early() -> bool:
    """Install the change (once per process); True if it is in force."""
    if _state["applied"]:
        return True
    import weasyprint
    from weasyprint.css.targets import TargetCollector

    if not weasyprint.__version__.startswith(SUPPORTED):
        return False
    check_pending = TargetCollector.check_pending_targets
    cache_target = TargetCollector.cache_target_page_counters

    def check_pending_targets(self: Any) -> None:  # noqa: ANN401
        check_pending(self)
        # Pagination starts now: tie each page reference to its anchors, and stop WeasyPrint
        # waiting for the referring box's own page counter, which it does not use.
        refs: dict[str, list[Any]] = {}
        for (box, token), lookup in self.counter_lookup_items.items():
            if token != "content" or lookup.missing_counters != ["page"]:
                continue
            anchors = _target_anchors(box)
            if anchors is None:
                continue
            lookup.missing_counters = []
            for anchor in anchors:
                refs.setdefault(anchor, []).append(lookup)
        self.briefgen_page_refs = refs

    def cache_target_page_counters(self: Any, anchor_name: str,  # noqa: ANN401
                                   page_counter_values: dict[str, list[int]],
                                   page_maker_index: int, page_maker: list[Any]) -> None:
        item = self.target_lookup_items.get(anchor_name)
        before = item.cached_page_counter_values.get("page") if item else None
        cache_target(self, anchor_name, page_counter_values, page_maker_index, page_maker)
        if self.collecting or item is None or item.cached_page_counter_values.get(
                "page") == before:
            return
        for lookup in getattr(self, "briefgen_page_refs", {}).get(anchor_name, ()):
            lookup.parse_again(None)
            index = lookup.page_maker_index
            if index is not None and index < len(page_maker):
                page_maker[index][-1]["content_changed"] = True

    TargetCollector.check_pending_targets = check_pending_targets
    TargetCollector.cache_target_page_counters = cache_target_page_counters
    _state["applied"] = True
    return True


# -- The contents laid out last -------------------------------------------------------------
#
# The change above lays a page out once when its page references point backwards. The
# contents page points forwards (it comes before what it lists), so WeasyPrint lays it out a
# second time once its targets are placed. `FrontMatterLast` removes that second layout: the
# block holding the contents (the "front matter") is moved to the end of the document, where
# its references point backwards, and its pages are moved back into place after layout. Page
# counters are set so every page shows the number it has in the final order: the first body
# page skips the front matter's pages, the front matter's first page follows the cover's.
#
# This needs the number of cover pages (c) and front-matter pages (k) before layout. They
# are guessed from what earlier packs of the same audience took in this process (one each
# for a short contents; `FrontGuess`), measured after layout, and the layout is done again
# with the measured numbers when a guess was wrong; a contents too long to guess is laid out
# in document order and measured for the next pack. A PDF never depends on a guess, only the
# time does.
#
# It is used only where the order of layout cannot change the result, which is checked before
# layout: no stylesheet but briefgen's own base.css uses left/right/blank/nth pages, page or
# element counters, named pages, string-set, running elements or footnotes; the block has a
# block before and after it, holds no footnote, and both it and the block after it open with
# an h2 (so running headers read the same in either order). After layout, the block before it
# and the block itself must end with a forced page break. Otherwise, or when WeasyPrint is
# not a supported version, the document is laid out in its own order.

FRONT_PAGE = "briefgen-front"
_MARK = "data-briefgen-front-last"
# Entries (list items and table rows) a front matter may have to be guessed to fill one page
# before anything is known of its audience: 11 in the sample; a large-print A5 page holds
# about 12. A longer one is laid out in document order (k extra layouts out of many pages)
# unless the same audience has shown how many pages it takes.
DEFAULT_FIT = 12
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_ORDER_SENSITIVE = re.compile(
    r"@page[^{]*:(left|right|recto|verso|blank|nth)\b"
    r"|counter-(reset|set|increment)|(?<![\w@-])page\s*:|string-set|running\s*\("
    r"|float\s*:\s*footnote|footnote-(display|policy)"
    r"|break-(before|after)\s*:\s*(left|right|recto|verso)"
    r"|page-break-(before|after)\s*:\s*(left|right)", re.IGNORECASE)


def order_sensitive(css_text: str) -> bool:
    """True if a stylesheet uses something whose result could depend on layout order."""
    return bool(_ORDER_SENSITIVE.search(_COMMENT.sub("", css_text)))


def _elements(parent: Any) -> list[Any]:  # noqa: ANN401
    return [child for child in parent if isinstance(child.tag, str)]


def _opens_with_h2(element: Any) -> bool:  # noqa: ANN401
    for _ in range(4):
        if (element.text or "").strip():
            return False
        children = _elements(element)
        if not children:
            return False
        element = children[0]
        if element.tag == "h2":
            return True
    return False


class FrontMatterLast:
    """One pack's front matter, moved to the end of its HTML for layout."""

    def __init__(self, body: Any, element: Any, index: int,  # noqa: ANN401
                 before: Any, after: Any, items: int) -> None:  # noqa: ANN401
        self.body, self.element, self.index = body, element, index
        self.before, self.after, self.items = before, after, items
        self.cover_pages = 1
        self.front_pages = 1

    @classmethod
    def find(cls, root: Any, sensitive_css: bool) -> FrontMatterLast | None:  # noqa: ANN401
        """The front matter of `root` (the parsed HTML), if laying it out last is safe."""
        if sensitive_css or not _state["applied"]:
            return None
        body = root.find("body")
        if body is None:
            return None
        blocks = _elements(body)
        index = next((i for i, e in enumerate(blocks) if e.get("id") == "contents"
                      or e.find(".//*[@id='contents']") is not None), None)
        if index is None:
            return None
        element = blocks[index]
        if not 0 < index < len(blocks) - 1 or (element.tail or "").strip():
            return None
        if any("footnote" in (e.get("class") or "") or e.get("style") for e in element.iter()
               if isinstance(e.tag, str)):
            return None
        after = blocks[index + 1]
        if not (_opens_with_h2(element) and _opens_with_h2(after)):
            return None
        items = sum(1 for e in element.iter() if e.tag in ("li", "tr"))
        return cls(body, element, list(body).index(element), blocks[index - 1], after, items)

    def move(self, pages: tuple[int, int]) -> None:
        """Move the front matter to the end, for `pages` (cover, front) pages."""
        self.cover_pages, self.front_pages = pages
        self.body.remove(self.element)
        self.element.set(_MARK, "")
        self.body.append(self.element)

    def measure_in_order(self, document: Any) -> tuple[int, int] | None:  # noqa: ANN401
        """(cover pages, front pages) of a document laid out with the front matter in place,
        to guess the next pack's."""
        front = [i for i, page in enumerate(document.pages)
                 if self._block(page._page_box, self.element) is not None]
        if not front or front != list(range(front[0], front[0] + len(front))):
            return None
        return front[0], len(front)

    def undo(self) -> None:
        """Put the front matter back where the HTML had it."""
        self.body.remove(self.element)
        del self.element.attrib[_MARK]
        self.body.insert(self.index, self.element)

    def css(self) -> str:
        c, k = self.cover_pages, self.front_pages
        return (f"[{_MARK}] {{ break-before: page; page: {FRONT_PAGE}; }}\n"
                f"@page :nth({c + 1}) {{ counter-increment: page {k + 1}; }}\n"
                f"@page {FRONT_PAGE}:nth(1 of {FRONT_PAGE}) {{ counter-set: page {c + 1}; }}\n")

    def measure(self, document: Any) -> tuple[int, int] | None:  # noqa: ANN401
        """(cover pages, front pages) as laid out, or None if the order could matter."""
        boxes = [page._page_box for page in document.pages]
        front = [i for i, box in enumerate(boxes) if box.page_type.name == FRONT_PAGE]
        total, k = len(boxes), len(front)
        if not k or front != list(range(total - k, total)):
            return None
        starts = [i for i, box in enumerate(boxes) if self._block(box, self.after) is not None]
        if not starts or starts[0] == 0:
            return None
        c = starts[0]
        before = self._block(boxes[c - 1], self.before)
        moved = self._block(boxes[-1], self.element)
        if before is None or moved is None:
            return None
        if before.style["break_after"] != "page" or moved.style["break_after"] != "page":
            return None
        return c, k

    def reorder(self, document: Any) -> Any:  # noqa: ANN401
        pages = document.pages
        c, k = self.cover_pages, self.front_pages
        return document.copy(pages[:c] + pages[-k:] + pages[c:-k])

    @staticmethod
    def _block(page_box: Any, element: Any) -> Any:  # noqa: ANN401
        for html in page_box.children[:1]:
            for body in getattr(html, "children", ()):
                for child in getattr(body, "children", ()):
                    if getattr(child, "element", None) is element:
                        return child
        return None


class FrontGuess:
    """What one audience's front matter took, to guess the next pack's (cover, front) pages.

    A guess is given only when it is likely right: the same number of entries was measured
    before, or the entries are no more than have been seen (or are assumed, `DEFAULT_FIT`)
    to fit one page and fewer than have been seen to need two.
    """

    def __init__(self) -> None:
        self.cover = 1
        self.exact: dict[int, int] = {}
        self.fits = DEFAULT_FIT
        self.spills: int | None = None

    def pages(self, items: int) -> tuple[int, int] | None:
        if items in self.exact:
            return self.cover, self.exact[items]
        if items <= self.fits and (self.spills is None or items < self.spills):
            return self.cover, 1
        return None

    def learn(self, items: int, cover: int, front: int) -> None:
        self.cover = cover
        self.exact[items] = front
        if front == 1:
            self.fits = max(self.fits, items)
        else:
            self.spills = items if self.spills is None else min(self.spills, items)
            self.fits = min(self.fits, items - 1)
