"""The build: plan (areas x audiences), skip unchanged packs, render in workers, write atomically.

A pack is rebuilt only when its input hash changes: the files it reads (project config,
bibliography, its area folder, its audience folder), briefgen's templates and fonts, and the
versions of briefgen, WeasyPrint and pydyf. Hashing reads bytes only, so a no-op build never
imports WeasyPrint. The hash also seeds the PDF identifier, so the same inputs give
byte-identical PDFs.

Packs are rendered (Markdown -> HTML -> PDF) in worker processes, each under a time limit and
an address-space limit (`resource.setrlimit` in the worker). A pack that runs too long is
stopped, a pack that runs out of memory or crashes its worker is reported failed, and the
other packs build on in fresh workers. A PDF is written to a temporary file beside it and
renamed into place, so a crash, a kill or a full disk never leaves a half-written PDF where
the previous good one was.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import signal
import stat
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from briefgen import __version__, provenance
from briefgen.errors import BriefgenError, error
from briefgen.model import Area, Audience, Project
from briefgen.pack import Pack, Withheld, assemble, confined
from briefgen.render import PACKAGE_TEMPLATES, render_html, template_error

MANIFEST = "manifest.json"
DEFAULT_TIMEOUT = 300.0  # seconds per pack (briefgen build --timeout)
STARTUP_GRACE = 60.0     # a new worker may take this long to import WeasyPrint
RECYCLE_AFTER = 8        # packs a worker renders before it is replaced
# A worker's garbage collector. WeasyPrint keeps every laid-out page alive until the PDF is
# written; with CPython's default first-generation threshold (700) the collections that walk
# that growing heap took 10 % of a 50-page pack and 18-20 % of a 300- or 500-page one
# (timed with gc.callbacks). With 10000 they are rare, for about 8 % more peak memory on a
# 300-page pack; one full collection between packs keeps a worker that renders many packs
# from growing. The PDF bytes do not change (tests/test_reproducible.py; BENCHMARKS.md).
WORKER_GC_THRESHOLD = (10_000, 10, 10)


def _memory_limit_from_env() -> int:
    """Address space per worker: 2048 MB, or BRIEFGEN_MEMORY_LIMIT_MB (0: no limit)."""
    try:
        return max(0, int(os.environ.get("BRIEFGEN_MEMORY_LIMIT_MB", "2048")))
    except ValueError:
        return 2048


DEFAULT_MEMORY_LIMIT_MB = _memory_limit_from_env()


@dataclass
class Job:
    area: str
    audience: str
    output: Path
    input_hash: str
    html: str = ""
    stylesheets: list[Path] = field(default_factory=list)
    variant: str | None = None
    tags: bool = False
    withheld: list[Withheld] = field(default_factory=list)
    pack: Pack | None = None    # rendered to HTML by render_job when `html` is empty


@dataclass
class PackResult:
    area: str
    audience: str
    status: str                 # built | unchanged | failed | withheld
    output: str = ""
    pages: int = 0
    seconds: float = 0.0
    sha256: str = ""
    input_hash: str = ""
    message: str = ""
    withheld: list[Withheld] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # e.g. CSS that WeasyPrint ignored


def _versions() -> str:
    found = [f"briefgen={__version__}"]
    for dist in ("weasyprint", "pydyf", "jinja2", "markdown", "nh3"):
        try:
            found.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:  # pragma: no cover
            found.append(f"{dist}=missing")
    return ";".join(found)


def _tree_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def image_files(project: Project, area: Area) -> list[Path]:
    """Every image file the area's texts show, wherever in the project it lives."""
    from briefgen.images import locate
    from briefgen.markup import find_images

    found = {locate(project.root, display, image.src).path
             for display, text, _ in area.texts() for image in find_images(text)}
    return sorted(p for p in found if p is not None)


def input_hash(project: Project, area: Area, audience: Audience) -> str:
    """Everything a pack reads: config, bibliography, its area folder and the images its
    notes show, its audience's folders, briefgen's templates and fonts, library versions."""
    digest = hashlib.sha256(_versions().encode())
    root = project.root
    files = [root / "briefgen.yaml", root / "sources" / "references.yaml"]
    files += _tree_files(root / "sources" / area.slug)
    files += [p for p in image_files(project, area) if p not in files]
    for layer in audience.layers:
        files += _tree_files(layer)
    files += _tree_files(PACKAGE_TEMPLATES) + _tree_files(PACKAGE_TEMPLATES.parent / "fonts")
    roots = [root.resolve(), PACKAGE_TEMPLATES.parent.resolve()]
    for path in files:
        # Paths relative to the project or the package, so the same project checked out in
        # another folder hashes the same (the hash seeds the PDF identifier).
        digest.update(_portable(path, [root, PACKAGE_TEMPLATES.parent]).encode() + b"\0")
        digest.update(_file_digest(path, roots))
    digest.update(f"{area.slug}\0{audience.name}".encode())
    return digest.hexdigest()


def _portable(path: Path, bases: list[Path]) -> str:
    for index, base in enumerate(bases):
        if path.is_relative_to(base):
            return f"{index}:{path.relative_to(base).as_posix()}"
    return path.as_posix()


def _file_digest(path: Path, roots: list[Path]) -> bytes:
    """A file's content hash, streamed; a link out of the project is hashed by name only."""
    try:
        real = path.resolve()
        if not any(real.is_relative_to(r) for r in roots):
            return b"outside:" + str(real).encode()
        if not path.is_file():
            return b"-"
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except (OSError, RuntimeError) as exc:
        return f"unreadable:{exc}".encode()


def escaping_files(project_root: Path, folder: Path) -> list[str]:
    """Files under `folder` that resolve outside the project (symlinks), as project paths.

    An audience folder holds templates that are read as Jinja source and stylesheets: a link
    from there to a file outside the project must not be rendered into a pack.
    """
    root = project_root.resolve()
    found = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        try:
            outside = not path.resolve().is_relative_to(root)
        except (OSError, RuntimeError):
            outside = True
        if outside:
            found.append(path.relative_to(project_root).as_posix())
    return found


def stylesheets_for(audience: Audience) -> list[Path]:
    """base.css (or an audience's replacement), then each layer's style.css in order."""
    overrides = [p / "templates" / "base.css" for p in reversed(audience.layers)]
    base = next((p for p in overrides if p.is_file()), PACKAGE_TEMPLATES / "base.css")
    return [base, *(p / "style.css" for p in audience.layers if (p / "style.css").is_file())]


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written PDF.

    Until `os.replace` the old file is untouched; the rename is atomic on POSIX, so a reader
    (or a crash, a kill, a full disk) sees either the complete old file or the complete new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), _file_mode(path))
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _file_mode(path: Path) -> int:
    """The mode a plain `open(path, "w")` would give (mkstemp's is 0600), or the old file's."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; not every platform or file system supports it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def remove_partial_writes(path: Path) -> None:
    """Delete temporary files a killed writer of `path` left behind (never `path` itself)."""
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*.tmp"):
            leftover.unlink(missing_ok=True)


def output_folder(project_root: Path, given: Path | None) -> Path:
    """Where a build writes: the folder given on the command line (`--out`), else the
    project's `output/`, which must then really be inside the project. A project that makes
    `output` a link to somewhere else would otherwise have the build write, and delete,
    files wherever it points."""
    if given is not None:
        return given.resolve()
    root = project_root.resolve()
    folder = root / "output"
    if folder.is_symlink() or (folder.exists() and not folder.resolve().is_relative_to(root)):
        raise error("output", f"output is a link to {os.path.realpath(folder)}; briefgen "
                    "writes only inside the project unless told otherwise",
                    hint="remove the link, or name the folder on the command line: "
                         "briefgen build --out DIR")
    return folder


def check_writable(out_dir: Path, shown: str) -> None:
    """Fail before any work if the output folder cannot take a file."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".briefgen-probe.", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise error(shown, f"cannot write to the output folder: {exc.strerror or exc}",
                    hint="make it writable, or choose another with --out DIR; nothing was "
                         "built and the packs already there are untouched") from None


def remove_output(path: Path, recorded: dict | None) -> bool:
    """Delete a pack briefgen wrote, and only that: the manifest must list it with the hash of
    the file that is there, and a link is never followed or removed. True if deleted."""
    if recorded is None or path.is_symlink() or not path.is_file():
        return False
    if not recorded.get("sha256") or recorded["sha256"] != _sha256(path):
        return False
    path.unlink(missing_ok=True)
    return True


def read_manifest(out_dir: Path) -> dict[str, dict]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        return {f"{p['audience']}/{p['area']}": p for p in data.get("packs", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""


# Per-worker renderer: WeasyPrint's fonts and parsed CSS are reused across packs.
_RENDERER = None
# Set when a worker hit its memory limit: it finishes the current report, then exits.
_RECYCLE = False


def render_job(job: Job, project_root: Path) -> PackResult:
    """Render one pack to PDF and write it; runs in a worker process (or in-process)."""
    global _RENDERER, _RECYCLE  # noqa: PLW0603 - one cache per worker process, by design
    from briefgen.pdf import PackFailure, Renderer

    started = time.perf_counter()
    result = PackResult(job.area, job.audience, "failed", str(job.output),
                        input_hash=job.input_hash)
    html = job.html
    if not html and job.pack is not None:
        try:
            html = render_html(job.pack)
        except BriefgenError as exc:  # e.g. an image without alt text for large print
            result.message = "; ".join(d.format() for d in exc.diagnostics)
        except RecursionError:
            result.message = ("template failed: the content is nested too deeply "
                              "(flatten the raw HTML in the notes)")
        except MemoryError:
            _RECYCLE = True
            result.message = "template failed: out of memory"
        except Exception as exc:  # noqa: BLE001 - e.g. a broken audience template
            result.message = f"template failed: {template_error(exc, project_root)}"
        if result.message:
            result.seconds = time.perf_counter() - started
            return result
    try:
        if _RENDERER is None:
            _RENDERER = Renderer()
        embedded = [(a.name, a.data, a.description) for a in provenance.attachments(job.pack)] \
            if job.pack is not None and job.pack.audience.config.provenance else []
        data, pages, blocked = _RENDERER.pdf(
            html, project_root=project_root, stylesheets=job.stylesheets,
            identifier=bytes.fromhex(job.input_hash[:32]), variant=job.variant, tags=job.tags,
            embedded=embedded)
        try:
            atomic_write(job.output, data)
        except OSError as exc:
            raise PackFailure(f"cannot write {_shown(job.output, project_root)}: "
                              f"{exc.strerror or exc}; make the folder writable or choose "
                              "another with --out DIR") from None
        result.status, result.pages, result.blocked = "built", pages, blocked
        result.warnings = list(_RENDERER.warnings)
        result.sha256 = hashlib.sha256(data).hexdigest()
    except PackFailure as exc:
        result.message = str(exc)
    except RecursionError:
        result.message = ("layout failed: the document is nested too deeply "
                          "(flatten the raw HTML in the notes)")
    except MemoryError:
        _RECYCLE = True
        result.message = ("layout failed: out of memory (the worker's limit is set by "
                          "BRIEFGEN_MEMORY_LIMIT_MB); look for huge values in the audience CSS")
    except AssertionError:
        # WeasyPrint asserts when a page leaves no room for content (a zero or negative page
        # area from the @page size and margins).
        sheets = ", ".join(_shown(p, project_root) for p in job.stylesheets
                           if p.is_relative_to(project_root.resolve()))
        result.message = ("layout failed: the page has no room for content; check @page "
                          f"size and margins in {sheets or 'the audience stylesheet'}")
    except OverflowError as exc:
        result.message = (f"layout failed: a size is too large to lay out ({exc}); look for "
                          "huge values in the audience CSS")
    except Exception as exc:  # noqa: BLE001 - one failing pack must not stop the others
        result.message = f"rendering failed: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def _estimated_work(job: Job) -> int:
    """Roughly how long a pack takes to render: the characters of its notes, plus a caveats
    entry and a source line per claim (about 300 characters of layout each)."""
    if job.pack is None:
        return len(job.html)
    return sum(len(note.body) for note in job.pack.notes) + 300 * len(job.pack.claims)


def build(project: Project, out_dir: Path, *, areas: Iterable[str] | None = None,
          audiences: Iterable[str] | None = None, force: bool = False, jobs: int = 1,
          on_result: Callable[[PackResult], None] | None = None,
          timeout: float | None = DEFAULT_TIMEOUT,
          memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
          in_process: bool = False) -> list[PackResult]:
    """Build every selected (area, audience) pack; return one result per pack.

    Each pack renders in a worker process (at most `jobs` at once) that is stopped after
    `timeout` seconds and limited to `memory_limit_mb` of address space; `None` lifts a limit.
    `in_process=True` renders in this process without limits (for debugging and tests).
    """
    if timeout is not None and not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    area_map = {a.slug: a for a in project.areas}
    wanted_areas = list(areas) if areas else list(area_map)
    for slug in wanted_areas:
        if slug not in area_map:
            raise error("sources/", f"no area '{slug}'",
                        hint=f"areas: {', '.join(area_map) or 'none'}")
    wanted_audiences = list(audiences) if audiences else sorted(project.audiences)
    for name in wanted_audiences:
        if name not in project.audiences:
            raise error("styles/", f"no audience '{name}'",
                        hint=f"audiences: {', '.join(sorted(project.audiences)) or 'none'}")
    out_dir = out_dir.resolve()
    shown = _shown(out_dir, project.root)
    check_writable(out_dir, shown)
    for name in wanted_audiences:
        sub = out_dir / name
        if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
            raise error(f"{shown}/{name}", "is a link or a file, not a folder briefgen made",
                        hint="remove it; briefgen writes each audience's packs into a folder "
                             "of its own")
    manifest = read_manifest(out_dir)
    results: list[PackResult] = []
    pending: list[Job] = []

    def report(result: PackResult) -> None:
        results.append(result)
        if on_result:
            on_result(result)

    for audience_name in wanted_audiences:
        audience = project.audiences[audience_name]
        escaped = escaping_files(project.root, audience.directory)
        for slug in wanted_areas:
            area = area_map[slug]
            output = out_dir / audience_name / f"{slug}.pdf"
            pack = assemble(project, area, audience)
            if pack is None:
                # A pack built before the area was restricted must not linger.
                remove_output(output, manifest.get(f"{audience_name}/{slug}"))
                report(PackResult(slug, audience_name, "withheld", message=(
                    f"area marked TLP:{area.meta.handling}, above this audience's clearance "
                    f"TLP:{audience.config.clearance}")))
                continue
            if escaped:
                report(PackResult(slug, audience_name, "failed", str(output), message=(
                    f"{escaped[0]} points outside the project (symlink?); audience styles and "
                    "templates must live inside the project")))
                continue
            remove_partial_writes(output)  # left by a build that was killed mid-write
            digest = input_hash(project, area, audience)
            previous = manifest.get(f"{audience_name}/{slug}")
            if (not force and previous and previous.get("input_hash") == digest
                    and previous.get("sha256") == _sha256(output)):
                report(PackResult(slug, audience_name, "unchanged", str(output),
                                  previous.get("pages", 0), sha256=previous["sha256"],
                                  input_hash=digest, withheld=pack.withheld))
                continue
            cfg = audience.config
            pending.append(Job(slug, audience_name, output, digest, "",
                               stylesheets_for(audience), cfg.pdf_variant, cfg.pdf_tags,
                               pack.withheld, pack=confined(pack)))

    if in_process:
        for job in pending:
            result = render_job(job, project.root)
            result.withheld = job.withheld
            report(result)
    elif pending:
        def finish(job: Job, result: PackResult) -> None:
            result.withheld = job.withheld
            report(result)

        # Longest first: the biggest pack starts at once instead of being left for last while
        # the other workers idle. Results are reported in the usual order below.
        _WorkerPool(project.root, min(jobs, len(pending)), timeout, memory_limit_mb).run(
            sorted(pending, key=_estimated_work, reverse=True), finish)

    try:
        _write_manifest(out_dir, manifest, results)
    except OSError as exc:
        raise error(f"{shown}/{MANIFEST}", f"cannot write the manifest: {exc.strerror or exc}",
                    hint="make the output folder writable and build again") from None
    order = {(a, s): i for i, (a, s) in enumerate(
        (a, s) for a in wanted_audiences for s in wanted_areas)}
    results.sort(key=lambda r: order[(r.audience, r.area)])
    return results


# --- Worker processes ---------------------------------------------------------------------


def _apply_limits(memory_limit_mb: int | None) -> None:
    """Bound this worker's address space, and never write a core file if it is exceeded."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not a POSIX system
        return
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_limit_mb:
        limits.append((resource.RLIMIT_AS, memory_limit_mb * 1024 * 1024))
    for which, wanted in limits:
        with contextlib.suppress(ValueError, OSError):
            _soft, hard = resource.getrlimit(which)
            soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(which, (soft, hard))


def _limit_cpu(timeout: float | None) -> None:
    """A backstop for the parent's deadline: if the parent is gone, the kernel stops us."""
    if timeout is None:
        return
    try:
        import resource
    except ImportError:  # pragma: no cover
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    budget = int(used.ru_utime + used.ru_stime + timeout) + 30
    with contextlib.suppress(ValueError, OSError):
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            budget = min(budget, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))


def _worker_main(conn: Connection, project_root: Path, memory_limit_mb: int | None,
                 timeout: float | None) -> None:
    """A worker: render the jobs the parent sends, one at a time, until told to stop."""
    global _RENDERER  # noqa: PLW0603
    _apply_limits(memory_limit_mb)
    with contextlib.suppress(Exception):  # a failure here is reported with the first job
        from briefgen.pdf import Renderer

        _RENDERER = Renderer()
    gc.set_threshold(*WORKER_GC_THRESHOLD)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        _limit_cpu(timeout)
        conn.send(("start",))
        result = render_job(job, project_root)
        conn.send(("done", result))
        if _RECYCLE:
            return
        gc.collect()  # the pack's cyclic garbage, before the next pack grows the heap


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: Job | None = None
    deadline: float | None = None
    served: int = 0
    started: bool = False       # the current job reached render_job


class _WorkerPool:
    """Up to `size` worker processes; each pack has a deadline, and a stuck worker is killed."""

    def __init__(self, project_root: Path, size: int, timeout: float | None,
                 memory_limit_mb: int | None) -> None:
        self.project_root = project_root
        self.size = max(1, size)
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.context = get_context("spawn")
        self.workers: list[_Worker] = []

    def run(self, jobs: list[Job], finish: Callable[[Job, PackResult], None]) -> None:
        queue = deque(jobs)
        try:
            while queue or any(w.job for w in self.workers):
                for worker in [w for w in self.workers if w.job is None]:
                    if queue:
                        self._assign(worker, queue.popleft(), finish)
                while queue and len(self.workers) < self.size:
                    self._assign(self._start(), queue.popleft(), finish)
                busy = [w for w in self.workers if w.job is not None]
                if not busy:
                    continue
                deadlines = [w.deadline for w in busy if w.deadline is not None]
                wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                 wait_for))
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        self._receive(worker, finish)
                    elif worker.deadline is not None and time.monotonic() >= worker.deadline:
                        self._time_out(worker, finish)
        finally:
            for worker in list(self.workers):
                self._stop(worker, kill=worker.job is not None)

    def _start(self) -> _Worker:
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(
            target=_worker_main, name="briefgen-worker", daemon=True,
            args=(child_end, self.project_root, self.memory_limit_mb, self.timeout))
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        self.workers.append(worker)
        return worker

    def _assign(self, worker: _Worker, job: Job,
                finish: Callable[[Job, PackResult], None]) -> None:
        worker.job = job
        if self.timeout is not None:
            worker.deadline = time.monotonic() + max(self.timeout, STARTUP_GRACE)
        try:
            worker.conn.send(job)
        except Exception as exc:  # noqa: BLE001 - unpicklable pack or a dead worker
            self._stop(worker, kill=True)
            finish(job, self._failed(job, f"could not hand the pack to a worker process: "
                                          f"{type(exc).__name__}: {exc}"))

    def _receive(self, worker: _Worker, finish: Callable[[Job, PackResult], None]) -> None:
        job = worker.job
        assert job is not None
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                if message[0] == "start":  # the pack's own clock starts now
                    worker.started = True
                    if self.timeout is not None:
                        worker.deadline = time.monotonic() + self.timeout
                    continue
                result: PackResult = message[1]
                worker.job, worker.deadline, worker.started = None, None, False
                worker.served += 1
                finish(job, result)
                if worker.served >= RECYCLE_AFTER or "out of memory" in result.message:
                    self._stop(worker, kill=False)
                return
        except (EOFError, OSError):
            self._died(worker, finish)
            return
        if not worker.process.is_alive():
            self._died(worker, finish)

    def _died(self, worker: _Worker, finish: Callable[[Job, PackResult], None]) -> None:
        job = worker.job
        assert job is not None
        worker.process.join(5)
        code = worker.process.exitcode
        self._stop(worker, kill=True)
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit code {code}"
        if not worker.started:
            finish(job, self._failed(job, f"the worker process could not start ({how}); run "
                                          "with --jobs 1 and look at the messages above"))
            return
        hint = ""
        if self.memory_limit_mb and code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS,
                                             -signal.SIGKILL):
            hint = (f"; it most likely ran out of memory (limit {self.memory_limit_mb} MB per "
                    "worker, set by BRIEFGEN_MEMORY_LIMIT_MB): look for huge CSS values")
        finish(job, self._failed(
            job, f"the worker process rendering this pack died ({how}){hint}"))

    def _time_out(self, worker: _Worker, finish: Callable[[Job, PackResult], None]) -> None:
        job = worker.job
        assert job is not None
        self._stop(worker, kill=True)
        finish(job, self._failed(job, (
            f"timed out after {self.timeout:g} s and was stopped (the limit is set with "
            "--timeout); look for huge CSS values, very long tables or deeply nested HTML")))

    def _stop(self, worker: _Worker, kill: bool) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        with contextlib.suppress(OSError, ValueError):
            if kill:
                worker.process.kill()
            else:
                worker.conn.send(None)
        worker.process.join(10)
        if worker.process.is_alive():  # pragma: no cover - ignored the polite request
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
        if worker.job is not None and kill:
            remove_partial_writes(worker.job.output)

    @staticmethod
    def _failed(job: Job, message: str) -> PackResult:
        return PackResult(job.area, job.audience, "failed", str(job.output),
                          input_hash=job.input_hash, message=message)


def _shown(path: Path, project_root: Path) -> str:
    """A path as messages show it: project-relative inside the project, else absolute."""
    try:
        return path.relative_to(project_root.resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def _write_manifest(out_dir: Path, previous: dict[str, dict], results: list[PackResult]) -> None:
    entries = dict(previous)
    for r in results:
        key = f"{r.audience}/{r.area}"
        if r.status in ("built", "unchanged"):
            entries[key] = {"audience": r.audience, "area": r.area,
                            "pdf": f"{r.audience}/{r.area}.pdf", "pages": r.pages,
                            "input_hash": r.input_hash, "sha256": r.sha256}
        elif r.status == "withheld":
            entries.pop(key, None)
    packs = [entries[k] for k in sorted(entries)]
    atomic_write(out_dir / MANIFEST, (json.dumps(
        {"generator": f"briefgen {__version__}", "packs": packs}, indent=2) + "\n").encode())


def result_dict(result: PackResult) -> dict:
    data = asdict(result)
    data["withheld"] = [asdict(w) for w in result.withheld]
    return data
