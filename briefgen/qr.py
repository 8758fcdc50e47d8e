"""The QR code on a pack's cover: the pack's address, as inline SVG made by segno.

An audience with `online_url:` (e.g. `https://example.org/briefing/{area}.html`) gets, on
each pack's cover, a QR code of that address with `{area}` filled in, and the address in
print beside it, so a reader of the paper copy can open the online one. The SVG is inline
(nothing fetched, the same in PDF, HTML and EPUB) and is an image with the address as its
text alternative. The code is module-size exact: 0.6 mm modules, error correction M.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

MODULE_MM = 0.6


def address(online_url: str, area_slug: str) -> str:
    return online_url.format(area=area_slug)


def qr_svg(url: str) -> Markup:
    import segno

    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=MODULE_MM, border=0, unit="mm", dark="#000", svgclass=None,
                          lineclass=None, omitsize=False)
    label = escape(f"QR code: {url}")
    # An image with a name, for screen readers (and axe-core's svg-img-alt rule).
    svg = re.sub(r"^<svg ", f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
                           f'aria-label="{label}" ', svg, count=1)
    return Markup(svg)
