"""`briefgen serve`: a live HTML preview of one audience's packs, reloaded as authors write.

One process, standard library only: the watcher (`watch`) looks at the project's files every
POLL_SECONDS and reloads it when bytes really changed; the pages (`pages`) render each pack
with the same `render_html` as the PDF and add the preview layer; a loopback HTTP server
(`http`) serves them, and the open page long-polls for the next generation and reloads
itself. With --pdf the incremental PDF build runs in a thread after every change (`pdfs`).
The HTML given to WeasyPrint never contains any of the preview layer.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from briefgen.serve.http import make_server
from briefgen.serve.pages import Preview
from briefgen.serve.pdfs import Builder
from briefgen.suggest import did_you_mean

POLL_SECONDS = 0.4
DEFAULT_PORT = 8000


def run(args: argparse.Namespace, root: Path) -> int:
    """Serve until Ctrl-C; 0 on a clean stop, 1 if the server cannot start, 2 on bad options."""
    console = Console(bool(getattr(args, "quiet", False)))
    try:
        return _serve(args, root, console)
    except KeyboardInterrupt:   # Ctrl-C before the server was up
        return 0


def _serve(args: argparse.Namespace, root: Path, console: Console) -> int:
    if not 0 <= args.port <= 65535:
        console.problem(f"briefgen: error: --port must be 0..65535, not {args.port}")
        return 2
    preview = Preview(root, audience=args.audience)
    changed = preview.refresh()
    console.report_load(preview, changed, first=True)
    project = preview.state.project
    if args.audience and project is not None and args.audience not in project.audiences:
        known = ", ".join(sorted(project.audiences)) or "none"
        suggestion = did_you_mean(args.audience, project.audiences)
        console.problem(f"briefgen: error: no audience '{args.audience}' (audiences: {known})"
                        + (f"; {suggestion}" if suggestion else ""))
        return 2
    if not _is_loopback(args.host):
        console.problem(f"briefgen serve: warning: listening on {args.host}, which is not a "
                        "loopback address: anyone who can reach this machine can read every "
                        "pack this audience may see")
    try:
        server = make_server(args.host, args.port, preview)
    except OSError as exc:
        console.problem(f"briefgen: error: cannot listen on {args.host}:{args.port}: "
                        f"{exc.strerror or exc}")
        return 1
    builder = Builder(preview, console) if args.pdf else None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.25},
                              name="briefgen-http", daemon=True)
    # Ctrl-C and SIGTERM stop the server cleanly, even if SIGINT was ignored by whoever
    # started us in the background.
    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
                    signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupt)}
    try:
        thread.start()
        host, port = server.server_address[:2]
        url = f"http://{_url_host(str(host))}:{port}/"
        console.always(f"briefgen serve: previewing {root} at {url}  (Ctrl-C to stop)")
        if builder is not None:
            builder.start()
            builder.kick()
        while True:
            time.sleep(POLL_SECONDS)
            changed = preview.refresh()
            if changed:
                console.report_load(preview, changed)
                if builder is not None:
                    builder.kick()
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            if thread.is_alive():
                server.shutdown()
            server.server_close()
            if builder is not None:
                builder.stop()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
    console.say("briefgen serve: stopped")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class Console:
    """The terminal: progress on stdout (silenced by -q), problems on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.lock = threading.Lock()

    def _print(self, text: str, stream: TextIO) -> None:
        with self.lock:
            print(text, file=stream, flush=True)

    def always(self, text: str) -> None:
        self._print(text, sys.stdout)

    def say(self, text: str) -> None:
        if not self.quiet:
            self._print(text, sys.stdout)

    def problem(self, text: str) -> None:
        self._print(text, sys.stderr)

    def report_load(self, preview: Preview, changed: list[str], first: bool = False) -> None:
        state = preview.state
        if not first and changed:
            shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more"
                                              if len(changed) > 3 else "")
            self.say(f"changed   {shown}")
        if state.errors:
            for diagnostic in state.errors:
                self.problem(diagnostic.format())
            self.problem(f"{len(state.errors)} error(s): the preview shows them until fixed")
            return
        for warning in state.warnings:
            self.say(warning.format())
        project = state.project
        if project is not None:
            self.say(f"{'loaded' if first else 'reloaded':<9} {len(project.areas)} area(s), "
                     f"{len(project.audiences)} audience(s), {len(project.claims)} claim(s) "
                     f"(generation {state.generation})")


# -- the project, watched ------------------------------------------------------------------
