"""How much of each pack its caveats take (#23): pages of caveats per claim, and their share
of the pack, read from built PDFs.

    python -m benchmarks.caveats output/            # every pack under output/
    python -m benchmarks.caveats output/study-group/*.pdf

The caveats section is found in the PDF outline as the top-level bookmark whose children
carry counts ("Sourced facts (9)", "Disputed claims (3)", in any language); its claims are
the sum of those counts, its pages run from its own page to the page before the next
top-level bookmark (the next section starts on a new page). Books (several areas) are
skipped. Each entry's printed lines are counted from its claim id to the next (an entry
broken across pages counts as two). Prints one row per pack and a summary per audience.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import Destination

from benchmarks.pages import _running, outline, page_runs

COUNT = re.compile(r"\((\d+)\)\s*$")
CLAIM_ID = re.compile(r"^[A-Z][A-Z0-9]*-\d+$")   # an entry's first run: its claim id


@dataclass(frozen=True)
class Caveats:
    file: str
    pages: int          # pages of the caveats section
    claims: int         # claims it lists
    total: int          # pages of the pack
    lines: tuple[int, ...] = ()   # printed lines of each entry

    @property
    def share(self) -> float:
        return self.pages / self.total

    @property
    def per_claim(self) -> float:
        return self.pages / self.claims if self.claims else 0.0


def measure(pdf: Path) -> Caveats | None:
    reader = PdfReader(pdf)
    top: list[tuple[int, list[str]]] = []   # (0-based page, titles of children)
    outline = reader.outline
    for index, item in enumerate(outline):
        if isinstance(item, Destination):
            following = outline[index + 1] if index + 1 < len(outline) else None
            children = following if isinstance(following, list) else []
            top.append((reader.get_destination_page_number(item),
                        [c.title for c in children if isinstance(c, Destination)]))
    found = [(i, page, sum(int(m.group(1)) for t in titles if (m := COUNT.search(t))))
             for i, (page, titles) in enumerate(top)
             if sum(bool(COUNT.search(t)) for t in titles) >= 2]
    if len(found) != 1:          # none (caveats left out) or several (a book)
        return None
    i, page, claims = found[0]
    end = top[i + 1][0] if i + 1 < len(top) else len(reader.pages)
    return Caveats(str(pdf), max(1, end - page), claims, len(reader.pages),
                   entry_lines(reader, page, end))


def entry_lines(reader: PdfReader, first: int, end: int) -> tuple[int, ...]:
    """The printed lines of each caveats entry on pages first..end-1: from a run that is a
    claim id to the next one, a heading (a bookmark on the page) or the foot of the page,
    counting baselines (runs within 2 pt of each other share a line)."""
    all_runs = [page_runs(reader.pages[n]) for n in range(len(reader.pages))]
    running = _running(all_runs)
    marks = outline(reader)
    counts: list[int] = []
    for n in range(first, end):
        runs = [r for r in all_runs[n] if (n, round(r.y)) not in running]
        headings = [m.top for m in marks if m.page == n]
        baselines: list[float] | None = None
        for run in runs:
            if CLAIM_ID.match(run.text):
                if baselines is not None:
                    counts.append(len(baselines))
                baselines = [run.y]
            elif baselines is not None and (
                    any(run.y < top < baselines[0] for top in headings)
                    or run.y > baselines[0] + 2):
                # A heading ends the entry before it, and so does the page's running head
                # (WeasyPrint draws the margin boxes after the body, from the top).
                counts.append(len(baselines))
                baselines = None
            elif baselines is not None and all(abs(run.y - y) > 2 for y in baselines):
                baselines.append(run.y)
        if baselines is not None:
            counts.append(len(baselines))
    return tuple(counts)


def main(argv: list[str]) -> int:
    paths = [p for arg in argv or ["output"] for p in
             (sorted(Path(arg).rglob("*.pdf")) if Path(arg).is_dir() else [Path(arg)])]
    rows = [m for p in paths if "bundles" not in p.parts and (m := measure(p))]
    print(f"{'pack':44} {'claims':>6} {'caveats':>7} {'pages':>5} {'share':>6} {'p/claim':>7} "
          f"{'lines/entry (median, max)':>26}")
    for m in rows:
        lines = sorted(m.lines) or [0]
        print(f"{m.file:44} {m.claims:6} {m.pages:7} {m.total:5} {m.share:6.0%} "
              f"{m.per_claim:7.2f} {lines[len(lines) // 2]:>19} {lines[-1]:>6}")
    print()
    audiences = sorted({Path(m.file).parent.name for m in rows})
    print(f"{'audience':16} {'packs':>5} {'claims':>6} {'caveats':>7} {'p/claim':>7} "
          f"{'max share':>9}")
    for name in audiences:
        mine = [m for m in rows if Path(m.file).parent.name == name]
        claims = sum(m.claims for m in mine)
        pages = sum(m.pages for m in mine)
        print(f"{name:16} {len(mine):5} {claims:6} {pages:7} {pages / claims:7.2f} "
              f"{max(m.share for m in mine):9.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
