#!/usr/bin/env python3
"""briefgen against its peers, and against plain WeasyPrint, like for like, in one run.

    pip install typst pypandoc-binary     # Typst's Python binding; Pandoc 3 as a wheel
    python benchmarks/peers.py            # documents of about 10 and 300 pages
    python benchmarks/peers.py --sample intelligence/study-group   # a claim-heavy pack

One Markdown document (pseudo-English paragraphs under headings, from benchmarks/synth.py) is
turned into a PDF several ways, each as one command line with its own processes, timed by the
CPU time of everything it ran (RUSAGE_CHILDREN) and by the wall clock:

- briefgen: a project with that document as its one note and a body-only audience,
  `briefgen build --force --jobs 1` (the main process and one worker);
- WeasyPrint on briefgen's HTML: the yardstick. The very HTML briefgen renders for that pack
  (made before timing) and its stylesheets, written by plain WeasyPrint in one process: what
  briefgen adds to the layout engine it drives (loading, grading, rendering the HTML, its
  fetcher, the layout changes, the worker);
- Pandoc -> WeasyPrint: `pandoc -s` to HTML, then WeasyPrint, in Pandoc's own page style;
- Pandoc -> WeasyPrint, briefgen's page model: Pandoc's HTML for the body (headings shifted
  by two levels, as briefgen shifts a note's) put in place of briefgen's note body inside
  briefgen's own HTML, so the page model is exact: the audience's stylesheets, the TLP
  margin boxes, the page size and type, the heading levels. Per page, like for like;
- Pandoc -> Typst: `pandoc -t typst -s`, then Typst's compiler in one Python process.

Every Python process a row starts uses the garbage-collector setting briefgen's workers use
(`WORKER_GC_THRESHOLD`), so no row is faster for that alone. Rounds alternate between the
rows, so a slow spell of the machine falls on all of them; the load is printed per run.

With `--sample AREA/AUDIENCE`, a pack of the sample briefing (claims, caveats, sources,
keys) is also timed as built by briefgen and as plain WeasyPrint writes briefgen's HTML of
it (without the embedded ledger files, which plain WeasyPrint is not asked to attach).
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
from briefgen.build.workers import WORKER_GC_THRESHOLD  # noqa: E402

GC = f"import gc; gc.set_threshold{WORKER_GC_THRESHOLD}; "
# Plain WeasyPrint on a page of HTML and the stylesheets listed in styles.txt (one per line).
PLAIN = GC + """
import sys, weasyprint
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()  # without it, base.css's @font-face fonts are not loaded
html, out = sys.argv[1], sys.argv[2]
sheets = [weasyprint.CSS(filename=p, font_config=fonts)
          for p in open("styles.txt", encoding="utf-8").read().split()]
page = open(html, encoding="utf-8").read()
if len(sys.argv) > 3 and sys.argv[3]:   # Pandoc's body in place of briefgen's note body
    head, _, rest = page.partition(MARK)
    _, _, tail = rest.partition("</section>")
    page = head + MARK + open(sys.argv[3], encoding="utf-8").read() + "</section>" + tail
weasyprint.HTML(string=page, base_url=sys.argv[4] if len(sys.argv) > 4 else ".").write_pdf(
    out, stylesheets=sheets, font_config=fonts)
"""
MARK = "<h2>A synthetic briefing</h2>"


def briefgen_html(project: Path, area: str, audience: str, folder: Path) -> None:
    """briefgen's HTML of one pack (pack.html) and its stylesheets (styles.txt), untimed."""
    from briefgen.loading import load_project
    from briefgen.model import stylesheets_for
    from briefgen.pack import assemble
    from briefgen.render import render_html

    loaded = load_project(project)
    aud = loaded.audiences[audience]
    pack = assemble(loaded, next(a for a in loaded.areas if a.slug == area), aud)
    assert pack is not None
    (folder / "pack.html").write_text(render_html(pack), encoding="utf-8")
    (folder / "styles.txt").write_text("\n".join(str(p) for p in stylesheets_for(aud)))


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
    (folder / "body.md").write_text(text.split("\n", 1)[1])   # the note's body, as briefgen has it
    project = folder / "briefgen"
    briefgen_project(project, text)
    briefgen_html(project, "doc", "notes", folder)
    plain = PLAIN.replace("MARK", repr(MARK))
    tools = {
        "briefgen": ([[PY, "-m", "briefgen", "build", "--force", "-q", "--jobs", "1"]],
                     project, project / "output" / "notes" / "doc.pdf"),
        "WeasyPrint on briefgen's HTML": ([
            [PY, "-c", plain, "pack.html", "plain.pdf"]], folder, folder / "plain.pdf"),
        "Pandoc -> WeasyPrint": ([
            [pandoc, "-s", "doc.md", "-o", "doc.html", "--metadata", "title=Peers"],
            [PY, "-c", GC + "import weasyprint; weasyprint.HTML('doc.html').write_pdf('w.pdf')"]],
            folder, folder / "w.pdf"),
        "Pandoc -> WeasyPrint, briefgen's page": ([
            [pandoc, "body.md", "--shift-heading-level-by=2", "-o", "body.html"],
            [PY, "-c", plain, "pack.html", "same.pdf", "body.html"]],
            folder, folder / "same.pdf"),
        "Pandoc -> Typst": ([
            [pandoc, "-s", "-t", "typst", "doc.md", "-o", "doc.typ"],
            [PY, "-c", "import typst; typst.compile('doc.typ', output='t.pdf')"]],
            folder, folder / "t.pdf"),
    }
    return timed(tools, rounds)


def timed(tools: dict[str, tuple[list[list[str]], Path, Path]], rounds: int) -> list[dict]:
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


def run_sample(work: Path, which: str, rounds: int) -> list[dict]:
    """A pack of the sample briefing, by briefgen and by plain WeasyPrint on its HTML."""
    area, _, audience = which.partition("/")
    root = HERE.parent
    folder = work / f"sample-{area}-{audience}"
    folder.mkdir()
    briefgen_html(root, area, audience, folder)
    tools = {
        "briefgen": ([[PY, "-m", "briefgen", "build", "--force", "-q", "--jobs", "1",
                       "--area", area, "--audience", audience, "--out", str(folder / "out")]],
                     root, folder / "out" / audience / f"{area}.pdf"),
        "WeasyPrint on briefgen's HTML": ([
            [PY, "-c", PLAIN.replace("MARK", repr(MARK)), "pack.html", "plain.pdf", "",
             (root / "sources").as_uri() + "/"]], folder, folder / "plain.pdf"),
    }
    return timed(tools, rounds)


def show(rows: list[dict]) -> None:
    print(f"{'tool':<38} {'pages':>5} {'CPU s':>7} {'ms/page':>8} {'wall s':>7}  loads")
    for r in rows:
        print(f"{r['tool']:<38} {r['pages']:>5} {r['cpu_s']:>7.2f} "
              f"{r['ms_per_page']:>8.1f} {r['wall_s']:>7.2f}  {r['loads']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="8,250",
                        help="sections per document, comma-separated (about 10 and 300 "
                             "briefgen pages); empty for none")
    parser.add_argument("--sample", action="append", default=[], metavar="AREA/AUDIENCE",
                        help="also a pack of the sample briefing (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="briefgen-peers-"))
    try:
        print(f"# briefgen against plain WeasyPrint, Pandoc -> WeasyPrint and Pandoc -> "
              f"Typst ({os.cpu_count()} cores; medians of {args.rounds}; every Python "
              f"process with gc.set_threshold{WORKER_GC_THRESHOLD})")
        for sections in (int(s) for s in args.sections.split(",") if s):
            rows = run_size(work, sections, args.rounds)
            print(f"\n## One document of {sections} sections")
            show(rows)
            ours, plain, pandoc, same, typst = rows
            print(f"briefgen per page / plain WeasyPrint on its HTML: "
                  f"x{ours['ms_per_page'] / plain['ms_per_page']:.2f}; / Pandoc -> "
                  f"WeasyPrint in briefgen's page model: "
                  f"x{ours['ms_per_page'] / same['ms_per_page']:.2f}; / Pandoc -> "
                  f"WeasyPrint per document: x{ours['cpu_s'] / pandoc['cpu_s']:.2f}; "
                  f"/ Typst per page: x{ours['ms_per_page'] / typst['ms_per_page']:.1f}")
        for which in args.sample:
            rows = run_sample(work, which, args.rounds)
            print(f"\n## The sample's {which}")
            show(rows)
            ours, plain = rows
            print(f"briefgen / plain WeasyPrint on its HTML: "
                  f"x{ours['cpu_s'] / plain['cpu_s']:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
