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
    manifest_entries,
    read_manifest,
    remove_output,
    sha256_of,
    write_manifest,
    write_state,
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
from briefgen.errors import Diagnostic, Location, error
from briefgen.loading import audience_file_problems
from briefgen.model import Project, stylesheets_for
from briefgen.pack import assemble, confined, visible_digest
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
    jobs: dict[tuple[str, str], Job] = {}

    def report(result: PackResult) -> None:
        job = jobs.get((result.audience, result.area))
        if job is not None:
            result.withheld, result.visible, result.tlp = job.withheld, job.visible, job.pack.tlp
            if result.status is PackStatus.FAILED:
                _drop_if_shown_more(result, job, manifest.get(f"{job.audience}/{job.area}"),
                                    project.root)
        # Every message gets the handling of what it may quote; a pack's own failure (a
        # template, the layout) may quote anything the pack holds: its marking.
        if project.handling_map is not None:
            result.diagnostics = project.handling_map.classify(result.diagnostics, result.tlp)
        results.append(result)
        if on_result:
            on_result(result)

    pending = _plan(project, out_dir, areas, audiences, options.force, manifest, report)
    jobs.update({(job.audience, job.area): job for job in pending})
    if options.in_process:
        for job in pending:
            report(render_job(job, project.root))
    elif pending:
        # Longest first: the biggest pack starts at once instead of being left for last while
        # the other workers idle. Results are reported in the usual order below.
        WorkerPool(project.root, min(options.jobs, len(pending)), options.timeout,
                   options.memory_limit_mb).run(
            sorted(pending, key=_estimated_work, reverse=True), lambda _, result: report(result))
    gone = _remove_gone(project, out_dir, manifest)
    entries = manifest_entries(manifest, results, gone)
    results += prove_output(out_dir, audiences, results, entries)
    try:
        write_manifest(out_dir, entries)
        write_state(out_dir, _last_build(project, options, areas, audiences, out_dir, results))
    except OSError as exc:
        raise error(f"{shown}/{MANIFEST}", f"cannot write the manifest: {exc.strerror or exc}",
                    hint="make the output folder writable and build again") from None
    order = {pair: i for i, pair in enumerate((a, s) for a in audiences for s in areas)}
    results.sort(key=lambda r: (order.get((r.audience, r.area), len(order)), r.output))
    return results


def _drop_if_shown_more(result: PackResult, job: Job, previous: dict | None,
                        root: Path) -> None:
    """A pack that failed keeps its previous good PDF, unless that PDF was made when its
    audience could see more than it may now (a note turned RED since): then it is removed."""
    if previous is None or previous.get("visible") == job.visible:
        return
    if remove_output(job.output, previous):
        result.output_kept = False
        result.diagnostics.append(Diagnostic(
            Location(paths.shown(job.output, root)),
            "the previous PDF of this pack was removed: it was built when this audience "
            "could see material that is now withheld from it", severity="warning",
            handling="CLEAR"))


def _remove_gone(project: Project, out_dir: Path, manifest: dict[str, dict]) -> set[str]:
    """Packs of areas or audiences that no longer exist, removed from the output folder if
    the manifest says briefgen wrote them (never anything else); their manifest keys."""
    areas = {a.slug for a in project.areas}
    gone = set()
    for key, entry in manifest.items():
        if entry.get("area") not in areas or entry.get("audience") not in project.audiences:
            path = out_dir / str(entry.get("pdf", ""))
            if remove_output(path, entry) or not (path.exists() or path.is_symlink()):
                gone.add(key)
    return gone


def prove_output(out_dir: Path, audiences: list[str], results: list[PackResult],
                 entries: dict[str, dict]) -> list[PackResult]:
    """Output is proven before success: every pack that should exist is there with the bytes
    the manifest records, every pack that should not (withheld, or failed with no good
    earlier file) is absent, and every other file in an audience's folder is one the manifest
    accounts for. A discrepancy fails its pack's result, naming the file; a stray file is a
    failed result of its own (returned)."""
    strays: list[PackResult] = []
    planned = set()
    for r in results:
        path = out_dir / r.audience / f"{r.area}.pdf"
        planned.add(path)
        entry = entries.get(f"{r.audience}/{r.area}")
        exists = path.exists() or path.is_symlink()
        if r.status in (PackStatus.BUILT, PackStatus.UNCHANGED) or (
                r.status is PackStatus.FAILED and entry is not None):
            if entry is None or path.is_symlink() or sha256_of(path) != entry["sha256"]:
                _unaccounted(r, path, out_dir, "does not hold the bytes the manifest records "
                             "for this pack")
        elif exists:
            why = ("the pack is withheld from this audience" if r.status is PackStatus.WITHHELD
                   else "the pack failed")
            _unaccounted(r, path, out_dir, f"should not be here: {why}, and the manifest does "
                         "not account for this file")
    recorded = {out_dir / e["pdf"]: e for e in entries.values()}
    for name in sorted(set(audiences) | {e["audience"] for e in entries.values()}):
        folder = out_dir / name
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if path.name.startswith(".") or path in planned:
                continue
            entry = recorded.get(path)
            if entry is None or path.is_symlink() or sha256_of(path) != entry["sha256"]:
                stray = PackResult(path.stem, name, PackStatus.FAILED, str(path))
                _unaccounted(stray, path, out_dir, "is not a file briefgen wrote (the "
                             "manifest does not account for it)")
                strays.append(stray)
    return strays


def _unaccounted(result: PackResult, path: Path, out_dir: Path, why: str) -> None:
    result.status = PackStatus.FAILED
    result.diagnostics.append(Diagnostic(
        Location(paths.shown(path, out_dir.parent)), why, handling="CLEAR",
        hint="delete or move it, then build again; briefgen never deletes a file it cannot "
             "prove it wrote (a build stopped part-way can leave one)"))


def _last_build(project: Project, options: BuildOptions, areas: list[str],
                audiences: list[str], out_dir: Path, results: list[PackResult]) -> dict | None:
    """What the next no-op build checks instead of loading the project, if this build was
    complete (see briefgen.fingerprint); None drops any earlier record."""
    if options.fingerprint is None or any(r.status is PackStatus.FAILED for r in results):
        return None
    from dataclasses import asdict

    from briefgen.fingerprint import last_build, pdf_stamp, project_fingerprint

    root = project.root
    # Files a pack used outside sources/ and styles/ (images anywhere in the project): the
    # fingerprint covers them too, or replacing one would go unnoticed.
    extra = sorted({found.path.relative_to(root).as_posix() for area in project.areas
                    for *_, found in area.images() if found.path is not None
                    and found.path.relative_to(root).parts[0] not in ("sources", "styles")})
    previous = last_build(out_dir) or {}
    # The fingerprint was taken before loading, over the files the last build used; if this
    # build used others, it is taken again over those.
    fingerprint = options.fingerprint if previous.get("extra_files") == extra \
        else project_fingerprint(root, extra)
    return {"fingerprint": fingerprint, "extra_files": extra, "areas": areas,
            "audiences": audiences, "all_areas": not options.areas,
            "all_audiences": not options.audiences,
            # As a TLP:CLEAR reader may see them: a no-op build prints them again.
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
                # A pack built before the area was restricted must not linger (and one the
                # manifest cannot account for fails the proof after the build).
                remove_output(output, manifest.get(f"{audience_name}/{slug}"))
                result.status = PackStatus.WITHHELD
                report(result)
                continue
            result.tlp = pack.tlp
            visible = visible_digest(pack)
            if refused:
                result.status = PackStatus.FAILED
                result.diagnostics.extend(refused)
                report(result)
                continue
            remove_partial_writes(output)  # left by a build that was killed mid-write
            digest = input_hash(project, area, audience)
            previous = manifest.get(f"{audience_name}/{slug}")
            if (not force and previous and previous.get("input_hash") == digest
                    and previous.get("visible") == visible
                    and previous.get("sha256") == sha256_of(output)):
                report(PackResult(slug, audience_name, PackStatus.UNCHANGED, str(output),
                                  previous.get("pages", 0), sha256=previous["sha256"],
                                  input_hash=digest, withheld=pack.withheld, visible=visible,
                                  tlp=pack.tlp))
                continue
            cfg = audience.config
            pending.append(Job(slug, audience_name, output, digest, confined(pack),
                               stylesheets_for(audience), cfg.pdf_variant, cfg.pdf_tags,
                               pack.withheld, visible))
    return pending


def _estimated_work(job: Job) -> int:
    """Roughly how long a pack takes to render: the characters of its notes, plus a caveats
    entry and a source line per claim (about 300 characters of layout each)."""
    return sum(len(note.body) for note in job.pack.notes) + 300 * len(job.pack.claims)
