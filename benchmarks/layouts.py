#!/usr/bin/env python3
"""What issue #14 asks to measure, in one run, with the machine's load beside each figure.

    python benchmarks/layouts.py                 # everything (about 10 minutes)
    python benchmarks/layouts.py --only layouts  # one section: layouts, start, memory, gc

- **layouts**: WeasyPrint page layouts per final page (calls of its `remake_page`) for every
  pack of the repository's sample, every audience.
- **start**: `briefgen --version`, `--help`, `check`, a no-op build of the sample, and a
  one-note rebuild against building that pack alone (medians of several runs).
- **memory**: peak resident memory of the worker that renders a synthetic pack of about 10,
  100, 300 and 1,000 pages, under briefgen's 2 GB worker limit.
- **gc**: the workers' garbage-collector threshold against CPython's default, same pack,
  alternating runs: CPU seconds and peak memory.

Targets are in TARGETS and BENCHMARKS.md, never in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

PY = sys.executable
BRIEFGEN = [PY, "-m", "briefgen"]
TARGETS = {"layouts_per_page": 1.0, "version_s": 0.15, "help_s": 0.15, "noop_s": 0.3,
           "one_note_ratio": 1.2, "peak_mb_1000": 2048.0}

COUNT_LAYOUTS = r"""
import collections, json, sys
from pathlib import Path
import weasyprint.layout.page as page_module
calls = collections.Counter()
real = page_module.remake_page
def counting(index, *args):
    calls[index] += 1
    return real(index, *args)
page_module.remake_page = counting
from briefgen.loading import load_project
from briefgen.pack import assemble
from briefgen.pdf import Renderer
from briefgen.model import stylesheets_for
from briefgen.render import render_html
root = Path(sys.argv[1])
project = load_project(root)
renderer = Renderer()
rows = []
for name in sorted(project.audiences):
    audience = project.audiences[name]
    for area in project.areas:
        pack = assemble(project, area, audience)
        if pack is None:
            continue
        calls.clear()
        _, pages, _ = renderer.pdf(render_html(pack), project_root=root,
                                   stylesheets=stylesheets_for(audience),
                                   identifier=b"0" * 16)
        rows.append({"audience": name, "area": area.slug, "pages": pages,
                     "layouts": sum(calls.values()),
                     "relaid": sorted(i + 1 for i, n in calls.items() if n > 1)})
print(json.dumps(rows))
"""

GC_RUN = r"""
import gc, json, resource, sys, time
from pathlib import Path
from briefgen.build import WORKER_GC_THRESHOLD
from briefgen.loading import load_project
from briefgen.pack import assemble
from briefgen.pdf import Renderer
from briefgen.model import stylesheets_for
from briefgen.render import render_html
if sys.argv[3] == "worker":
    gc.set_threshold(*WORKER_GC_THRESHOLD)
root = Path(sys.argv[1])
project = load_project(root)
audience = project.audiences[project.config.default_audience]
area = next(a for a in project.areas if a.slug == sys.argv[2])
renderer = Renderer()
html = render_html(assemble(project, area, audience))
start = time.process_time()
_, pages, _ = renderer.pdf(html, project_root=root, stylesheets=stylesheets_for(audience),
                           identifier=b"0" * 16)
print(json.dumps({"cpu_s": time.process_time() - start, "pages": pages,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def load() -> float:
    return os.getloadavg()[0]


def timed(cmd: list[str], cwd: Path, reps: int) -> dict:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "runs": reps, "load": load()}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def section_layouts() -> dict:
    proc = subprocess.run([PY, "-c", COUNT_LAYOUTS, str(REPO)], check=True,
                          capture_output=True, text=True)
    rows = json.loads(proc.stdout)
    print("\n## Page layouts per page (sample, every pack)")
    print(f"{'audience':<13} {'area':<13} {'pages':>5} {'layouts':>7} {'per page':>8}  relaid")
    for r in rows:
        print(f"{r['audience']:<13} {r['area']:<13} {r['pages']:>5} {r['layouts']:>7} "
              f"{r['layouts'] / r['pages']:>8.2f}  {r['relaid']}")
    total = sum(r["layouts"] for r in rows) / sum(r["pages"] for r in rows)
    worst = max(r["layouts"] / r["pages"] for r in rows)
    print(f"all packs: {total:.2f} layouts per page (worst pack {worst:.2f}); target "
          f"{TARGETS['layouts_per_page']}: {verdict(worst <= TARGETS['layouts_per_page'])}")
    return {"rows": rows, "overall": total, "worst": worst}


def section_start(reps: int) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="briefgen-start-"))
    try:
        project = scratch / "p"
        shutil.copytree(REPO, project, ignore=shutil.ignore_patterns(
            ".git", ".venv", "output", "__pycache__", "benchmarks", "tests", "docs"))
        subprocess.run([*BRIEFGEN, "build", "-q"], cwd=project, check=True)
        data = {"version": timed([*BRIEFGEN, "--version"], project, reps),
                "help": timed([*BRIEFGEN, "--help"], project, reps),
                "check": timed([*BRIEFGEN, "check", "-q"], project, reps),
                "noop": timed([*BRIEFGEN, "build", "-q"], project, reps)}
        note = project / "sources" / "crime" / "10-prevention.md"
        alone, rebuild = [], []
        for i in range(max(3, reps // 3)):
            started = time.perf_counter()
            # "That pack alone": the packs a one-note edit must rebuild (its area, in every
            # audience), built on their own into a folder of their own.
            subprocess.run([*BRIEFGEN, "build", "-q", "--force", "--area", "crime",
                            "--out", str(scratch / "alone")], cwd=project, check=True)
            alone.append(time.perf_counter() - started)
            note.write_text(note.read_text() + f"\nEdit {i}.\n")
            started = time.perf_counter()
            subprocess.run([*BRIEFGEN, "build", "-q"], cwd=project, check=True)
            rebuild.append(time.perf_counter() - started)
        data["one_note"] = {"rebuild_s": statistics.median(rebuild),
                            "alone_s": statistics.median(alone), "load": load()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n## Start-up and incremental builds (whole commands, medians)")
    for key, target in (("version", "version_s"), ("help", "help_s"), ("noop", "noop_s")):
        v = data[key]
        print(f"{key:<8} {v['median_s']:.3f} s (load {v['load']:.2f}); target < "
              f"{TARGETS[target]} s: {verdict(v['median_s'] < TARGETS[target])}")
    print(f"check    {data['check']['median_s']:.3f} s (load {data['check']['load']:.2f})")
    one = data["one_note"]
    ratio = one["rebuild_s"] / one["alone_s"]
    print(f"one-note rebuild {one['rebuild_s']:.2f} s vs building its area's packs alone "
          f"{one['alone_s']:.2f} s"
          f": x{ratio:.2f} (load {one['load']:.2f}); target <= {TARGETS['one_note_ratio']}: "
          f"{verdict(ratio <= TARGETS['one_note_ratio'])}")
    return data


def synthetic(work: Path, pages: list[int]) -> Path:
    root = work / "synthetic"
    # Calibrated in benchmarks/bench.py: about 8 fixed pages, then 3.4 pages per note.
    synth.write_project(root, {f"p{n}": max(1, round((n - 8) / 3.4)) for n in pages})
    return root


def section_memory(pages: list[int]) -> dict:
    work = Path(tempfile.mkdtemp(prefix="briefgen-mem-"))
    rows = []
    try:
        root = synthetic(work, pages)
        for n in pages:
            cmd = [PY, "-c", (
                "import json, resource, sys\nfrom pathlib import Path\n"
                "from briefgen.build import BuildOptions, build\n"
                "from briefgen.loading import load_project\n"
                "r, = build(load_project(Path(sys.argv[1])), Path(sys.argv[2]), BuildOptions("
                "areas=[sys.argv[3]], audiences=['study-group'], jobs=1, force=True))\n"
                "print(json.dumps({'status': str(r.status), 'message': r.message, "
                "'pages': r.pages, 'seconds': r.seconds, "
                "'worker_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"),
                str(root), str(work / "out"), f"p{n}"]
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
            row = json.loads(proc.stdout)
            row["load"] = load()
            rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n## Peak worker memory by pack size (study-group, one worker)")
    for r in rows:
        print(f"{r['pages']:>5} pages: {r['worker_mb']:>6.0f} MB peak, {r['seconds']:.1f} s, "
              f"{r['status']} (load {r['load']:.2f}) {r['message']}")
    big = rows[-1]
    ok = big["status"] == "built" and big["worker_mb"] < TARGETS["peak_mb_1000"]
    print(f"largest pack under {TARGETS['peak_mb_1000']:.0f} MB: {verdict(ok)}")
    return {"rows": rows}


def section_gc(pages: int, rounds: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="briefgen-gc-"))
    runs: dict[str, list[dict]] = {"worker": [], "default": []}
    try:
        root = synthetic(work, [pages])
        for _ in range(rounds):
            for mode in ("worker", "default"):
                proc = subprocess.run([PY, "-c", GC_RUN, str(root), f"p{pages}", mode],
                                      check=True, capture_output=True, text=True)
                row = json.loads(proc.stdout)
                row["load"] = load()
                runs[mode].append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n## Garbage collector: workers' threshold against the default "
          f"({runs['worker'][0]['pages']} pages, {rounds} alternating rounds)")
    summary = {}
    for mode, rows in runs.items():
        summary[mode] = {"cpu_s": statistics.median(r["cpu_s"] for r in rows),
                         "peak_mb": statistics.median(r["peak_mb"] for r in rows),
                         "loads": [round(r["load"], 2) for r in rows]}
        print(f"{mode:<8} {summary[mode]['cpu_s']:.2f} s CPU, {summary[mode]['peak_mb']:.0f} MB "
              f"(loads {summary[mode]['loads']})")
    gain = 1 - summary["worker"]["cpu_s"] / summary["default"]["cpu_s"]
    print(f"threshold saves {gain:+.1%} CPU for "
          f"{summary['worker']['peak_mb'] - summary['default']['peak_mb']:+.0f} MB")
    return {"runs": runs, "summary": summary, "cpu_gain": gain}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("layouts", "start", "memory", "gc"))
    parser.add_argument("--reps", type=int, default=9, help="runs per start-up figure")
    parser.add_argument("--sizes", default="10,100,300,1000", help="pages, for memory")
    parser.add_argument("--gc-pages", type=int, default=300)
    parser.add_argument("--gc-rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    print(f"# briefgen #14 benchmark: {os.cpu_count()} cores, load {load():.2f} at start")
    data: dict = {}
    if args.only in (None, "layouts"):
        data["layouts"] = section_layouts()
    if args.only in (None, "start"):
        data["start"] = section_start(args.reps)
    if args.only in (None, "memory"):
        data["memory"] = section_memory([int(s) for s in args.sizes.split(",")])
    if args.only in (None, "gc"):
        data["gc"] = section_gc(args.gc_pages, args.gc_rounds)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
