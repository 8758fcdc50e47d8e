#!/usr/bin/env python3
"""briefgen build speed, measured in one run: every figure is a ratio of things timed side by side.

    python benchmarks/bench.py            # 40 areas x 25 notes, 10..500-page packs (~12 min)
    python benchmarks/bench.py --quick    # small sizes, same sections (~2 min)
    python benchmarks/bench.py --json results.json --keep /tmp/bench   # raw figures, keep files

It prints the machine, then: the no-op rebuild of the repository's own sample; a synthetic
project's cold build, no-op rebuild and one-note rebuild (pages per second, peak memory of the
worker processes); parallel speed-up (--jobs 1 against --jobs 2 on the same packs); briefgen
against bare WeasyPrint rendering the very same HTML and stylesheets; Pandoc
(--pdf-engine=weasyprint) on the same Markdown; time per page and worker memory for packs of
10 to 500 pages. Each figure is checked against its target (see TARGETS); a missed target is
reported, not raised. Synthetic projects are generated into a temporary folder. Only the
sample's own output/ folder is touched in the repository (a no-op build, after bringing it up
to date).

Targets live here and in BENCHMARKS.md only, never in the unit tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

PY = sys.executable
TARGETS = {
    "noop_sample_s": 0.5,       # no-op rebuild of the sample, whole command, seconds
    "overhead_pct": 10.0,       # briefgen over bare WeasyPrint on the same HTML, percent
    "speedup_2": 1.6,           # --jobs 1 time / --jobs 2 time, 2 cores
    "per_page_spread": 0.25,    # every size's time per page within +-25 % of the median size's
    "worker_mb_300": 600.0,     # peak RSS of the worker that renders a ~300-page pack, MB
}

# Runs in a subprocess: the real CLI, then the peak RSS of this process and of its workers
# (RUSAGE_CHILDREN: the largest child that was waited for, i.e. the largest worker).
PROBE = r"""
import json, os, resource, sys
from briefgen.commands import main
try:
    rc = main(sys.argv[1:])
except SystemExit as exc:
    rc = exc.code
with open(os.environ["BRIEFGEN_BENCH_PROBE"], "w") as fh:
    json.dump({"rc": rc,
               "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
               "weasyprint_imported": "weasyprint" in sys.modules}, fh)
"""

# Time per page and worker memory for one pack: a fresh build of [one-note warm-up pack, the
# pack] with one worker, so the pack renders in a warm worker (fonts and CSS loaded) and the
# worker's peak RSS is the pack's. The pack's seconds are briefgen's own (render_job: HTML,
# layout, PDF, write). If this briefgen renders in-process for --jobs 1, RUSAGE_SELF is it.
PACK = r"""
import json, resource, sys, time
from pathlib import Path
from briefgen.build import BuildOptions, build
from briefgen.loading import load_project
if __name__ == "__main__":
    root, out, area = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    project = load_project(root)
    started = time.perf_counter()
    results = {r.area: r for r in build(project, out, BuildOptions(
        areas=["warmup", area], force=True, jobs=1))}
    wall = time.perf_counter() - started
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r = results[area]
    chars = 0
    if r.status == "built":  # how much text the pages carry: not every page is as full
        import pypdf
        chars = sum(len("".join(page.extract_text().split()))
                    for page in pypdf.PdfReader(r.output).pages)
    print(json.dumps({"pages": r.pages, "status": r.status, "message": r.message,
                      "seconds": r.seconds, "build_wall_s": wall, "chars": chars,
                      "in_worker": workers > 0, "worker_mb": workers or self_mb}))
"""

# Bare WeasyPrint: the HTML briefgen produced, the same stylesheets, the same PDF identifier;
# CSS parsed once, one FontConfiguration and the garbage collector setting briefgen's workers
# use (the strongest baseline: the overhead is what briefgen adds, not what it tunes).
BARE = r"""
import gc, json, sys
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from briefgen.build import WORKER_GC_THRESHOLD
gc.set_threshold(*WORKER_GC_THRESHOLD)
jobs = json.load(open(sys.argv[1]))
fonts = FontConfiguration()
sheets = {}
for job in jobs:
    css = [sheets.setdefault(p, weasyprint.CSS(filename=p, font_config=fonts))
           for p in job["stylesheets"]]
    html = open(job["html"], encoding="utf-8").read()
    data = weasyprint.HTML(string=html, base_url=job["base_url"]).write_pdf(
        stylesheets=css, font_config=fonts, pdf_identifier=bytes.fromhex(job["identifier"]))
    open(job["out"], "wb").write(data)
"""


# --------------------------------------------------------------------------------------------
# Helpers


def log(text: str) -> None:
    load = os.getloadavg()[0]
    print(f"[{time.strftime('%H:%M:%S')} load {load:4.2f}] {text}", file=sys.stderr, flush=True)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used since boot (steal counts as used)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_s() -> float:
    """CPU seconds of this process and of every finished process it (transitively) waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


@dataclass
class Timed:
    seconds: float       # wall time of the command
    cpu_s: float         # CPU time of the command, its workers and helpers
    others: float        # cores that other processes on the machine used meanwhile
    proc: subprocess.CompletedProcess

    @property
    def cores(self) -> float:
        return self.cpu_s / self.seconds


def run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None,
        timeout: float = 3600) -> Timed:
    busy, own, started = machine_busy_s(), own_cpu_s(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    cpu = own_cpu_s() - own
    others = max(0.0, (machine_busy_s() - busy - cpu) / seconds)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))[:200]} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return Timed(seconds, cpu, others, proc)


def wait_for_quiet(limit_s: float) -> None:
    """Other people's processes skew timings on a shared machine: wait (up to limit_s) until
    they use less than a quarter of a core over two seconds."""
    deadline = time.monotonic() + limit_s
    while limit_s > 0:
        busy, own = machine_busy_s(), own_cpu_s()
        time.sleep(2)
        others = (machine_busy_s() - busy - (own_cpu_s() - own)) / 2
        if others < 0.25:
            return
        if time.monotonic() > deadline:
            log(f"machine still busy ({others:.2f} cores used by other processes); going on")
            return
        log(f"waiting for a quiet machine ({others:.2f} cores used by other processes)")


def probe_cli(args: list[str], cwd: Path, scratch: Path) -> dict:
    """`briefgen ARGS` in a fresh process: wall time, counts, peak RSS of process and workers."""
    report = scratch / f"probe-{time.monotonic_ns()}.json"
    env = dict(os.environ, BRIEFGEN_BENCH_PROBE=str(report))
    timed = run([PY, "-c", PROBE, *args], cwd=cwd, env=env)
    data = json.loads(report.read_text())
    report.unlink()
    data.update(seconds=timed.seconds, cpu_s=timed.cpu_s, cores=timed.cores,
                others=timed.others)
    data["counts"] = {s: int(n) for n, s in
                      re.findall(r"(\d+) (built|unchanged|withheld|failed)", timed.proc.stdout)}
    return data


def manifest_pages(out: Path) -> int:
    packs = json.loads((out / "manifest.json").read_text())["packs"]
    return sum(p["pages"] for p in packs)


def pdf_pages(path: Path) -> int:
    try:
        import pypdf
    except ImportError:  # the test extra is not installed: count page objects
        return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))
    return len(pypdf.PdfReader(path).pages)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def median(values: list[float]) -> float:
    return statistics.median(values)


def notes_for_pages(pages: int) -> int:
    """Notes per area for a pack of about `pages` pages (calibrated on the synthetic notes:
    about 8 fixed pages, then 3.4 pages per note of six claims)."""
    return max(1, round((pages - 8) / 3.4))


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# --------------------------------------------------------------------------------------------
# Sections


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    os_name = platform.platform()
    if Path("/etc/os-release").is_file():
        match = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M)
        os_name = match.group(1) if match else os_name
    pandoc = shutil.which("pandoc")
    pandoc_version = "not installed"
    if pandoc:
        pandoc_version = subprocess.run([pandoc, "--version"], capture_output=True, text=True,
                                        check=False).stdout.splitlines()[0]
    versions = {}
    for dist in ("briefgen", "weasyprint", "pydyf", "tinycss2", "fonttools"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "missing"
    git = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h %cs %s"],
                         capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "briefgen"],
                           capture_output=True, text=True, check=False).stdout.split("\n")
    changed = sorted(line[3:] for line in dirty if line.strip())
    return {"git": git, "uncommitted": changed, "cpu": cpu, "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)),
            "ram_gb": round(mem_kb / 1024 / 1024, 1), "os": os_name,
            "kernel": platform.release(), "python": platform.python_version(),
            "pandoc": pandoc_version, **versions}


def sample_noop(reps: int, scratch: Path) -> dict:
    """No-op rebuild of the repository's own project (its output/ folder), whole command."""
    log("sample: bringing output/ up to date (not timed)")
    run([PY, "-m", "briefgen", "build", "-q"], cwd=REPO)
    runs = [run([PY, "-m", "briefgen", "build", "-q"], cwd=REPO) for _ in range(reps)]
    check = probe_cli(["build"], REPO, scratch)
    imports = [run([PY, "-c", "import briefgen.commands, briefgen.loading, briefgen.build"],
                   cwd=REPO).seconds for _ in range(reps)]
    times = [r.seconds for r in runs]
    return {"median_s": median(times), "min_s": min(times), "max_s": max(times),
            "runs": times, "others": max(r.others for r in runs), "packs": check["counts"],
            "weasyprint_imported": check["weasyprint_imported"],
            "startup_and_imports_s": median(imports)}


def large_project(work: Path, areas: int, notes: int, jobs: int, speedup_areas: int,
                  rounds: int, quiet_s: float) -> dict:
    root = synth.write_project(work / "large", {f"a{i:03d}": notes for i in range(areas)})
    out = work / "large-out"
    wait_for_quiet(quiet_s)
    log(f"large: cold build of {areas} areas x {notes} notes, --jobs {jobs}")
    cold = probe_cli(["build", "--out", str(out), "--jobs", str(jobs)], root, work)
    pages = manifest_pages(out)
    log("large: no-op rebuild")
    noop = probe_cli(["build", "--out", str(out), "--jobs", str(jobs)], root, work)
    note = root / "sources" / f"a{min(1, areas - 1):03d}" / f"{min(5, notes):03d}-note.md"
    note.write_text(note.read_text() + "\nOne more sentence, added by the benchmark.\n")
    log("large: one-note rebuild")
    one = probe_cli(["build", "--out", str(out), "--jobs", str(jobs)], root, work)

    subset = [f"a{i:03d}" for i in range(speedup_areas)]
    area_args = [arg for slug in subset for arg in ("--area", slug)]
    timings: dict[int, list[dict]] = {1: [], 2: []}
    order = [1, 2] + [2, 1, 1, 2] * rounds  # ABBA: drift in the machine's load cancels out
    for j in order[: 2 * rounds]:
        wait_for_quiet(quiet_s)
        log(f"speed-up: {len(subset)} packs, --force --jobs {j}")
        timings[j].append(probe_cli(["build", "--out", str(work / f"speedup-{j}"), "--force",
                                     "--jobs", str(j), *area_args], root, work))
    best = {j: min(timings[j], key=lambda t: t["seconds"]) for j in (1, 2)}
    sub_pages = manifest_pages(work / "speedup-1")
    same = all(sha256(work / "speedup-1" / "study-group" / f"{s}.pdf") ==
               sha256(work / "speedup-2" / "study-group" / f"{s}.pdf") for s in subset)
    return {
        "areas": areas, "notes": notes, "packs": cold["counts"].get("built", 0),
        "pages": pages, "jobs": jobs,
        "cold_s": cold["seconds"], "cold_pages_per_s": pages / cold["seconds"],
        "cold_cores": cold["cores"], "cold_others": cold["others"],
        "cold_worker_peak_mb": cold["workers_mb"], "cold_main_peak_mb": cold["self_mb"],
        "noop_s": noop["seconds"], "noop_counts": noop["counts"],
        "noop_weasyprint_imported": noop["weasyprint_imported"],
        "one_note_s": one["seconds"], "one_note_counts": one["counts"],
        "one_note_others": one["others"],
        "speedup_packs": len(subset), "speedup_pages": sub_pages,
        "jobs1_runs": [t["seconds"] for t in timings[1]],
        "jobs2_runs": [t["seconds"] for t in timings[2]],
        "jobs1_s": best[1]["seconds"], "jobs2_s": best[2]["seconds"],
        "jobs1_others": best[1]["others"], "jobs2_others": best[2]["others"],
        "jobs2_cores": best[2]["cores"],
        "jobs1_pages_per_s": sub_pages / best[1]["seconds"],
        "jobs2_pages_per_s": sub_pages / best[2]["seconds"],
        "speedup": best[1]["seconds"] / best[2]["seconds"],
        "jobs1_equals_jobs2_bytes": same,
    }


def overhead_and_peers(work: Path, areas: int, notes: int, reps: int, quiet_s: float) -> dict:
    """briefgen (whole command, --jobs 1) against bare WeasyPrint on the same HTML, and against
    Pandoc (--pdf-engine=weasyprint) on the same notes."""
    from briefgen.build import input_hash, stylesheets_for
    from briefgen.loading import load_project
    from briefgen.pack import assemble
    from briefgen.render import render_html
    from briefgen.schema import AudienceConfig

    # Same HTML, same CSS, same PDF: if this briefgen embeds provenance files in each PDF (a
    # step bare WeasyPrint does not do), the comparison turns it off and times it separately.
    provenance = "provenance" in AudienceConfig.model_fields
    audiences = {"study-group": synth.AUDIENCE + ("provenance: false\n" if provenance else ""),
                 "notes-only": synth.BODY_ONLY}
    if provenance:
        audiences["with-provenance"] = synth.AUDIENCE
    root = synth.write_project(work / "ovh", {f"o{i:03d}": notes for i in range(areas)},
                               audiences=audiences)
    html_dir, bare_out, pandoc_dir = work / "ovh-html", work / "ovh-bare", work / "ovh-pandoc"
    for folder in (html_dir, bare_out, pandoc_dir):
        folder.mkdir()

    # The HTML briefgen renders, prepared in this process (and timed, for the breakdown).
    started = time.perf_counter()
    project = load_project(root)
    load_s = time.perf_counter() - started
    audience = project.audiences["study-group"]
    jobs, plan_s, hash_s = [], 0.0, 0.0
    for area in project.areas:
        started = time.perf_counter()
        html = render_html(assemble(project, area, audience))
        plan_s += time.perf_counter() - started
        started = time.perf_counter()
        digest = input_hash(project, area, audience)
        hash_s += time.perf_counter() - started
        (html_dir / f"{area.slug}.html").write_text(html, "utf-8")
        jobs.append({"area": area.slug, "html": str(html_dir / f"{area.slug}.html"),
                     "base_url": (root / "sources").as_uri() + "/",
                     "stylesheets": [str(p) for p in stylesheets_for(audience)],
                     "identifier": digest[:32], "out": str(bare_out / f"{area.slug}.pdf")})
        body = [f"# {area.meta.title}\n"]
        body += [f"## {n.meta.title}\n\n{n.body}\n" for n in area.notes]
        (pandoc_dir / f"{area.slug}.md").write_text("\n".join(body), "utf-8")
    (work / "ovh-jobs.json").write_text(json.dumps(jobs))

    pandoc = shutil.which("pandoc")
    env = dict(os.environ, PATH=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    runs: dict[str, list[Timed]] = {"briefgen": [], "bare": [], "notes": [], "pandoc": [],
                                    "provenance": []}
    out = work / "ovh-out"
    for rep in range(reps):
        wait_for_quiet(quiet_s)
        log(f"overhead and peers: round {rep + 1}/{reps}")
        runs["briefgen"].append(run([PY, "-m", "briefgen", "build", "--force", "--jobs", "1",
                                     "-q", "--audience", "study-group", "--out", str(out)],
                                    cwd=root))
        runs["bare"].append(run([PY, "-c", BARE, str(work / "ovh-jobs.json")], cwd=root))
        if provenance:
            runs["provenance"].append(run([PY, "-m", "briefgen", "build", "--force", "--jobs",
                                           "1", "-q", "--audience", "with-provenance", "--out",
                                           str(out)], cwd=root))
        if pandoc:
            runs["notes"].append(run([PY, "-m", "briefgen", "build", "--force", "--jobs", "1",
                                      "-q", "--audience", "notes-only", "--out", str(out)],
                                     cwd=root))
            started, cpu, busy = time.perf_counter(), own_cpu_s(), machine_busy_s()
            procs = [run([pandoc, str(pandoc_dir / f"{j['area']}.md"), "-s", "-o",
                          str(pandoc_dir / f"{j['area']}.pdf"), "--pdf-engine=weasyprint",
                          "--metadata", f"title={j['area']}"], cwd=pandoc_dir, env=env).proc
                     for j in jobs]
            seconds = time.perf_counter() - started
            used = own_cpu_s() - cpu
            runs["pandoc"].append(Timed(seconds, used, max(0.0, (machine_busy_s() - busy - used)
                                                           / seconds), procs[-1]))

    def seconds(name: str) -> float:
        return median([t.seconds for t in runs[name]])

    pages = sum(p["pages"] for p in json.loads((out / "manifest.json").read_text())["packs"]
                if p["audience"] == "study-group")
    identical = all(sha256(Path(j["out"])) == sha256(out / "study-group" / f"{j['area']}.pdf")
                    for j in jobs)
    result = {
        "areas": areas, "notes": notes, "pages": pages, "reps": reps,
        "briefgen_s": seconds("briefgen"), "bare_s": seconds("bare"),
        "runs": {k: [t.seconds for t in v] for k, v in runs.items()},
        "others": max(t.others for v in runs.values() for t in v),
        "identical_bytes": identical,
        "front_end": {"load_project_s": load_s, "assemble_and_html_s": plan_s,
                      "input_hash_s": hash_s},
    }
    result["overhead_pct"] = (result["briefgen_s"] / result["bare_s"] - 1) * 100
    result["overhead_best_pct"] = (min(result["runs"]["briefgen"]) /
                                   min(result["runs"]["bare"]) - 1) * 100
    if provenance:
        result["provenance_s"] = seconds("provenance")
        result["provenance_pct"] = (result["provenance_s"] / result["briefgen_s"] - 1) * 100
    if pandoc:
        notes_pages = sum(pdf_pages(out / "notes-only" / f"{j['area']}.pdf") for j in jobs)
        pandoc_pages = sum(pdf_pages(pandoc_dir / f"{j['area']}.pdf") for j in jobs)
        result.update(notes_s=seconds("notes"), notes_pages=notes_pages,
                      pandoc_s=seconds("pandoc"), pandoc_pages=pandoc_pages)
    return result


def scaling(work: Path, sizes: list[int], reps_small: int, quiet_s: float) -> dict:
    areas = {"warmup": 1} | {f"s{size:04d}": notes_for_pages(size) for size in sizes}
    root = synth.write_project(work / "scale", areas)
    by_size, others = [], 0.0
    for size in sizes:
        wait_for_quiet(quiet_s)
        reps = reps_small if size < 100 else 1
        log(f"scaling: the ~{size}-page pack" + (f", {reps} runs" if reps > 1 else ""))
        runs = []
        for _ in range(reps):
            timed = run([PY, "-c", PACK, str(root), str(work / f"scale-{size}"),
                         f"s{size:04d}"], cwd=root)
            runs.append(json.loads(timed.proc.stdout.strip().splitlines()[-1]))
            others = max(others, timed.others)
        if any(r["status"] != "built" for r in runs):
            failed = next(r for r in runs if r["status"] != "built")
            log(f"scaling: the ~{size}-page pack failed: {failed['message']}")
            by_size.append({"target": size, "notes": areas[f"s{size:04d}"], "failed":
                            failed["message"], "worker_mb": max(r["worker_mb"] for r in runs)})
            continue
        seconds = median([r["seconds"] for r in runs])
        by_size.append({"target": size, "pages": runs[0]["pages"],
                        "notes": areas[f"s{size:04d}"], "seconds": seconds, "runs": reps,
                        "ms_per_page": seconds / runs[0]["pages"] * 1000,
                        "chars_per_page": runs[0]["chars"] / runs[0]["pages"],
                        "ms_per_kchar": seconds / max(runs[0]["chars"], 1) * 1e6,
                        "worker_mb": max(r["worker_mb"] for r in runs),
                        "in_worker": runs[0]["in_worker"]})
    built = [e for e in by_size if "failed" not in e]
    middle = median([e["ms_per_page"] for e in built]) if built else 0.0
    for entry, previous in zip(built[1:], built, strict=False):
        entry["marginal_ms_per_page"] = ((entry["seconds"] - previous["seconds"]) /
                                         (entry["pages"] - previous["pages"]) * 1000)
    middle_text = median([e["ms_per_kchar"] for e in built]) if built else 0.0
    for entry in built:
        entry["vs_median"] = entry["ms_per_page"] / middle
        entry["text_vs_median"] = entry["ms_per_kchar"] / middle_text
    return {"sizes": by_size, "median_ms_per_page": middle, "others": others}


# --------------------------------------------------------------------------------------------
# Report


def report(data: dict) -> str:
    m, s, lg, ov, sc = (data["machine"], data["sample"], data["large"], data["overhead"],
                        data["scaling"])
    t = TARGETS
    lines = [
        f"## Machine\n\n{m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"{m['ram_gb']} GB RAM; {m['os']}, Linux {m['kernel']}; Python {m['python']}; "
        f"WeasyPrint {m['weasyprint']}, pydyf {m['pydyf']}; {m['pandoc']}; "
        f"briefgen {m['briefgen']} at {m['git']}"
        + (f" with uncommitted changes to {', '.join(m['uncommitted'])}" if m["uncommitted"]
           else "") + f". Mode: {data['mode']}; the run took {data['total_s'] / 60:.1f} min.\n",
        "## Figures\n",
        "\"Others\": cores that other processes on the machine used during that measurement "
        "(from /proc/stat, minus the benchmark's own processes); above about 0.25 the figure "
        "is skewed by a busy machine.\n",
        "| Measure | Result | Others | Target | |",
        "|---|---|---:|---|---|",
    ]

    def row(name: str, value: str, others: float | None = None, target: str = "",
            ok: bool | None = None) -> None:
        busy = "" if others is None else f"{others:.2f}"
        lines.append(f"| {name} | {value} | {busy} | {target} | "
                     f"{'' if ok is None else verdict(ok)} |")

    row("No-op rebuild of the sample project (whole command)",
        f"{s['median_s']:.2f} s median of {len(s['runs'])} (min {s['min_s']:.2f}, max "
        f"{s['max_s']:.2f}); {sum(s['packs'].values())} packs unchanged, WeasyPrint "
        f"{'imported' if s['weasyprint_imported'] else 'not imported'}", s["others"],
        f"< {t['noop_sample_s']} s", s["median_s"] < t["noop_sample_s"])
    row("  of which Python start-up and the imports a no-op needs",
        f"{s['startup_and_imports_s']:.2f} s")
    row(f"Cold build, synthetic project, {lg['areas']} areas x {lg['notes']} notes, "
        f"--jobs {lg['jobs']}",
        f"{lg['cold_s']:.1f} s for {lg['packs']} packs, {lg['pages']} pages; "
        f"{lg['cold_pages_per_s']:.1f} pages/s; {lg['cold_cores']:.2f} cores busy",
        lg["cold_others"])
    row("No-op rebuild, synthetic project",
        f"{lg['noop_s']:.2f} s ({lg['noop_counts'].get('unchanged', 0)} unchanged, WeasyPrint "
        f"{'imported' if lg['noop_weasyprint_imported'] else 'not imported'})")
    row("One-note rebuild, synthetic project",
        f"{lg['one_note_s']:.1f} s ({lg['one_note_counts'].get('built', 0)} built, "
        f"{lg['one_note_counts'].get('unchanged', 0)} unchanged)", lg["one_note_others"])
    row("Peak RSS of any worker during the cold build",
        f"{lg['cold_worker_peak_mb']:.0f} MB (main process {lg['cold_main_peak_mb']:.0f} MB)")
    row(f"Parallel speed-up, {lg['speedup_packs']} packs / {lg['speedup_pages']} pages, "
        "--jobs 1 vs 2",
        f"{lg['speedup']:.2f}x (best {lg['jobs1_s']:.1f} s vs {lg['jobs2_s']:.1f} s of "
        f"{len(lg['jobs1_runs'])} each; {lg['jobs1_pages_per_s']:.1f} -> "
        f"{lg['jobs2_pages_per_s']:.1f} pages/s; --jobs 2 kept {lg['jobs2_cores']:.2f} cores "
        f"busy; PDFs {'identical' if lg['jobs1_equals_jobs2_bytes'] else 'DIFFER'})",
        max(lg["jobs1_others"], lg["jobs2_others"]), f">= {t['speedup_2']}x",
        lg["speedup"] >= t["speedup_2"])
    row(f"Overhead over bare WeasyPrint, same HTML and CSS, {ov['areas']} packs / "
        f"{ov['pages']} pages",
        f"{ov['overhead_pct']:+.1f} % (median of {ov['reps']}: {ov['briefgen_s']:.2f} s vs "
        f"{ov['bare_s']:.2f} s; best-of {ov['overhead_best_pct']:+.1f} %); PDFs "
        f"{'byte-identical' if ov['identical_bytes'] else 'differ'}", ov["others"],
        f"< {t['overhead_pct']:.0f} %", ov["overhead_pct"] < t["overhead_pct"])
    if "provenance_s" in ov:
        row("  the default audience, which also embeds provenance files in each PDF",
            f"{ov['provenance_s']:.2f} s, {ov['provenance_pct']:+.1f} % over briefgen without them")
    fe = ov["front_end"]
    row("  briefgen's own steps for those packs, in-process",
        f"load {fe['load_project_s']:.2f} s, assemble + HTML {fe['assemble_and_html_s']:.2f} s, "
        f"input hashes {fe['input_hash_s']:.2f} s")
    if "pandoc_s" in ov:
        row("Peer: Pandoc --pdf-engine=weasyprint vs briefgen (notes-only audience), "
            "same notes",
            f"Pandoc {ov['pandoc_s']:.1f} s / {ov['pandoc_pages']} pages "
            f"({ov['pandoc_pages'] / ov['pandoc_s']:.1f} pages/s); briefgen "
            f"{ov['notes_s']:.1f} s / {ov['notes_pages']} pages "
            f"({ov['notes_pages'] / ov['notes_s']:.1f} pages/s); time ratio briefgen/Pandoc "
            f"{ov['notes_s'] / ov['pandoc_s']:.2f}")
    built = [e for e in sc["sizes"] if "failed" not in e]
    failed = [e for e in sc["sizes"] if "failed" in e]
    spread_ok = not failed and all(abs(e["vs_median"] - 1) <= t["per_page_spread"]
                                   for e in built)
    if built:
        row(f"Time per page, {built[0]['pages']} -> {built[-1]['pages']} pages",
            " / ".join(f"{e['ms_per_page']:.0f}" for e in built) + " ms "
            f"(x{min(e['vs_median'] for e in built):.2f} .. "
            f"x{max(e['vs_median'] for e in built):.2f} of the median size's)"
            + "".join(f"; the ~{e['target']}-page pack FAILED" for e in failed),
            sc["others"], f"within +-{t['per_page_spread']:.0%}", spread_ok)
        row("  the same, per 1000 characters of text on the pages (not a target: pages are "
            "not equally full)",
            " / ".join(f"{e['ms_per_kchar']:.1f}" for e in built) + " ms "
            f"(x{min(e['text_vs_median'] for e in built):.2f} .. "
            f"x{max(e['text_vs_median'] for e in built):.2f} of the median size's; "
            + " / ".join(f"{e['chars_per_page']:.0f}" for e in built) + " characters a page)")
    near = [e for e in built if abs(e["pages"] - 300) <= 60]
    if near:
        row(f"Peak worker RSS, {near[0]['pages']}-page pack", f"{near[0]['worker_mb']:.0f} MB",
            None, f"< {t['worker_mb_300']:.0f} MB at 300 pages",
            near[0]["worker_mb"] < t["worker_mb_300"])

    lines += ["", "## Time per page and worker memory by pack size\n",
              "| Pages | Notes | Pack s | ms/page | x median | marginal ms/page | "
              "characters/page | ms/1000 characters | worker peak MB |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in sc["sizes"]:
        if "failed" in e:
            lines.append(f"| ~{e['target']} | {e['notes']} | failed: {e['failed']} | | | | "
                         f"| | {e['worker_mb']:.0f} |")
            continue
        marginal = f"{e['marginal_ms_per_page']:.0f}" if "marginal_ms_per_page" in e else ""
        lines.append(f"| {e['pages']} | {e['notes']} | {e['seconds']:.2f} | "
                     f"{e['ms_per_page']:.0f} | {e['vs_median']:.2f} | {marginal} | "
                     f"{e['chars_per_page']:.0f} | {e['ms_per_kchar']:.1f} | "
                     f"{e['worker_mb']:.0f} |")
    where = "a warm worker" if built and built[0]["in_worker"] else "a warm process"
    lines.append(f"\nPack s: briefgen's own time for that pack in {where} (HTML, layout, PDF, "
                 f"write), median of {reps_note(sc)} below 100 pages; marginal: extra time per "
                 "extra page since the size above; characters: non-blank characters of text "
                 "pypdf extracts from the PDF; worker peak: peak RSS of the process that "
                 "rendered it (after a one-note warm-up pack).")
    return "\n".join(lines) + "\n"


def reps_note(scaling_data: dict) -> str:
    runs = [e.get("runs", 1) for e in scaling_data["sizes"]]
    return f"{max(runs)} runs" if runs else "1 run"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about 2 minutes)")
    parser.add_argument("--areas", type=int, help="areas in the large project (default 40)")
    parser.add_argument("--notes", type=int, help="notes per area (default 25)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="workers for the cold build (default: cores)")
    parser.add_argument("--speedup-areas", type=int, help="packs in the speed-up comparison")
    parser.add_argument("--rounds", type=int, help="rounds of --jobs 1 / --jobs 2 (best of)")
    parser.add_argument("--sizes", help="pack sizes in pages, comma-separated")
    parser.add_argument("--reps", type=int, help="rounds of the overhead comparison (median)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each timed section, wait up to this long for other "
                             "processes to leave the CPUs alone (shared machines)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()

    quick = args.quick
    areas = args.areas or (8 if quick else 40)
    notes = args.notes or (6 if quick else 25)
    speedup_areas = min(areas, args.speedup_areas or 8)
    rounds = args.rounds or (1 if quick else 2)
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else (
        [10, 50, 150] if quick else [10, 50, 100, 300, 500])
    reps = args.reps or (1 if quick else 3)

    started = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            parser.error(f"{args.keep} is not empty")
        work = args.keep
    else:
        work = Path(tempfile.mkdtemp(prefix="briefgen-bench-"))
    try:
        data: dict = {"mode": "quick" if quick else "default", "targets": TARGETS,
                      "machine": machine()}
        wait_for_quiet(args.wait_quiet)
        data["sample"] = sample_noop(3 if quick else 7, work)
        data["large"] = large_project(work, areas, notes, args.jobs, speedup_areas, rounds,
                                      args.wait_quiet)
        data["overhead"] = overhead_and_peers(work, 3 if quick else 6, 6 if quick else 10, reps,
                                              args.wait_quiet)
        data["scaling"] = scaling(work, sizes, 1 if quick else 3, args.wait_quiet)
        data["total_s"] = time.perf_counter() - started
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = report(data)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
