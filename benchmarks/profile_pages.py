#!/usr/bin/env python3
"""Why does time per page grow with the size of a pack? The evidence behind BENCHMARKS.md.

    python benchmarks/profile_pages.py                 # packs of about 50 and 300 pages
    python benchmarks/profile_pages.py --sizes 50,500

For each size, in fresh processes, one synthetic pack is rendered by briefgen's own Renderer
(after a warm-up pack, as in a worker) three ways: with Python's default garbage collector
settings, with the first-generation threshold briefgen's workers use
(gc.set_threshold(10000, 10, 10)), and under cProfile with the collector off. It prints time
per page, full collections, time spent in the collector (measured with gc.callbacks) and peak
RSS for each, checks that the PDF bytes do not depend on the collector, and lists the
functions whose own time per page grows most from the smallest to the largest pack: work
that grows with the length of the document, done once per page or per anchor.
Uses briefgen internals (Renderer, render_html), so it may need updating when they change.
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402
from bench import notes_for_pages  # noqa: E402

RENDER = r"""
import cProfile, gc, hashlib, json, resource, sys, time
from pathlib import Path
from briefgen.build import WORKER_GC_THRESHOLD, stylesheets_for
from briefgen.pack import assemble
from briefgen.pdf import Renderer
from briefgen.render import render_html
from briefgen.loading import load_project

root, area, mode, stats = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
project = load_project(root)
audience = project.audiences["study-group"]
areas = {a.slug: a for a in project.areas}
options = dict(project_root=root, stylesheets=stylesheets_for(audience), identifier=b"0" * 16)
renderer = Renderer()
renderer.pdf(render_html(assemble(project, areas["warmup"], audience)), **options)
html = render_html(assemble(project, areas[area], audience))
gc.collect()
before = gc.get_stats()[2]["collections"]
in_gc = {"all": 0.0, "full": 0.0}
clock = [0.0]

def timer(phase, info):  # time spent in the collector, measured directly
    if phase == "start":
        clock[0] = time.perf_counter()
    else:
        spent = time.perf_counter() - clock[0]
        in_gc["all"] += spent
        if info["generation"] == 2:
            in_gc["full"] += spent

gc.callbacks.append(timer)
if mode == "threshold":
    gc.set_threshold(*WORKER_GC_THRESHOLD)
profile = sampler = None
if mode == "profile":
    gc.disable()
    profile = cProfile.Profile()
    profile.enable()
elif mode == "pyinstrument":
    from pyinstrument import Profiler
    sampler = Profiler(interval=0.005)
    sampler.start()
started = time.perf_counter()
data, pages, _ = renderer.pdf(html, **options)
seconds = time.perf_counter() - started
if profile:
    profile.disable()
    profile.dump_stats(stats)
if sampler:
    sampler.stop()
    # The stages only: layout recurses too deeply for a readable full tree, and the
    # function-level evidence is the cProfile comparison below.
    Path(stats).write_text(sampler.output_text(unicode=True))
print(json.dumps({"pages": pages, "seconds": seconds,
                  "gc_s": in_gc["all"], "full_gc_s": in_gc["full"],
                  "full_collections": gc.get_stats()[2]["collections"] - before,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sha256": hashlib.sha256(data).hexdigest()}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,300", help="pack sizes in pages (two or more)")
    parser.add_argument("--top", type=int, default=12, help="functions to list")
    parser.add_argument("--pyinstrument", type=Path, metavar="FILE",
                        help="also profile the largest pack with Python's default collector "
                             "settings under pyinstrument (pip install pyinstrument) and "
                             "write its call tree to FILE")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="briefgen-profile-"))
    root = synth.write_project(work / "p", {"warmup": 1} | {
        f"s{size:04d}": notes_for_pages(size) for size in sizes})

    results: dict[int, dict[str, dict]] = {}
    for size in sizes:
        results[size] = {}
        for mode in ("default", "threshold", "profile"):
            print(f"rendering the ~{size}-page pack, gc {mode}", file=sys.stderr, flush=True)
            proc = subprocess.run(
                [sys.executable, "-c", RENDER, str(root), f"s{size:04d}", mode,
                 str(work / f"{size}.prof")], capture_output=True, text=True, check=True)
            results[size][mode] = json.loads(proc.stdout.strip().splitlines()[-1])

    if args.pyinstrument:
        print(f"rendering the ~{sizes[-1]}-page pack under pyinstrument", file=sys.stderr,
              flush=True)
        subprocess.run([sys.executable, "-c", RENDER, str(root), f"s{sizes[-1]:04d}",
                        "pyinstrument", str(args.pyinstrument.resolve())], check=True,
                       capture_output=True)

    print("| Pages | GC | ms/page | full collections | in the collector, ms/page (full) "
          "| peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        for mode, label in (("default", "default (700, 10, 10)"),
                            ("threshold", "threshold (10000, 10, 10)"),
                            ("profile", "off, under cProfile")):
            r = results[size][mode]
            per_page = 1000 / r["pages"]
            print(f"| {r['pages']} | {label} | {r['seconds'] * per_page:.1f} | "
                  f"{r['full_collections']} | {r['gc_s'] * per_page:.1f} "
                  f"({r['full_gc_s'] * per_page:.1f}) | {r['peak_mb']:.0f} |")
    same = all(len({r["sha256"] for r in results[size].values()}) == 1 for size in sizes)
    print(f"\nPDF bytes identical whatever the collector does: {same}")

    small, large = sizes[0], sizes[-1]
    pages_small = results[small]["profile"]["pages"]
    pages_large = results[large]["profile"]["pages"]

    def per_page(size: int, pages: int) -> dict:
        stats = pstats.Stats(str(work / f"{size}.prof")).stats  # type: ignore[attr-defined]
        return {(Path(f).name if "site-packages" not in f else f.split("site-packages/")[1],
                 line, name): (calls / pages, own / pages * 1000)
                for (f, line, name), (_, calls, own, _, _) in stats.items()}

    a, b = per_page(small, pages_small), per_page(large, pages_large)
    growth = sorted(((b.get(k, (0, 0))[1] - a.get(k, (0, 0))[1], k) for k in set(a) | set(b)),
                    reverse=True)
    print(f"\nOwn time per page, collector off: {pages_small} -> {pages_large} pages "
          f"(total {sum(v[1] for v in a.values()):.0f} -> "
          f"{sum(v[1] for v in b.values()):.0f} ms/page under cProfile)\n")
    print("| Function | ms/page | calls/page |")
    print("|---|---:|---:|")
    for _, key in growth[: args.top]:
        (ca, ta), (cb, tb) = a.get(key, (0, 0)), b.get(key, (0, 0))
        print(f"| `{key[0]}:{key[1]} {key[2]}` | {ta:.2f} -> {tb:.2f} | {ca:.1f} -> {cb:.1f} |")
    print(f"\n(files kept in {work})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
