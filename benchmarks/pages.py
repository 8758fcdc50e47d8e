#!/usr/bin/env python3
"""The printed page (issue #23): read every page of built PDFs and report typesetting faults.

    python -m benchmarks.pages output/            # every PDF under output/
    python -m benchmarks.pages output/study-group/cyber.pdf

Faults, each with file and page:

- ``stranded-heading``: a bookmarked heading with no body text after it on its page.
- ``half-empty``: a page under half full that does not end a section (the next page does not
  open a top-level section; the first and last pages are exempt).
- ``footnote-calls``: superscript calls running together with no separator ("8910").
- ``outside-page``: text outside the page box.
- ``overflow``: a line running beyond the right edge of the content box.

Headings come from the PDF outline (exact positions); text and positions from pdfplumber.
Running heads and feet are recognised as lines at the same height on most pages and ignored.
The content box's right edge is taken as the rightmost line end shared by several lines,
unless ``right_margin_pt`` is given.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
import pypdf
from pdfplumber.page import Page

OVERFLOW_TOLERANCE_PT = 2.0
SUPERSCRIPT_RATIO = 0.8


@dataclass(frozen=True)
class Fault:
    file: str
    page: int  # 1-based
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: page {self.page}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Heading:
    title: str
    level: int
    page: int  # 0-based
    top: float  # distance from the top of the page, in points


def _outline(path: Path) -> list[Heading]:
    reader = pypdf.PdfReader(str(path))
    out: list[Heading] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            page = reader.get_destination_page_number(item)
            height = float(reader.pages[page].mediabox.height)
            top_pdf = item.get("/Top")
            top = height - float(top_pdf) if top_pdf is not None else 0.0
            out.append(Heading(str(item.title), level, page, top))

    walk(list(reader.outline), 0)
    return out


def _lines(page: Page) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = page.extract_text_lines(return_chars=True)
    for line in lines:
        sizes = [c["size"] for c in line["chars"] if c["text"].strip()]
        line["size"] = max(sizes) if sizes else 0.0
    return lines


def _running_tops(pages_lines: list[list[dict[str, Any]]], heights: list[float]) -> set[int]:
    """Heights (rounded tops) in the top or bottom 12 % of the page that recur on most pages."""
    counts: Counter[int] = Counter()
    for lines, height in zip(pages_lines, heights, strict=True):
        seen = {round(ln["top"]) for ln in lines
                if ln["top"] < 0.12 * height or ln["bottom"] > 0.88 * height}
        counts.update(seen)
    need = max(2, len(pages_lines) // 2)
    return {top for top, n in counts.items() if n >= need} if len(pages_lines) > 2 else set()


def _is_running(line: dict[str, Any], running: set[int]) -> bool:
    top = round(line["top"])
    return any(abs(top - r) <= 1 for r in running)


def check_pdf(path: Path, right_margin_pt: float | None = None) -> list[Fault]:
    name = str(path)
    faults: list[Fault] = []
    headings = _outline(path)
    with pdfplumber.open(str(path)) as pdf:
        pages = list(pdf.pages)
        heights = [float(p.height) for p in pages]
        widths = [float(p.width) for p in pages]
        all_lines = [_lines(p) for p in pages]
        running = _running_tops(all_lines, heights)
        body = [[ln for ln in lines if not _is_running(ln, running)] for lines in all_lines]
        sizes = Counter(round(c["size"], 1) for lines in body for ln in lines for c in ln["chars"])
        body_size = sizes.most_common(1)[0][0] if sizes else 10.0

        tops = [ln["top"] for lines in body for ln in lines]
        bottoms = [ln["bottom"] for lines in body for ln in lines]
        content_top = min(tops) if tops else 0.0
        content_bottom = max(bottoms) if bottoms else 1.0
        if right_margin_pt is not None:
            rights = [w - right_margin_pt for w in widths]
        else:
            # The column's edge is hit by many lines (leaders, hyphenated and justified
            # lines); an overflowing line ends anywhere. Take the rightmost end shared by at
            # least 3 lines (and 1 % of them) within a point.
            ends = Counter(round(ln["x1"]) for lines in body for ln in lines)
            need = max(3, sum(ends.values()) // 100)
            shared = [e for e in ends if sum(ends[e + d] for d in (-1, 0, 1)) >= need]
            edge = float(max(shared) + 1) if shared else max(widths)
            rights = [edge for _ in widths]

        for i, page in enumerate(pages):
            n = i + 1
            # (d) text outside the page box
            for ch in page.chars:
                if not ch["text"].strip():
                    continue
                if (ch["x0"] < -0.5 or ch["x1"] > widths[i] + 0.5
                        or ch["top"] < -0.5 or ch["bottom"] > heights[i] + 0.5):
                    faults.append(Fault(name, n, "outside-page",
                                        f"{ch['text']!r} at x={ch['x0']:.0f}, top={ch['top']:.0f}"))
                    break
            # (e) lines overflowing the content box
            for ln in body[i]:
                if ln["x1"] > rights[i] + OVERFLOW_TOLERANCE_PT and ln["x1"] <= widths[i] + 0.5:
                    faults.append(Fault(name, n, "overflow",
                                        f"line ends {ln['x1'] - rights[i]:.0f}pt beyond the "
                                        f"column: "
                                        f"{ln['text'][:60]!r}"))
            # (c) footnote calls run together
            faults.extend(_footnote_faults(name, n, page, body[i], body_size))

        # (a) headings with nothing after them on their page
        for h in headings:
            lines = body[h.page]
            at = [ln for ln in lines if ln["bottom"] > h.top + 0.5]
            if not at:
                faults.append(Fault(name, h.page + 1, "stranded-heading",
                                    f"{h.title!r} has no text on its page"))
                continue
            first = min(at, key=lambda ln: ln["top"])
            hsize = first["size"]
            heading_text = re.sub(r"\s+", "", h.title)
            # the heading's own lines: from its first line, while their text is part of the title
            seen = ""
            after = []
            for ln in sorted(at, key=lambda ln: ln["top"]):
                compact = re.sub(r"\s+", "", ln["text"])
                if len(seen) < len(heading_text) and heading_text.startswith(seen + compact[:5]) \
                        and ln["size"] >= hsize - 0.1:
                    seen += compact
                    continue
                after.append(ln)
            if not after:
                faults.append(Fault(name, h.page + 1, "stranded-heading",
                                    f"{h.title!r} ends its page with nothing after it"))

        # (b) pages under half full that do not end a section
        starts = {(h.page) for h in headings if h.level == 0}
        for i in range(len(pages)):
            if i == 0 or i == len(pages) - 1 or (i + 1) in starts:
                continue
            lines = body[i]
            low = max((ln["bottom"] for ln in lines), default=content_top)
            fill = (low - content_top) / max(1.0, content_bottom - content_top)
            if fill < 0.5:
                faults.append(Fault(name, i + 1, "half-empty",
                                    f"page {fill:.0%} full and the next page does not open "
                                    "a section"))
    return faults


def _footnote_faults(name: str, n: int, page: Page, lines: list[dict[str, Any]],
                     body_size: float) -> list[Fault]:
    """Superscript digit groups whose calls are not separated.

    A call is a run of small raised characters; two calls are told apart by their link
    annotations when the PDF has them, else a run of three or more digits counts as calls
    run together (no source list in a pack reaches 100 footnotes on one call)."""
    faults: list[Fault] = []
    links = [(float(a["x0"]), float(a["top"]), float(a["x1"]), float(a["bottom"]))
             for a in (page.annots or [])]

    def link_of(ch: dict[str, Any]) -> int | None:
        cx, cy = (ch["x0"] + ch["x1"]) / 2, (ch["top"] + ch["bottom"]) / 2
        for k, (x0, t, x1, b) in enumerate(links):
            if x0 - 0.5 <= cx <= x1 + 0.5 and t - 0.5 <= cy <= b + 0.5:
                return k
        return None

    for ln in lines:
        run: list[dict[str, Any]] = []
        for ch in ln["chars"] + [None]:
            sup = (ch is not None and ch["size"] < SUPERSCRIPT_RATIO * body_size
                   and ch["text"].strip() != "" and ch["top"] < ln["top"] + 0.5
                   and ln["size"] >= body_size - 0.1)
            if sup:
                run.append(ch)
                continue
            if run:
                text = "".join(c["text"] for c in run)
                ids = [link_of(c) for c in run]
                joined = False
                if links and any(i is not None for i in ids):
                    for a, b, ca, cb in zip(ids, ids[1:], run, run[1:], strict=False):
                        if a != b and a is not None and b is not None \
                                and ca["text"].isalnum() and cb["text"].isalnum():
                            joined = True
                elif re.fullmatch(r"\d{3,}", text):
                    joined = True
                if joined:
                    faults.append(Fault(name, n, "footnote-calls",
                                        f"calls run together: {text!r} in {ln['text'][:50]!r}"))
                run = []
    return faults


def check_paths(paths: list[Path], right_margin_pt: float | None = None) -> list[Fault]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.pdf")) if p.is_dir() else [p])
    faults: list[Fault] = []
    for f in files:
        faults.extend(check_pdf(f, right_margin_pt))
    return faults


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path, help="PDF files or folders of them")
    ap.add_argument("--right-margin-pt", type=float, default=None,
                    help="right page margin in points (default: inferred from the pages)")
    args = ap.parse_args(argv)
    faults = check_paths(args.paths, args.right_margin_pt)
    for f in faults:
        print(f)
    kinds = Counter(f.kind for f in faults)
    print(f"{len(faults)} faults" + (": " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
                                      if faults else ""), file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
