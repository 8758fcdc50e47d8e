"""A small SVG chart of a pack's claims by status and source grade, drawn without a browser.

One bar per status (sourced, uncorroborated, disputed); each bar is split by the reliability of
the best supporting source (A-F, or "none"). Every segment carries its letter and count, so the
chart reads the same in greyscale: colour is a help, never the only signal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from xml.sax.saxutils import escape

from briefgen.claims import Grading, Status, Translator

ROWS = (Status.SOURCED, Status.UNCORROBORATED, Status.DISPUTED)
GRADES = ("A", "B", "C", "D", "E", "F", "none")
PALETTES = {
    "colour": {
        Status.SOURCED: ("#1d6b35", "#3f8a55", "#6aa77c", "#97c3a3", "#bddcc5", "#dcefe1",
                         "#f2f2f2"),
        Status.UNCORROBORATED: ("#7a4f00", "#946400", "#b07e1a", "#c99a45", "#dfbb7a",
                                "#f0dcb4", "#f2f2f2"),
        Status.DISPUTED: ("#8f1326", "#a8283c", "#c04a5c", "#d57583", "#e6a2ab", "#f3cfd4",
                          "#f2f2f2"),
    },
    "greyscale": {
        status: ("#262626", "#404040", "#5c5c5c", "#7a7a7a", "#a3a3a3", "#cfcfcf", "#f2f2f2")
        for status in ROWS
    },
}


def _text_colour(fill: str) -> str:
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def counts(gradings: Iterable[Grading]) -> dict[Status, Counter[str]]:
    table: dict[Status, Counter[str]] = {status: Counter() for status in ROWS}
    for g in gradings:
        if g.status in table:
            table[g.status][g.grade[0] if g.supporting else "none"] += 1
    return table


class _English:
    def gettext(self, message: str, /) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return singular if n == 1 else plural


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


def claims_chart(gradings: Iterable[Grading], palette: str = "colour",
                 text_size: float = 11.0, tr: Translator | None = None) -> str:
    """The chart as an SVG string (all text is generated here, in the pack's language through
    `tr`; nothing from notes)."""
    tr = tr or _English()
    table = counts(gradings)
    colours = PALETTES[palette]
    k = text_size / 11.0  # everything scales with the text, so large print stays legible
    label_w, bar_w, row_h, gap, top = 118.0 * k, 330.0, 22.0 * k, 9.0 * k, 6.0
    biggest = max((sum(c.values()) for c in table.values()), default=0) or 1
    unit = bar_w / biggest
    height = top + len(ROWS) * (row_h + gap)
    width = label_w + bar_w + 30 * k
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="claims-chart" role="img" '
             f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
             'font-family="Brief Sans, Noto Sans CJK SC, sans-serif">']
    none = tr.gettext("none")
    summary = "; ".join(
        f"{tr.gettext(status.word)}: {sum(table[status].values())} ("
        + ", ".join(f"{g if g != 'none' else none} {n}" for g, n in sorted(table[status].items()))
        + ")" for status in ROWS)
    title = tr.gettext("Claims by status and best source grade.")
    parts.append(f"<title>{escape(title)} {escape(summary)}</title>")
    for row, status in enumerate(ROWS):
        y = top + row * (row_h + gap)
        total = sum(table[status].values())
        name = escape(_capitalised(tr.gettext(status.word)))
        parts.append(f'<text x="0" y="{y + row_h * 0.68:.1f}" font-size="{text_size:g}" '
                     f'font-weight="bold" fill="#000">{name}</text>')
        x = label_w
        for index, grade in enumerate(GRADES):
            n = table[status][grade]
            if not n:
                continue
            w = n * unit
            fill = colours[status][index]
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{row_h}" '
                         f'fill="{fill}" stroke="#000" stroke-width="0.6"/>')
            label = f"{grade if grade != 'none' else '–'} {n}" if w >= 26 * k else (
                grade if grade != "none" else "–") if w >= 9 * k else ""
            if label:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + row_h * 0.68:.1f}" '
                             f'font-size="{text_size:g}" text-anchor="middle" '
                             f'fill="{_text_colour(fill)}">{label}</text>')
            x += w
        if total == 0:
            parts.append(f'<line x1="{label_w}" y1="{y}" x2="{label_w}" y2="{y + row_h}" '
                         'stroke="#000" stroke-width="0.6"/>')
        parts.append(f'<text x="{x + 5:.1f}" y="{y + row_h * 0.68:.1f}" font-size="{text_size:g}" '
                     f'fill="#000">{total}</text>')
    parts.append("</svg>")
    return "".join(parts)
