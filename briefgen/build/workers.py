"""Worker processes: each pack renders under a time limit and an address-space limit.

A pack that runs too long is stopped, a pack that runs out of memory or crashes its worker is
reported failed, and the other packs build on in fresh workers. Each worker keeps one
`Renderer` (WeasyPrint's fonts and parsed CSS) for the packs it renders.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import re
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from briefgen import paths
from briefgen.build.output import atomic_write, remove_partial_writes
from briefgen.build.results import Job, PackResult, PackStatus, Written
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.fingerprint import versions

DEFAULT_TIMEOUT = 300.0  # seconds per pack (briefgen build --timeout)
STARTUP_GRACE = 60.0     # a new worker may take this long to import WeasyPrint


# A worker is replaced when its resident memory after a pack is over this share of its
# address-space limit (or over RECYCLE_UNLIMITED_MB without a limit), not after a count of
# packs: workers stay warm (WeasyPrint imported, CSS parsed) for as long as they are lean.
RECYCLE_SHARE = 0.5
RECYCLE_UNLIMITED_MB = 1024


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
class WorkerState:
    """What one worker process keeps between packs."""

    renderer: Any = None       # briefgen.pdf.Renderer, made on first use
    recycle: bool = False      # out of memory: report, then let a fresh worker take over


def render_job(job: Job, project_root: Path, state: WorkerState | None = None) -> PackResult:
    """Render one pack to PDF and write it; runs in a worker process (or in-process)."""
    from briefgen.pdf import PackFailure
    from briefgen.render import locate_template_error, render_html

    state = state or WorkerState()
    started = time.perf_counter()
    result = PackResult(job.area, job.audience, PackStatus.FAILED, str(job.output),
                        input_hash=job.input_hash)
    try:
        if job.parts:
            from briefgen.book import Book, render_book_html

            html = render_book_html(Book(job.pack, job.parts))
        else:
            html = render_html(job.pack)
    except BriefgenError as exc:  # e.g. an image without alt text for large print
        result.diagnostics += exc.diagnostics
    except RecursionError:
        result.fail("template failed: the content is nested too deeply",
                    hint="flatten the raw HTML in the notes")
    except MemoryError:
        state.recycle = True
        result.fail("template failed: out of memory")
    except Exception as exc:  # noqa: BLE001 - e.g. a broken audience template
        file, line, message = locate_template_error(exc, project_root)
        result.fail(f"template failed: {message}", file or "", line, quotes=True)
    if result.problems:
        result.seconds = time.perf_counter() - started
        return result
    try:
        from briefgen import provenance
        from briefgen.formats import Context, builder

        embedded = [(a.name, a.data, a.description) for a in provenance.attachments(job.pack)] \
            if job.pack.audience.config.provenance else []
        context = Context(project_root, job.stylesheets, embedded,
                          seen_identifier(job, html, embedded), job.variant, job.tags, state)
        # Every edition is made before any is written: a pack fails whole or not at all.
        editions = [(fmt, builder(fmt)(job.pack, html, context)) for fmt in job.formats]
        for fmt, edition in editions:
            path = job.path(fmt)
            try:
                atomic_write(path, edition.data)
            except OSError as exc:
                raise PackFailure(f"cannot write {paths.shown(path, project_root)}: "
                                  f"{exc.strerror or exc}; make the folder writable or choose "
                                  "another with --out DIR") from None
            result.files.append(Written(fmt, f"{job.audience}/{path.name}",
                                        hashlib.sha256(edition.data).hexdigest(),
                                        edition.pages))
            result.blocked += [b for b in edition.blocked if b not in result.blocked]
            result.diagnostics += [_css_warning(w) for w in edition.warnings
                                   if _css_warning(w) not in result.diagnostics]
        result.status = PackStatus.BUILT
        result.pages, result.sha256 = result.files[0].pages, result.files[0].sha256
    except PackFailure as exc:
        result.fail(str(exc), quotes=True)
    except RecursionError:
        result.fail("layout failed: the document is nested too deeply",
                    hint="flatten the raw HTML in the notes")
    except MemoryError:
        state.recycle = True
        result.fail("layout failed: out of memory (the worker's limit is set by "
                    "BRIEFGEN_MEMORY_LIMIT_MB)", hint="look for huge values in the audience CSS")
    except AssertionError:
        # WeasyPrint asserts when a page leaves no room for content (a zero or negative page
        # area from the @page size and margins).
        sheets = [paths.shown(p, project_root) for p in job.stylesheets
                  if paths.inside(p, project_root)]
        result.fail("layout failed: the page has no room for content", sheets[-1] if sheets
                    else "", hint="check @page size and margins in the audience stylesheet")
    except OverflowError as exc:
        result.fail(f"layout failed: a size is too large to lay out ({exc})",
                    hint="look for huge values in the audience CSS", quotes=True)
    except Exception as exc:  # noqa: BLE001 - one failing pack must not stop the others
        result.fail(f"rendering failed: {type(exc).__name__}: {exc}", quotes=True)
    result.seconds = time.perf_counter() - started
    return result


def seen_identifier(job: Job, html: str, embedded: list[tuple[str, bytes, str]]) -> bytes:
    """The PDF's /ID, from what its reader sees and nothing else: the versions that shape
    the PDF, the HTML rendered from the confined pack, the stylesheets, the images it shows
    and the files it embeds. Editing a note the audience may not see leaves it unchanged, so
    two editions of a pack cannot reveal that withheld content changed."""
    digest = hashlib.sha256(versions().encode() + b"\0" + html.encode())
    pack = job.pack
    shown = [found.path for images in (pack.area.scope_images, *(n.images for n in pack.notes))
             for _, found in images if found.path is not None]
    for path in [*job.stylesheets, *sorted(set(shown))]:
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"-")
    for name, data, description in embedded:
        digest.update(f"{name}\0{description}\0".encode() + hashlib.sha256(data).digest())
    return digest.digest()[:16]


_AT = re.compile(r"^(?P<file>[^:]+): (?P<message>.*?\bat (?P<line>\d+):(?P<column>\d+)\b.*)$")


def _css_warning(text: str) -> Diagnostic:
    """`file: Ignored ... at 3:5, unknown property.` as a located warning."""
    match = _AT.match(text)
    if match is None:
        file, _, message = text.partition(": ")
        return Diagnostic(Location(file), message, severity="warning", code="css")
    return Diagnostic(Location(match["file"], int(match["line"]), int(match["column"])),
                      match["message"], severity="warning", code="css")


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


def _resident_mb() -> float:
    """This process's resident memory now, in MB (Linux; elsewhere its peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_main(conn: Connection, project_root: Path, memory_limit_mb: int | None,
                 timeout: float | None) -> None:
    """A worker: render the jobs the parent sends, one at a time, until told to stop."""
    _apply_limits(memory_limit_mb)
    state = WorkerState()
    with contextlib.suppress(Exception):  # a failure here is reported with the first job
        from briefgen.pdf import Renderer

        state.renderer = Renderer()
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
        result = render_job(job, project_root, state)
        conn.send(("done", result, _resident_mb()))
        if state.recycle:
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


class WorkerPool:
    """Up to `size` worker processes; each pack has a deadline, and a stuck worker is killed."""

    def __init__(self, project_root: Path, size: int, timeout: float | None,
                 memory_limit_mb: int | None) -> None:
        self.project_root = project_root
        self.size = max(1, size)
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.context = get_context("spawn")
        self.recycle_mb = (memory_limit_mb * RECYCLE_SHARE if memory_limit_mb
                           else RECYCLE_UNLIMITED_MB)
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
                resident: float = message[2]
                worker.job, worker.deadline, worker.started = None, None, False
                worker.served += 1
                finish(job, result)
                if resident > self.recycle_mb or "out of memory" in result.message:
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
            for fmt in worker.job.formats:
                remove_partial_writes(worker.job.path(fmt))

    @staticmethod
    def _failed(job: Job, message: str) -> PackResult:
        return PackResult(job.area, job.audience, PackStatus.FAILED, str(job.output),
                          input_hash=job.input_hash).fail(message)
