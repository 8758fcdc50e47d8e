"""The build: plan (areas x audiences), skip unchanged packs, render in workers, write atomically.

    plan       here: which packs, each assembled for its audience (`pack.assemble`)
    cache      input hashes and the manifest: an unchanged pack is not rendered again
    workers    worker processes with time and memory limits render the rest
    output     where a build may write, and atomic writes
    results    what each pack became: a typed status and located diagnostics
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from briefgen import paths
from briefgen.build.cache import (
    MANIFEST,
    input_hash,
    read_manifest,
    remove_output,
    sha256_of,
    write_manifest,
)
from briefgen.build.output import atomic_write, check_writable, remove_partial_writes
from briefgen.build.results import Job, PackResult, PackStatus
from briefgen.build.workers import (
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIMEOUT,
    WORKER_GC_THRESHOLD,
    WorkerPool,
    render_job,
)
from briefgen.errors import error
from briefgen.loading import audience_file_problems
from briefgen.model import Project, stylesheets_for
from briefgen.pack import assemble, confined
from briefgen.paths import output_folder

__all__ = ["DEFAULT_TIMEOUT", "MANIFEST", "WORKER_GC_THRESHOLD", "BuildOptions", "Job",
           "PackResult", "PackStatus", "atomic_write", "build", "input_hash",
           "output_folder", "remove_partial_writes", "render_job", "stylesheets_for"]


@dataclass(frozen=True)
class BuildOptions:
    """What to build and under which limits; `None` for a limit lifts it."""

    areas: Sequence[str] = ()           # empty: every area
    audiences: Sequence[str] = ()       # empty: every audience
    force: bool = False                 # rebuild packs whose inputs did not change
    jobs: int = 1                       # worker processes at once
    timeout: float | None = DEFAULT_TIMEOUT          # seconds per pack
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB  # address space per worker
    in_process: bool = False            # render here, without limits (debugging, tests)
    # The project's fingerprint taken before it was loaded (briefgen.fingerprint): recorded
    # with a build that succeeded, it lets the next no-op build skip loading the project.
    fingerprint: str | None = None


def build(project: Project, out_dir: Path, options: BuildOptions = BuildOptions(),
          on_result: Callable[[PackResult], None] | None = None) -> list[PackResult]:
    """Build every selected (area, audience) pack into `out_dir`; one result per pack,
    handed to `on_result` as it comes and returned in plan order."""
    if options.timeout is not None and not options.timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    out_dir = out_dir.resolve()
    areas, audiences = _selection(project, options)
    shown = paths.shown(out_dir, project.root)
    check_writable(out_dir, shown)
    for name in audiences:
        sub = out_dir / name
        if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
            raise error(f"{shown}/{name}", "is a link or a file, not a folder briefgen made",
                        hint="remove it; briefgen writes each audience's packs into a folder "
                             "of its own")
    manifest = read_manifest(out_dir)
    results: list[PackResult] = []

    def report(result: PackResult) -> None:
        results.append(result)
        if on_result:
            on_result(result)

    pending = _plan(project, out_dir, areas, audiences, options.force, manifest, report)
    if options.in_process:
        for job in pending:
            report(_with_withheld(render_job(job, project.root), job))
    elif pending:
        # Longest first: the biggest pack starts at once instead of being left for last while
        # the other workers idle. Results are reported in the usual order below.
        WorkerPool(project.root, min(options.jobs, len(pending)), options.timeout,
                   options.memory_limit_mb).run(
            sorted(pending, key=_estimated_work, reverse=True),
            lambda job, result: report(_with_withheld(result, job)))
    try:
        write_manifest(out_dir, manifest, results, _last_build(
            project, options, areas, audiences, out_dir, results))
    except OSError as exc:
        raise error(f"{shown}/{MANIFEST}", f"cannot write the manifest: {exc.strerror or exc}",
                    hint="make the output folder writable and build again") from None
    order = {pair: i for i, pair in enumerate((a, s) for a in audiences for s in areas)}
    results.sort(key=lambda r: order[(r.audience, r.area)])
    return results


def _last_build(project: Project, options: BuildOptions, areas: list[str],
                audiences: list[str], out_dir: Path, results: list[PackResult]) -> dict | None:
    """What the next no-op build checks instead of loading the project, if this build was
    complete (see briefgen.fingerprint); None drops any earlier record."""
    if options.fingerprint is None or any(r.status is PackStatus.FAILED for r in results):
        return None
    from dataclasses import asdict

    from briefgen.fingerprint import pdf_stamp

    return {"fingerprint": options.fingerprint, "areas": areas, "audiences": audiences,
            "all_areas": not options.areas, "all_audiences": not options.audiences,
            "warnings": [w.format() for w in project.warnings],
            "packs": [{"audience": r.audience, "area": r.area, "status": str(r.status),
                       "pdf": f"{r.audience}/{r.area}.pdf", "pages": r.pages,
                       "stamp": pdf_stamp(out_dir / r.audience / f"{r.area}.pdf"),
                       "withheld": [asdict(w) for w in r.withheld]} for r in results]}


def _selection(project: Project, options: BuildOptions) -> tuple[list[str], list[str]]:
    """The areas and audiences to build, each checked to exist."""
    known_areas = [a.slug for a in project.areas]
    areas = list(options.areas) or known_areas
    for slug in areas:
        if slug not in known_areas:
            raise error("sources/", f"no area '{slug}'",
                        hint=f"areas: {', '.join(known_areas) or 'none'}")
    audiences = list(options.audiences) or sorted(project.audiences)
    for name in audiences:
        if name not in project.audiences:
            raise error("styles/", f"no audience '{name}'",
                        hint=f"audiences: {', '.join(sorted(project.audiences)) or 'none'}")
    return areas, audiences


def _plan(project: Project, out_dir: Path, areas: list[str], audiences: list[str],
          force: bool, manifest: dict[str, dict],
          report: Callable[[PackResult], None]) -> list[Job]:
    """The packs to render; withheld, refused and unchanged packs are reported at once."""
    area_map = {a.slug: a for a in project.areas}
    pending: list[Job] = []
    for audience_name in audiences:
        audience = project.audiences[audience_name]
        refused = audience_file_problems(project.root, audience.directory)
        for slug in areas:
            area = area_map[slug]
            output = out_dir / audience_name / f"{slug}.pdf"
            result = PackResult(slug, audience_name, PackStatus.FAILED, str(output))
            pack = assemble(project, area, audience)
            if pack is None:
                # A pack built before the area was restricted must not linger.
                remove_output(output, manifest.get(f"{audience_name}/{slug}"))
                result.status, result.output = PackStatus.WITHHELD, ""
                report(result)
                continue
            if refused:
                result.status = PackStatus.FAILED
                result.diagnostics.extend(refused)
                report(result)
                continue
            remove_partial_writes(output)  # left by a build that was killed mid-write
            digest = input_hash(project, area, audience)
            previous = manifest.get(f"{audience_name}/{slug}")
            if (not force and previous and previous.get("input_hash") == digest
                    and previous.get("sha256") == sha256_of(output)):
                report(PackResult(slug, audience_name, PackStatus.UNCHANGED, str(output),
                                  previous.get("pages", 0), sha256=previous["sha256"],
                                  input_hash=digest, withheld=pack.withheld))
                continue
            cfg = audience.config
            pending.append(Job(slug, audience_name, output, digest, confined(pack),
                               stylesheets_for(audience), cfg.pdf_variant, cfg.pdf_tags,
                               pack.withheld))
    return pending


def _with_withheld(result: PackResult, job: Job) -> PackResult:
    result.withheld = job.withheld
    return result


def _estimated_work(job: Job) -> int:
    """Roughly how long a pack takes to render: the characters of its notes, plus a caveats
    entry and a source line per claim (about 300 characters of layout each)."""
    return sum(len(note.body) for note in job.pack.notes) + 300 * len(job.pack.claims)
