"""The build: plan (areas x audiences), skip unchanged packs, render in workers, write atomically.

    plan       here: which packs, each assembled for its audience (`pack.assemble`)
    cache      input hashes and the manifest: an unchanged pack is not rendered again
    workers    worker processes with time and memory limits render the rest
    output     where a build may write, and atomic writes
    results    what each pack became: a typed status and located diagnostics
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from briefgen import paths
from briefgen.book import BOOK, Book, assemble_book
from briefgen.build.cache import (
    MANIFEST,
    input_hash,
    manifest_entries,
    pack_entries,
    read_manifest,
    remove_output,
    sha256_of,
    write_manifest,
    write_state,
)
from briefgen.build.output import atomic_write, check_writable, remove_partial_writes
from briefgen.build.results import Job, PackResult, PackStatus, Written
from briefgen.build.workers import (
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIMEOUT,
    WORKER_GC_THRESHOLD,
    WorkerPool,
    render_job,
)
from briefgen.errors import BriefgenError, Diagnostic, Location, error
from briefgen.formats import FORMATS
from briefgen.loading import audience_file_problems
from briefgen.model import Audience, Project, stylesheets_for
from briefgen.pack import assemble, confined, visible_digest
from briefgen.paths import output_folder
from briefgen.suggest import did_you_mean

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
    formats: Sequence[str] = ()         # empty: each audience's `formats` (or the project's)
    book: bool = False                  # also the book of every area (or `book:` in config)
    # The project's fingerprint taken before it was loaded (briefgen.fingerprint): recorded
    # with a build that succeeded, it lets the next no-op build skip loading the project.
    fingerprint: str | None = None
    # (K, N): build only the K-th of N deterministic shares of the packs (a CI matrix); the
    # audience indexes are left to `bundle`, which puts the shards back together.
    shard: tuple[int, int] | None = None


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
                _drop_if_shown_more(result, job, manifest, project.root)
        # Every message gets the handling of what it may quote; a pack's own failure (a
        # template, the layout) may quote anything the pack holds: its marking.
        if project.handling_map is not None:
            result.diagnostics = project.handling_map.classify(result.diagnostics, result.tlp)
        results.append(result)
        if on_result:
            on_result(result)

    pending = _plan(project, out_dir, areas, audiences, options, manifest, report)
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
    for name in audiences if options.shard is None else ():
        entries.update(write_index(project, out_dir, name, entries))
    results += prove_output(out_dir, audiences, results, entries)
    try:
        write_manifest(out_dir, entries, options.shard)
        write_state(out_dir, _last_build(project, options, areas, audiences, out_dir, results))
    except OSError as exc:
        raise error(f"{shown}/{MANIFEST}", f"cannot write the manifest: {exc.strerror or exc}",
                    hint="make the output folder writable and build again") from None
    order = {pair: i for i, pair in enumerate((a, s) for a in audiences
                                              for s in [*areas, BOOK])}
    results.sort(key=lambda r: (order.get((r.audience, r.area), len(order)), r.output))
    return results


def _drop_if_shown_more(result: PackResult, job: Job, manifest: dict[str, dict],
                        root: Path) -> None:
    """A pack that failed keeps its previous good files, unless they were made when its
    audience could see more than it may now (a note turned RED since): then they are
    removed."""
    previous = pack_entries(manifest, job.audience, job.area)
    if not previous or all(e.get("visible") == job.visible for e in previous.values()):
        return
    result.output_kept = False
    for file, entry in previous.items():
        path = job.output.parent.parent / file
        if remove_output(path, entry):
            result.diagnostics.append(Diagnostic(
                Location(paths.shown(path, root)),
                "the previous edition of this pack was removed: it was built when this "
                "audience could see material that is now withheld from it",
                severity="warning", handling="CLEAR"))


def _remove_gone(project: Project, out_dir: Path, manifest: dict[str, dict]) -> set[str]:
    """Packs of areas or audiences that no longer exist, removed from the output folder if
    the manifest says briefgen wrote them (never anything else); their manifest keys."""
    areas = {a.slug for a in project.areas} | {"", BOOK}   # "": an audience's index
    gone = set()
    for key, entry in manifest.items():
        if entry.get("area") not in areas or entry.get("audience") not in project.audiences:
            path = out_dir / key
            if remove_output(path, entry) or not (path.exists() or path.is_symlink()):
                gone.add(key)
    return gone


def prove_output(out_dir: Path, audiences: list[str], results: list[PackResult],
                 entries: dict[str, dict]) -> list[PackResult]:
    """Output is proven before success: every file a pack should have is there with the bytes
    the manifest records, every edition of a pack that should have none (withheld, or failed
    with no good earlier file) is absent, and every other file in an audience's folder is one
    the manifest accounts for. A discrepancy fails its pack's result, naming the file; a stray
    file is a failed result of its own (returned)."""
    strays: list[PackResult] = []
    planned = set()
    for r in results:
        written = {f.file for f in r.files}
        for fmt in FORMATS:
            file = f"{r.audience}/{r.area}.{fmt}"
            path = out_dir / file
            planned.add(path)
            entry = entries.get(file)
            exists = path.exists() or path.is_symlink()
            if file in written or (r.status is PackStatus.FAILED and entry is not None):
                if entry is None or path.is_symlink() or sha256_of(path) != entry["sha256"]:
                    _unaccounted(r, path, out_dir, "does not hold the bytes the manifest "
                                 "records for this pack")
            elif exists and not (  # an edition of an earlier build the manifest records
                    r.status in (PackStatus.BUILT, PackStatus.UNCHANGED) and entry is not None
                    and not path.is_symlink() and sha256_of(path) == entry["sha256"]):
                why = {PackStatus.WITHHELD: "the pack is withheld from this audience",
                       PackStatus.FAILED: "the pack failed"}.get(r.status, "it is stale")
                _unaccounted(r, path, out_dir, f"should not be here: {why}, and the manifest "
                             "does not account for this file")
    for name in sorted(set(audiences) | {e["audience"] for e in entries.values()}):
        folder = out_dir / name
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if path.name.startswith(".") or path in planned:
                continue
            entry = entries.get(f"{name}/{path.name}")
            if entry is None or path.is_symlink() or sha256_of(path) != entry["sha256"]:
                stray = PackResult(path.stem, name, PackStatus.FAILED, str(path))
                _unaccounted(stray, path, out_dir, "is not a file briefgen wrote (the "
                             "manifest does not account for it)")
                strays.append(stray)
    return strays


def write_index(project: Project, out_dir: Path, audience: str,
                entries: dict[str, dict]) -> dict[str, dict]:
    """`<audience>/index.html`: every pack and edition built for the audience (from the
    manifest: only what is there), for a reader to open the one they want. Its manifest
    entry, or none when the audience has no files."""
    from briefgen.formats.index import index_page

    files = {e["file"]: e for e in entries.values()
             if e.get("audience") == audience and e.get("format") in FORMATS}
    path = out_dir / audience / "index.html"
    if not files:
        return {}
    data = index_page(project, audience, files)
    if not (path.is_file() and not path.is_symlink() and path.read_bytes() == data):
        atomic_write(path, data)
    return {f"{audience}/index.html": {
        "audience": audience, "area": "", "format": "index", "file": f"{audience}/index.html",
        "pages": 0, "input_hash": "", "sha256": hashlib.sha256(data).hexdigest(),
        "visible": ""}}


def _unaccounted(result: PackResult, path: Path, out_dir: Path, why: str) -> None:
    result.status = PackStatus.FAILED
    result.diagnostics.append(Diagnostic(
        Location(paths.shown(path, out_dir.parent)), why, handling="CLEAR",
        hint="delete or move it, then build again; briefgen never deletes a file it cannot "
             "prove it wrote (a build stopped part-way can leave one)"))


def _render_warnings(out_dir: Path) -> dict[str, list[Diagnostic]]:
    """The CSS warnings each pack's last rendering gave (the state file), by audience/area."""
    from briefgen.fingerprint import last_build

    found: dict[str, list[Diagnostic]] = {}
    for pack in (last_build(out_dir) or {}).get("packs", []):
        try:
            found[f"{pack['audience']}/{pack['area']}"] = [
                Diagnostic.from_dict(w) for w in pack.get("render_warnings", [])]
        except (KeyError, TypeError):
            continue
    return found


def _last_build(project: Project, options: BuildOptions, areas: list[str],
                audiences: list[str], out_dir: Path, results: list[PackResult]) -> dict | None:
    """What the next no-op build checks instead of loading the project, if this build was
    complete (see briefgen.fingerprint); None drops any earlier record."""
    if (options.fingerprint is None or options.shard is not None
            or any(r.status is PackStatus.FAILED for r in results)):
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
            "formats": list(options.formats),
            "packs": [{"audience": r.audience, "area": r.area, "status": str(r.status),
                       "files": [f.file for f in r.files], "pages": r.pages,
                       "stamps": [pdf_stamp(out_dir / f.file) for f in r.files],
                       "withheld": [asdict(w) for w in r.withheld],
                       # CSS only: it quotes the audience's stylesheet, never content.
                       "render_warnings": [d.to_dict() for d in r.diagnostics
                                           if d.code == "css"]} for r in results]}


def _selection(project: Project, options: BuildOptions) -> tuple[list[str], list[str]]:
    """The areas and audiences to build, each checked to exist."""
    known_areas = [a.slug for a in project.areas]
    areas = list(options.areas) or known_areas
    for slug in areas:
        if slug not in known_areas:
            # The message quotes only what was typed and the names of TLP:CLEAR areas, so it
            # is CLEAR itself (a message at sources/ is otherwise withheld as RED): an area
            # handled above CLEAR is neither listed nor suggested.
            clear = [a.slug for a in project.areas if a.handling == "CLEAR"]
            more = len(known_areas) - len(clear)
            listed = ", ".join(clear) or "none"
            if more:
                listed += f" (and {more} handled above TLP:CLEAR)"
            raise BriefgenError(Diagnostic(
                Location("sources/"), f"no area '{slug}'",
                did_you_mean(slug, clear, f"areas: {listed}"), handling="CLEAR"))
    if (options.book or project.config.book) and BOOK in known_areas:
        raise error("sources/book/", "an area may not be called 'book' when the book is built: "
                    "the book is written as output/<audience>/book.pdf",
                    hint="rename the area's folder")
    audiences = list(options.audiences) or sorted(project.audiences)
    for name in audiences:
        if name not in project.audiences:
            raise error("styles/", f"no audience '{name}'",
                        hint=did_you_mean(name, project.audiences, "audiences: " + (
                            ", ".join(sorted(project.audiences)) or "none")))
    return areas, audiences


def shard_of(project: Project, options: BuildOptions) -> set[tuple[str, str]] | None:
    """The (audience, area) packs of shard K of N, or None when the build is not sharded.

    Every pack of the whole project (each audience's book too, if books are built), in
    sorted order, dealt round-robin: the same shares on every machine, whatever else is
    selected, each at most one pack larger than another."""
    if options.shard is None:
        return None
    number, count = options.shard
    books = [BOOK] if options.book or project.config.book else []
    packs = sorted((audience, area) for audience in project.audiences
                   for area in [*(a.slug for a in project.areas), *books])
    return {pack for index, pack in enumerate(packs) if index % count == number - 1}


def editions(project: Project, audience: Audience, options: BuildOptions) -> tuple[str, ...]:
    """The formats to build for `audience`: --to, else the audience's, else the project's."""
    return tuple(dict.fromkeys(options.formats or audience.config.formats
                               or project.config.formats))


def _plan(project: Project, out_dir: Path, areas: list[str], audiences: list[str],
          options: BuildOptions, manifest: dict[str, dict],
          report: Callable[[PackResult], None]) -> list[Job]:
    """The packs to render; withheld, refused and unchanged packs are reported at once."""
    area_map = {a.slug: a for a in project.areas}
    pending: list[Job] = []
    mine = shard_of(project, options)
    # What the stylesheets made WeasyPrint ignore, as the last build saw it: an unchanged
    # pack is not rendered again, but its warnings are reported again (README).
    earlier = _render_warnings(out_dir)
    for audience_name in audiences:
        audience = project.audiences[audience_name]
        formats = editions(project, audience, options)
        refused = audience_file_problems(project.root, audience.directory)
        for slug in areas:
            if mine is not None and (audience_name, slug) not in mine:
                continue
            area = area_map[slug]
            output = out_dir / audience_name / f"{slug}.{formats[0]}"
            result = PackResult(slug, audience_name, PackStatus.FAILED, str(output))
            previous = pack_entries(manifest, audience_name, slug)
            pack = assemble(project, area, audience)
            if pack is None:
                # A pack built before the area was restricted must not linger (and one the
                # manifest cannot account for fails the proof after the build).
                for file, entry in previous.items():
                    remove_output(out_dir / file, entry)
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
            for fmt in formats:  # left by a build that was killed mid-write
                remove_partial_writes(output.with_suffix(f".{fmt}"))
            digest = input_hash(project, area, audience)
            files = _unchanged_files(previous, f"{audience_name}/{slug}", formats, digest,
                                     visible, out_dir)
            if files and not options.force:
                report(PackResult(slug, audience_name, PackStatus.UNCHANGED, str(output),
                                  files[0].pages, sha256=files[0].sha256,
                                  input_hash=digest, withheld=pack.withheld, visible=visible,
                                  tlp=pack.tlp, files=files,
                                  diagnostics=earlier.get(f"{audience_name}/{slug}", [])))
                continue
            cfg = audience.config
            pending.append(Job(slug, audience_name, output, digest, confined(pack),
                               stylesheets_for(audience), cfg.pdf_variant, cfg.pdf_tags,
                               pack.withheld, visible, formats))
        if (options.book or project.config.book) and (
                mine is None or (audience_name, BOOK) in mine):
            pending += _plan_book(project, out_dir, audience, formats, refused, options,
                                  manifest, report)
    return pending


def _unchanged_files(previous: dict[str, dict], stem: str, formats: tuple[str, ...],
                     digest: str, visible: str, out_dir: Path) -> list[Written]:
    """The pack's files as the manifest records them, if every format asked for is there,
    built from these inputs for what the audience sees now, and untouched; else []."""
    kept = [previous.get(f"{stem}.{fmt}") for fmt in formats]
    if not all(e is not None and e.get("input_hash") == digest and e.get("visible") == visible
               and e.get("sha256") == sha256_of(out_dir / e["file"]) for e in kept):
        return []
    return [Written(e["format"], e["file"], e["sha256"], e.get("pages", 0))
            for e in kept if e is not None]


def book_input_hash(project: Project, audience: Audience, book: Book | None = None) -> str | None:
    """The book's input hash: its areas' (those the audience may see), in order."""
    book = book or assemble_book(project, audience)
    if book is None:
        return None
    return hashlib.sha256("\0".join(
        [BOOK, *(input_hash(project, p.area, audience) for p in book.parts)]).encode()).hexdigest()


def _plan_book(project: Project, out_dir: Path, audience: Audience, formats: tuple[str, ...],
               refused: tuple[Diagnostic, ...], options: BuildOptions,
               manifest: dict[str, dict], report: Callable[[PackResult], None]) -> list[Job]:
    """The book of every area for `audience` (briefgen.book): planned like a pack."""
    output = out_dir / audience.name / f"{BOOK}.{formats[0]}"
    result = PackResult(BOOK, audience.name, PackStatus.FAILED, str(output))
    previous = pack_entries(manifest, audience.name, BOOK)
    book = assemble_book(project, audience)
    if book is None:
        for file, entry in previous.items():
            remove_output(out_dir / file, entry)
        result.status = PackStatus.WITHHELD
        report(result)
        return []
    result.tlp = book.pack.tlp
    if refused:
        result.diagnostics.extend(refused)
        report(result)
        return []
    visible = visible_digest(book.pack)
    digest = book_input_hash(project, audience, book) or ""
    files = _unchanged_files(previous, f"{audience.name}/{BOOK}", formats, digest, visible,
                             out_dir)
    if files and not options.force:
        report(PackResult(BOOK, audience.name, PackStatus.UNCHANGED, str(output),
                          files[0].pages, sha256=files[0].sha256, input_hash=digest,
                          withheld=book.pack.withheld, visible=visible, tlp=book.pack.tlp,
                          files=files))
        return []
    for fmt in formats:
        remove_partial_writes(output.with_suffix(f".{fmt}"))
    cfg = audience.config
    return [Job(BOOK, audience.name, output, digest, confined(book.pack),
                stylesheets_for(audience), cfg.pdf_variant, cfg.pdf_tags, book.pack.withheld,
                visible, formats, tuple(confined(p) for p in book.parts))]


def _estimated_work(job: Job) -> int:
    """Roughly how long a pack takes to render: the characters of its notes, plus a caveats
    entry and a source line per claim (about 300 characters of layout each)."""
    return sum(len(note.body) for note in job.pack.notes) + 300 * len(job.pack.claims)
