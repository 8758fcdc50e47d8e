"""What every command shares: exit codes, the standard streams' closed-pipe rule, options
used by several commands, and how diagnostics are printed. Only `briefgen.commands` and its
modules talk to the terminal."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from typing import TextIO

from briefgen.errors import Diagnostic

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_CLOSED_PIPE = 128 + 13  # as if SIGPIPE had ended the process: the shell convention


class _ClosedPipeSafe(io.TextIOBase):
    """A standard stream that, once its reader has gone (`briefgen build | head -1`), drops
    what is written instead of raising BrokenPipeError from wherever a line is printed: the
    command finishes its work quietly (a build still writes its packs and manifest) and exits
    with EXIT_CLOSED_PIPE."""

    closed_pipe = False

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if not _ClosedPipeSafe.closed_pipe:
            try:
                self.stream.write(text)
                if "\n" in text:
                    self.stream.flush()
            except BrokenPipeError:
                self._closed()
        return len(text)

    def flush(self) -> None:
        if not _ClosedPipeSafe.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._closed()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def _closed(self) -> None:
        _ClosedPipeSafe.closed_pipe = True
        # Python flushes the standard streams at exit: point them at nothing first.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())


def usage(message: str) -> int:
    print(f"briefgen: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def print_diagnostics(diagnostics: list[Diagnostic], clearance: str = "CLEAR") -> None:
    for diagnostic in diagnostics:
        print(diagnostic.format(clearance), file=sys.stderr)
    errors = sum(d.more or 1 for d in diagnostics if d.severity == "error")
    warnings = sum(d.more or 1 for d in diagnostics) - errors
    if diagnostics:
        print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)


def messages_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clearance", dest="message_clearance", metavar="LEVEL",
                        default="CLEAR", type=tlp,
                        help="quote text up to this TLP level in messages (default: CLEAR: "
                             "a message about text marked above it names the file and line "
                             "and says '(withheld: TLP:...)', so logs can be shared)")


def tlp(value: str) -> str:
    """A TLP level as FIRST writes it or bare (`TLP:RED`, `red`). No schema import: argparse
    runs this on the default too, and the no-op build must not load pydantic."""
    from briefgen.errors import TLP_ORDER, tlp_spelling

    level = tlp_spelling(value)
    if level is None or level not in TLP_ORDER:
        raise argparse.ArgumentTypeError(f"not a TLP level: {value!r} (CLEAR, GREEN, AMBER, "
                                         "AMBER+STRICT, RED)")
    return str(level)


def clearance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audience", metavar="NAME", default=None,
                        help="list what this audience may see (default: the project's "
                             "default audience)")
    parser.add_argument("--clearance", metavar="LEVEL", default=None,
                        help="list what a reader cleared for this TLP level may see "
                             "(CLEAR, GREEN, AMBER, AMBER+STRICT, RED; default: the "
                             "audience's clearance)")
