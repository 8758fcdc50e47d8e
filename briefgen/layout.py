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
once), or, when its page is already laid out (the contents, pointing forward), that page is
flagged and laid out once more. Nothing else changes, and the PDF shows the same numbers;
`tests/test_e2e.py` checks every page number against where its target really is, and
`benchmarks/layouts.py` counts the layouts.

It applies only to the WeasyPrint versions it was written against (`SUPPORTED`); with any
other, WeasyPrint runs unchanged.
"""

from __future__ import annotations

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
