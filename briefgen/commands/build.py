"""`briefgen build`: every selected pack, skipped when unchanged, one line per pack."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen.commands.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    messages_option,
    usage,
)
from briefgen.errors import Diagnostic

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.build import PackResult
    from briefgen.model import Project


COMMON = ("quiet", "verbose")  # the shared options it offers (commands/__init__.py)

def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    b = sub.add_parser("build", help="build PDF packs into output/", parents=[common])
    b.add_argument("--area", action="append", metavar="AREA",
                   help="build only this area (repeatable)")
    b.add_argument("--audience", action="append", metavar="NAME",
                   help="build only this audience (repeatable; default: every audience)")
    b.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: PROJECT/output)")
    b.add_argument("--force", action="store_true", help="rebuild packs even if unchanged")
    b.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: number of cores)")
    b.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop a pack that takes longer and report it failed; the others "
                        "still build (default: 300; 0: no limit)")
    b.add_argument("--book", action="store_true",
                   help="also build each audience's book: every area in one volume, "
                        "output/<audience>/book.<format> (or book: true in briefgen.yaml)")
    b.add_argument("--to", action="append", metavar="FORMATS", type=_formats,
                   help="the editions to build: pdf, html, epub, as a comma list or repeated "
                        "(default: `formats:` of each audience, else of briefgen.yaml, else pdf)")
    b.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                   help="build only the K-th of N deterministic shares of the packs, e.g. "
                        "one job of a CI matrix; put the shards together with "
                        "briefgen bundle --from DIR --from DIR ...")
    messages_option(b)
    b.set_defaults(run=run)


def _shard(value: str) -> tuple[int, int]:
    number, _, count = value.partition("/")
    try:
        k, n = int(number), int(count)
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"not a shard: {value!r} (K/N with 1 <= K <= N, "
                                         "e.g. 2/3)")
    return k, n


def _formats(value: str) -> list[str]:
    from briefgen.formats import FORMATS

    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    wrong = [n for n in names if n not in FORMATS]
    if wrong or not names:
        raise argparse.ArgumentTypeError(f"not a format: {', '.join(wrong) or repr(value)} "
                                         f"(formats: {', '.join(FORMATS)})")
    return names


def chosen_formats(args: argparse.Namespace) -> list[str]:
    return list(dict.fromkeys(f for group in args.to or [] for f in group))


def run(args: argparse.Namespace) -> int:
    from briefgen.paths import find_root

    root = find_root(args.project or Path.cwd())
    if args.jobs < 1:
        return usage("--jobs must be 1 or more")
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout >= 0):
        return usage("--timeout must be a finite number of seconds (0: no limit)")
    fingerprint = _fingerprint(root, args)  # before loading: what this build reads
    if (not args.force and not args.book and args.message_clearance == "CLEAR"
            and args.shard is None and _unchanged(args, root)):
        return EXIT_OK
    from briefgen.loading import load_project

    return build_project(args, load_project(root), fingerprint)


def _fingerprint(root: Path, args: argparse.Namespace) -> str:
    from briefgen.fingerprint import last_build, project_fingerprint
    from briefgen.paths import output_folder

    record = last_build(output_folder(root, args.out)) or {}
    extra = record.get("extra_files", [])
    return project_fingerprint(root, extra if isinstance(extra, list) else [])


def _unchanged(args: argparse.Namespace, root: Path) -> bool:
    """A no-op build without loading the project (briefgen.fingerprint), reported as the full
    build would report it; False when anything may have changed."""
    from briefgen.fingerprint import unchanged_since_last_build
    from briefgen.paths import output_folder

    out = output_folder(root, args.out)
    record = unchanged_since_last_build(root, out, args.area or [], args.audience or [],
                                        chosen_formats(args))
    if record is None:
        return False
    if not args.quiet:
        for warning in record["warnings"]:
            print(warning, file=sys.stderr)
        from briefgen.errors import Diagnostic

        shown: set[str] = set()
        for data in record["render_warnings"]:     # the stylesheets' warnings, once each
            text = Diagnostic.from_dict(data).format()
            if text not in shown:
                shown.add(text)
                print(text, file=sys.stderr)
        for pack in record["packs"] if args.verbose else ():
            print(f"{pack['status'] if pack['status'] == 'withheld' else 'unchanged':<9} "
                  f"{_names(pack['audience'], pack['area'], pack['files'])}")
            for item in pack["withheld"]:
                print(withheld_line(item["what"], item["name"], item["handling"],
                                    pack["audience"]))
        counts = {"unchanged": sum(p["status"] != "withheld" for p in record["packs"]),
                  "withheld": sum(p["status"] == "withheld" for p in record["packs"])}
        print(summary_line(counts, out))
    return True


def summary_line(counts: dict[str, int], out: Path) -> str:
    """The last line of a build: how many packs were built, unchanged, ... and where."""
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n) + f" -> {out}"


def withheld_line(what: str, name: str, handling: str, audience: str) -> str:
    return f"          withheld {what} {name} (TLP:{handling}) from {audience}"


def build_project(args: argparse.Namespace, project: Project, fingerprint: str | None) -> int:
    from briefgen.build import DEFAULT_TIMEOUT, BuildOptions, build

    timeout = DEFAULT_TIMEOUT if args.timeout is None else (args.timeout or None)
    if not args.quiet:
        for warning in project.warnings:
            print(warning.format(args.message_clearance), file=sys.stderr)
    from briefgen.paths import output_folder

    out = output_folder(project.root, args.out)
    areas = args.area or [a.slug for a in project.areas]
    audiences = args.audience or sorted(project.audiences)
    total = len(areas) * len(audiences)
    if args.shard is not None:
        from briefgen.build import shard_of

        share = shard_of(project, BuildOptions(shard=args.shard, book=args.book)) or set()
        total = sum(area in areas and audience in audiences for audience, area in share)
    with BuildReporter(total, quiet=args.quiet,
                       verbose=args.verbose, clearance=args.message_clearance) as reporter:
        results = build(project, out, BuildOptions(
            areas=args.area or (), audiences=args.audience or (), force=args.force,
            jobs=args.jobs, timeout=timeout, fingerprint=fingerprint,
            formats=chosen_formats(args), book=args.book, shard=args.shard),
            on_result=reporter.result)
    failed = [r for r in results if r.status == "failed"]
    if not args.quiet or failed:
        counts = {s: sum(r.status == s for r in results)
                  for s in ("built", "unchanged", "withheld", "failed")}
        print(summary_line(counts, out), file=sys.stderr if failed else sys.stdout)
        for r in failed:
            print(f"  failed: {r.audience}/{r.area}: {r.message_for(args.message_clearance)}",
                  file=sys.stderr)
    return EXIT_PROBLEMS if failed else EXIT_OK


class BuildReporter:
    """One line per pack; a progress bar as well when the terminal is interactive."""

    def __init__(self, total: int, *, quiet: bool, verbose: bool,
                 clearance: str = "CLEAR") -> None:
        self.quiet, self.verbose, self.clearance = quiet, verbose, clearance
        self.warned: list[Diagnostic] = []
        self.progress = None
        if sys.stderr.isatty() and not quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("building packs"), BarColumn(),
                                     MofNCompleteColumn(), transient=True)
            self.task = self.progress.add_task("build", total=total)

    def __enter__(self) -> BuildReporter:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _print(self, text: str, err: bool = False) -> None:
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr if err else sys.stdout)

    def result(self, result: PackResult) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
        name = _names(result.audience, result.area, [f.file for f in result.files]
                      or [result.output])
        if result.status == "failed":
            self._print(f"FAILED    {name}: {result.message_for(self.clearance)}", err=True)
        elif result.status == "built" and not self.quiet:
            self._print(f"built     {name}  ({result.pages} pages, {result.seconds:.1f} s)")
        elif self.verbose:
            message = result.message_for(self.clearance)
            self._print(f"{result.status:<9} {name}" + (f"  ({message})" if message else ""))
        if self.quiet:
            return
        for item in result.withheld if (self.verbose or result.status == "built") else ():
            self._print(withheld_line(item.what, item.name, item.handling, result.audience))
        for blocked in result.blocked:
            self._print(f"          blocked resource {blocked}", err=True)
        for warning in result.warnings:  # a shared stylesheet's, once per build
            if warning not in self.warned:
                self.warned.append(warning)
                self._print(warning.format(self.clearance), err=True)


def _names(audience: str, area: str, files: list[str]) -> str:
    """How a line names a pack's files: `study-group/alpha.pdf`, or with several editions
    `study-group/alpha.{pdf,html,epub}`."""
    extensions = [Path(f).suffix.lstrip(".") for f in files] or ["pdf"]
    return f"{audience}/{area}." + (extensions[0] if len(extensions) == 1
                                    else "{" + ",".join(extensions) + "}")
