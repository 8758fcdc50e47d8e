"""`briefgen serve --pdf`: the incremental PDF build, in a thread, after every change."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from briefgen.errors import BriefgenError

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.build import PackResult
    from briefgen.model import Project
    from briefgen.serve import Console
    from briefgen.serve.pages import Preview


class Builder:
    """Runs build.build after each change, one build at a time, always on the latest project."""

    def __init__(self, preview: Preview, console: Console) -> None:
        self.preview = preview
        self.console = console
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="briefgen-pdf", daemon=True)
        self._built_generation = -1

    def start(self) -> None:
        self.thread.start()

    def kick(self) -> None:
        self.wanted.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wanted.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            if self.stopping.is_set():
                return
            state = self.preview.state
            if state.generation == self._built_generation:
                continue
            self._built_generation = state.generation
            if state.errors or state.project is None:
                self.console.problem("pdf       not built: the project has errors")
                continue
            self._build(state.project)

    def _build(self, project: Project) -> None:
        from briefgen.build import BuildOptions, PackStatus, build, output_folder

        audiences = self.preview.audiences()  # the previewed one only, as --help says
        started = time.perf_counter()
        try:
            out = output_folder(project.root, None)
            results = build(project, out, BuildOptions(audiences=audiences, jobs=1),
                            on_result=self._show)
        except BriefgenError as exc:
            for diagnostic in exc.diagnostics:
                self.console.problem(diagnostic.format())
            return
        except Exception as exc:  # noqa: BLE001 - keep serving whatever the build does
            self.console.problem(f"pdf       build failed: {type(exc).__name__}: {exc}")
            return
        counts = {s: sum(r.status is s for r in results) for s in PackStatus}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to build"
        line = f"pdf       {summary} -> {out} ({time.perf_counter() - started:.1f} s)"
        (self.console.problem if counts[PackStatus.FAILED] else self.console.say)(line)

    def _show(self, result: PackResult) -> None:
        name = f"{result.audience}/{result.area}.pdf"
        if result.status == "failed":
            self.console.problem(f"pdf       FAILED {name}: {result.message}")
        elif result.status == "built":
            self.console.say(f"pdf       built {name} ({result.pages} pages, "
                             f"{result.seconds:.1f} s)")

