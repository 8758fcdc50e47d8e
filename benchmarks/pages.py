"""The page checker (#23): read built PDFs page by page, as a reader would, and report
typesetting faults with file and page.

    python benchmarks/pages.py output/study-group/*.pdf

Faults reported (page numbers are 1-based, as printed):

- ``stranded-heading``: a heading (from the PDF outline: each bookmark gives a page and a y
  position) with no body text below it on its page, so its first entry starts on the next page.
- ``half-empty``: a page whose text ends above the middle of the text area and that does not
  end a section (the next page does not start with a top-level bookmark); the cover, the
  contents and the last page are skipped.
- ``footnote-calls``: two superscript calls run together ("8" then "9" with no gap reads "89").
- ``outside-page``: text that starts, or by its estimated width ends, outside the page box.
- ``overflow``: a line that runs past the right edge of its column into the margin (a long
  URL or token that could not break, a table too wide). Word boxes come from poppler's
  ``pdftotext -bbox`` (real glyph widths); the column's right edge is where lines end (the
  98th percentile of line ends over the pack) or, if more of them overflow than that, the
  left margin mirrored, whichever is further right; a line ending more than 4 pt past it is
  a fault. Running heads and feet (the top and bottom 8.5 % of the page) are left out.

It reads text with pypdf's extraction visitor (pypdf is already a test dependency), which gives
each text run's matrix and font size; no layout engine is involved, so it checks the PDF a
reader gets. Running headers and footers are recognised as text at the same height on most
pages at the top or bottom of the page, and are not body text.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.generic import Destination


@dataclass(frozen=True)
class Run:
    """One text run: its text, start point in PDF units (y up) and effective font size."""

    text: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class Fault:
    file: str
    page: int      # 1-based
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: p{self.page}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Mark:
    """A bookmark: its level (0 top), 0-based page, y (PDF units) and title."""

    level: int
    page: int
    top: float
    title: str


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def page_runs(page: PageObject) -> list[Run]:
    """The non-blank text runs of one page, in content-stream order."""
    runs: list[Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not text.strip():
            return
        m = _mult([float(v) for v in tm], [float(v) for v in cm])
        scale = (m[2] ** 2 + m[3] ** 2) ** 0.5
        runs.append(Run(text.strip(), m[4], m[5], float(size) * scale))

    page.extract_text(visitor_text=visit)
    return runs


def outline(reader: PdfReader) -> list[Mark]:
    marks: list[Mark] = []

    def walk(items: list[Destination | list], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                top = float(item.top) if item.top is not None else float("inf")
            except (ValueError, KeyError, TypeError):   # no usable destination: not ours to judge
                continue
            if page is not None:
                marks.append(Mark(level, page, top, str(item.title)))

    walk(reader.outline, 0)
    return marks


def _running(pages: list[list[Run]]) -> set[tuple[int, float]]:
    """(page, rounded y) of running heads and feet: text at the top or bottom of its page at a
    height shared by at least half the pages (only when there are three pages or more)."""
    if len(pages) < 3:
        return set()
    edges: Counter[float] = Counter()
    for runs in pages:
        if runs:
            ys = {round(r.y) for r in runs}
            edges.update({max(ys), min(ys)})
    common = {y for y, n in edges.items() if n * 2 >= len(pages)}
    found: set[tuple[int, float]] = set()
    for i, runs in enumerate(pages):
        heights = sorted({round(r.y) for r in runs})
        for y in heights[:2] + heights[-2:]:
            if y in common:
                found.add((i, y))
    return found


def _consecutive(digits: str, start: int | None = None, parts: int = 0) -> bool:
    """Whether digits split into two or more consecutive numbers k, k+1, ..."""
    if not digits:
        return parts >= 2
    for cut in range(1, len(digits) + 1):
        head = digits[:cut]
        if head.startswith("0"):
            return False
        if (start is None or int(head) == start) and _consecutive(
                digits[cut:], int(head) + 1, parts + 1):
            return True
    return False


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


def page_lines(path: Path) -> list[tuple[float, list[tuple[float, float, str]]]]:
    """Each page's width and its body lines as (start x, end x, text), from the word boxes of
    ``pdftotext -bbox``: words sharing a baseline make a line."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=300).stdout
    found = []
    for chunk in html.split("<page ")[1:]:
        size = _PAGE.match("<page " + chunk)
        if size is None:
            continue
        width, height = float(size[1]), float(size[2])
        rows: dict[int, list[tuple[float, float, str]]] = {}
        for m in _WORD.finditer(chunk):
            x0, y0, x1, y1 = (float(v) for v in m.groups()[:4])
            if y1 < 0.085 * height or y0 > 0.915 * height:   # running heads and feet
                continue
            rows.setdefault(round(y1), []).append((x0, x1, m[5]))
        found.append((width, [(min(w[0] for w in row), max(w[1] for w in row),
                               " ".join(w[2] for w in row)) for _, row in sorted(rows.items())]))
    return found


def overflows(path: Path, name: str) -> list[Fault]:
    pages = page_lines(path)
    lines = [line for _, page in pages for line in page]
    if len(lines) < 20:
        return []
    ends = sorted(end for _, end, _ in lines)
    starts = sorted(start for start, _, _ in lines)
    width = pages[0][0]
    edge = max(ends[int(len(ends) * 0.98)], width - starts[len(starts) // 20])
    return [Fault(name, number, "overflow", f"{text[-40:]!r} ends {end - edge:.0f} pt past "
                  "the column")
            for number, (_, page) in enumerate(pages, 1)
            for _, end, text in page if end > edge + 4]


def check(path: Path) -> list[Fault]:
    reader = PdfReader(path)
    name = str(path)
    faults: list[Fault] = []
    pages = [page_runs(p) for p in reader.pages]
    running = _running(pages)
    body = [[r for r in runs if (i, round(r.y)) not in running] for i, runs in enumerate(pages)]
    marks = outline(reader)

    # (d) text outside the page box
    for i, (page, runs) in enumerate(zip(reader.pages, pages, strict=True)):
        box = page.mediabox
        left, bottom = float(box.left), float(box.bottom)
        right, top = float(box.right), float(box.top)
        for r in runs:
            # a conservative width estimate; leader dots are clipped by the engine, not counted
            end = r.x + 0.4 * r.size * len(re.sub(r"\.{3,}", "", r.text))
            if r.x < left - 0.5 or r.y < bottom or r.y > top or end > right + 0.5:
                faults.append(Fault(name, i + 1, "outside-page", repr(r.text[:40])))

    # (a) a heading with nothing below it on its page
    for mark in marks:
        runs = sorted(body[mark.page], key=lambda r: -r.y)
        below = [r for r in runs if r.y <= mark.top + 0.5]
        if not below:
            faults.append(Fault(name, mark.page + 1, "stranded-heading", repr(mark.title)))
            continue
        size = below[0].size
        last_y = below[0].y
        rest: list[Run] = []
        for r in below[1:]:
            heading_line = abs(r.size - size) < 0.3 and r.text in mark.title
            if not rest and heading_line and last_y - r.y < 1.8 * size:
                last_y = min(last_y, r.y)      # another line of the heading itself
                continue
            if r.y < last_y - 0.5:
                rest.append(r)
        if not rest:
            faults.append(Fault(name, mark.page + 1, "stranded-heading", repr(mark.title)))

    # (b) a page under half full that does not end a section
    texty = [b for b in body if b]
    if texty:
        area_top = max(r.y + r.size for b in texty for r in b)
        area_bottom = min(r.y for b in texty for r in b)
        middle = (area_top + area_bottom) / 2
        contents = {m.page for m in marks if m.title.strip().lower() == "contents"}
        starts = {m.page for m in marks if m.level == 0}
        for i, runs in enumerate(body):
            if i == 0 or i in contents or i == len(body) - 1 or not runs:
                continue
            if i + 1 in starts:
                nxt = body[i + 1]
                first = max((r.y for r in nxt), default=0.0)
                if any(m.level == 0 and m.page == i + 1 and m.top + 0.5 >= first for m in marks):
                    continue
            lowest = min(r.y for r in runs)
            if lowest > middle:
                full = (area_top - lowest) / (area_top - area_bottom)
                faults.append(Fault(name, i + 1, "half-empty",
                                    f"text fills {full:.0%} of the page"))

    # (c) superscript calls run together
    for i, runs in enumerate(body):
        sizes = sorted(r.size for r in runs)
        if not sizes:
            continue
        text_size = sizes[len(sizes) // 2]
        # one run of calls: "8910" is 8, 9, 10 (three digits or more: a lone 12 is a call)
        for r in runs:
            if r.size < 0.8 * text_size and len(r.text) > 2 and r.text.isdigit() \
                    and _consecutive(r.text):
                faults.append(Fault(name, i + 1, "footnote-calls", repr(r.text)))
        for a, b in itertools.pairwise(runs):
            small = a.size < 0.8 * text_size and b.size < 0.8 * text_size
            if small and a.text.isdigit() and b.text.isdigit() and abs(a.y - b.y) < 0.5:
                gap = b.x - (a.x + 0.5 * a.size * len(a.text))
                if b.x >= a.x and gap < 0.12 * a.size:
                    faults.append(Fault(name, i + 1, "footnote-calls",
                                        f"{a.text!r} then {b.text!r}"))

    # (e) lines running past their column
    faults += overflows(path, name)
    return sorted(faults, key=lambda f: (f.page, f.kind))


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python benchmarks/pages.py PDF...", file=sys.stderr)
        return 2
    total = 0
    for arg in argv:
        faults = check(Path(arg))
        total += len(faults)
        for fault in faults:
            print(fault)
    print(f"{total} fault(s) in {len(argv)} file(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
