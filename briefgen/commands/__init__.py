"""The command line: one module per command (`add` wires its options, `run` carries it
out), the argparse wiring and the top-level error handling here, as MkDocs' `commands/`.

Every command turns a `BriefgenError` into `file:line: error: message` lines (at the
clearance its reader asked for) and an exit code: 0 ok, 1 problems, 2 a wrong command line,
141 when the reader of its output went away, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from briefgen import __version__
from briefgen.commands import (
    build,
    check,
    claims,
    diff,
    distribute,
    import_refs,
    init,
    new,
    schema,
    serve,
)
from briefgen.commands.common import (
    EXIT_CLOSED_PIPE,
    EXIT_PROBLEMS,
    _ClosedPipeSafe,
    print_diagnostics,
)
from briefgen.errors import BriefgenError

COMMANDS = (build, check, claims, diff, init, new, serve, distribute, schema, import_refs)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="briefgen", description="Build graded PDF briefing packs from Markdown notes.")
    top.add_argument("--version", action="version", version=f"briefgen {__version__}")
    # shtab writes the script; it is imported only when asked (a fast --version and --help).
    top.add_argument("--print-completion", choices=("bash", "zsh", "tcsh"), metavar="SHELL",
                     action=_PrintCompletion,
                     help="print a shell completion script (bash, zsh, tcsh) and exit")
    _common_options(top, default=None)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        # The shared options a command uses, after its name too (briefgen build -q),
        # without clobbering the value given before it (briefgen -q build); a command
        # offers only those that mean something to it (COMMON, default: -q).
        common = argparse.ArgumentParser(add_help=False)
        _common_options(common, default=argparse.SUPPRESS,
                        wanted=getattr(command, "COMMON", ("quiet",)))
        command.add(sub, common)
    for name, command_parser in sub.choices.items():
        if name in EXAMPLES and not command_parser.epilog:
            command_parser.formatter_class = argparse.RawDescriptionHelpFormatter
            command_parser.epilog = "examples:\n" + "\n".join(
                f"  {line}" for line in EXAMPLES[name])
    return top


# Each command's --help ends with these (tests/test_cli.py parses every one).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "build": ("briefgen build                          # every area x audience; unchanged skipped",
              "briefgen build --area cyber --audience study-group --out /tmp/packs --force",
              "briefgen build --to pdf,html,epub --book",
              "briefgen build --shard 1/3              # one of three CI machines"),
    "check": ("briefgen check", "briefgen check --strict --format json",
              "briefgen check --clearance RED         # quote RED text in messages"),
    "claims": ("briefgen claims", "briefgen claims --area cyber --format csv > cyber.csv",
               "briefgen claims --audience analyst --format claimreview"),
    "diff": ("briefgen diff                           # against the last commit",
             "briefgen diff --rev v2.0 --format json"),
    "init": ("briefgen init my-briefing",
             "briefgen init my-briefing --audience analyst --audience large-print"),
    "serve": ("briefgen serve", "briefgen serve --audience analyst --pdf --port 0"),
    "bundle": ("briefgen bundle --audience study-group --build",
               "briefgen bundle --audience study-group --recipients recipients.csv",
               "briefgen bundle --audience analyst --from shard-1 --from shard-2"),
    "verify": ("briefgen verify output/bundles/study-group-1.2.zip",
               "briefgen verify output/ --trust issuer.pem"),
    "clean": ("briefgen clean", "briefgen clean --out /tmp/packs"),
    "schema": ("briefgen schema                         # into schemas/",
               "briefgen schema --out .schemas"),
    "import-refs": ("briefgen import-refs ~/zotero.json",
                    "briefgen import-refs library.bib"),
}


class _PrintCompletion(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        import shtab

        print(shtab.complete(parser, shell=str(values)))
        parser.exit(0)


def _common_options(parser: argparse.ArgumentParser, default: object,
                    wanted: tuple[str, ...] = ("quiet", "verbose")) -> None:
    parser.add_argument("-C", "--project", type=Path, default=default, metavar="DIR",
                        help="project folder (default: the nearest folder with briefgen.yaml)")
    if "quiet" in wanted:
        parser.add_argument("-q", "--quiet", action="store_true", default=default or False,
                            help="print only problems")
    if "verbose" in wanted:
        parser.add_argument("-v", "--verbose", action="store_true", default=default or False,
                            help="also list unchanged and withheld packs")


def main(argv: list[str] | None = None) -> int:
    streams = sys.stdout, sys.stderr
    sys.stdout = _ClosedPipeSafe(sys.stdout)
    sys.stderr = _ClosedPipeSafe(sys.stderr)
    try:
        code = _main(argv)
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = streams
    return EXIT_CLOSED_PIPE if _ClosedPipeSafe.closed_pipe else code


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BriefgenError as exc:
        print_diagnostics(exc.diagnostics, getattr(args, "message_clearance", "CLEAR"))
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print("briefgen: interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "parser"]
