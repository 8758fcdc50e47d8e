#!/usr/bin/env python3
"""briefgen against its peers on one and the same document, like for like, in one run.

    pip install typst pypandoc-binary     # Typst's Python binding; Pandoc 3 as a wheel
    python benchmarks/peers.py            # documents of about 10 and 300 pages

One Markdown document (pseudo-English paragraphs under headings, from benchmarks/synth.py) is
turned into a PDF three ways, each as one command line with its own processes, timed by the
CPU time of everything it ran (RUSAGE_CHILDREN) and by the wall clock:

- briefgen: a project with that document as its one note and a body-only audience,
  `briefgen build --force --jobs 1` (the main process and one worker);
- Pandoc -> WeasyPrint: `pandoc -s` to HTML, then WeasyPrint in one Python process;
- Pandoc -> WeasyPrint, briefgen's page: the same, with Pandoc's HTML body set in briefgen's
  page model and type (its base.css and the study-group audience's page size and font size),
  so that a page holds about as much text as a briefgen page: per page, like for like;
- Pandoc -> Typst: `pandoc -t typst -s`, then Typst's compiler in one Python process.

Pandoc's own style puts less text on a page than briefgen's, so the first two compare per
document; the second and third have the same page model and compare per page. The machine's
load is printed with each run.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

PY = sys.executable
BASE_CSS = HERE.parent / "briefgen" / "templates" / "base.css"
# Pandoc's HTML body in briefgen's page model: its base.css, and what the build adds for the
# study-group audience (A4, 10.5 pt; no margin content other than base.css's own).
SAME_PAGE = """
import sys, weasyprint
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()  # without it, base.css's @font-face fonts are not loaded
body = open("body.html", encoding="utf-8").read()
html = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Peers</title>'
        '<style>@page { size: A4 } :root { font-size: 10.5pt }</style></head><body>'
        + body + '</body></html>')
weasyprint.HTML(string=html, base_url=".").write_pdf(
    "same.pdf", stylesheets=[weasyprint.CSS(filename=sys.argv[1], font_config=fonts)],
    font_config=fonts)
"""


def document(sections: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts = ["# A synthetic briefing\n"]
    for i in range(1, sections + 1):
        parts.append(f"## Section {i}\n")
        parts += [synth.paragraph(rng, rng.randint(4, 8)) + "\n" for _ in range(4)]
    return "\n".join(parts)


def briefgen_project(root: Path, text: str) -> None:
    (root / "sources" / "doc").mkdir(parents=True)
    (root / "styles" / "notes").mkdir(parents=True)
    (root / "briefgen.yaml").write_text(
        "title: Peers\nissuer: Benchmark\nedition: '1'\nas_of: 2026-01-01\n"
        "default_audience: notes\n")
    (root / "sources" / "references.yaml").write_text("[]\n")
    (root / "sources" / "doc" / "_area.md").write_text("---\ntitle: Document\n---\n")
    body = text.split("\n", 1)[1]  # the title is the note's
    (root / "sources" / "doc" / "10-doc.md").write_text(
        f"---\ntitle: A synthetic briefing\n---\n{body}")
    (root / "styles" / "notes" / "audience.yaml").write_text(
        "extends: study-group\ntitle: Notes\nsections: [body]\nprovenance: false\n")


def measure(commands: list[list[str]], cwd: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": cpu, "wall_s": wall, "load": os.getloadavg()[0]}


def pages(pdf: Path) -> int:
    import pypdf

    return len(pypdf.PdfReader(pdf).pages)


def run_size(work: Path, sections: int, rounds: int) -> list[dict]:
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    folder = work / f"s{sections}"
    folder.mkdir()
    text = document(sections)
    (folder / "doc.md").write_text(text)
    project = folder / "briefgen"
    briefgen_project(project, text)
    tools = {
        "briefgen": ([[PY, "-m", "briefgen", "build", "--force", "-q", "--jobs", "1"]],
                     project, project / "output" / "notes" / "doc.pdf"),
        "Pandoc -> WeasyPrint": ([
            [pandoc, "-s", "doc.md", "-o", "doc.html", "--metadata", "title=Peers"],
            [PY, "-c", "import weasyprint; weasyprint.HTML('doc.html').write_pdf('w.pdf')"]],
            folder, folder / "w.pdf"),
        "Pandoc -> WeasyPrint, briefgen's page": ([
            [pandoc, "doc.md", "-o", "body.html"],
            [PY, "-c", SAME_PAGE, str(BASE_CSS)]],
            folder, folder / "same.pdf"),
        "Pandoc -> Typst": ([
            [pandoc, "-s", "-t", "typst", "doc.md", "-o", "doc.typ"],
            [PY, "-c", "import typst; typst.compile('doc.typ', output='t.pdf')"]],
            folder, folder / "t.pdf"),
    }
    # Rounds alternate between the tools, so a slow spell of the machine falls on all of them.
    runs: dict[str, list[dict]] = {name: [] for name in tools}
    for _ in range(rounds):
        for name, (commands, cwd, _pdf) in tools.items():
            runs[name].append(measure(commands, cwd))
    rows = []
    for name, (_commands, _cwd, pdf) in tools.items():
        n = pages(pdf)
        cpu = statistics.median(r["cpu_s"] for r in runs[name])
        rows.append({"tool": name, "pages": n, "cpu_s": cpu, "ms_per_page": 1000 * cpu / n,
                     "wall_s": statistics.median(r["wall_s"] for r in runs[name]),
                     "loads": [round(r["load"], 2) for r in runs[name]]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="8,250",
                        help="sections per document, comma-separated (about 10 and 300 "
                             "briefgen pages)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="briefgen-peers-"))
    try:
        print(f"# briefgen against Pandoc -> WeasyPrint and Pandoc -> Typst "
              f"({os.cpu_count()} cores; medians of {args.rounds})")
        for sections in (int(s) for s in args.sections.split(",")):
            rows = run_size(work, sections, args.rounds)
            print(f"\n## One document of {sections} sections")
            print(f"{'tool':<38} {'pages':>5} {'CPU s':>7} {'ms/page':>8} {'wall s':>7}  loads")
            for r in rows:
                print(f"{r['tool']:<38} {r['pages']:>5} {r['cpu_s']:>7.2f} "
                      f"{r['ms_per_page']:>8.1f} {r['wall_s']:>7.2f}  {r['loads']}")
            ours, pandoc, same, typst = rows
            print(f"briefgen / Pandoc -> WeasyPrint per document: "
                  f"{ours['cpu_s'] / pandoc['cpu_s']:.2f}; per page, same page model: "
                  f"{ours['ms_per_page'] / same['ms_per_page']:.2f} (per document "
                  f"{ours['cpu_s'] / same['cpu_s']:.2f}); / Typst per page: "
                  f"{ours['ms_per_page'] / typst['ms_per_page']:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
