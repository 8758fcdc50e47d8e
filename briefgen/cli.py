"""The command line. The only module that talks to the terminal."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import __version__
from briefgen.errors import BriefgenError, Diagnostic, error
from briefgen.paths import BUILTIN_AUDIENCES, SKELETON

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.build import PackResult
    from briefgen.model import Project

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
AUDIENCE_STUB = """\
# Audience '{name}': briefgen's built-in settings, overridden by any key below.
# Keys: title, description, page_size, base_font_size, clearance, sections, inline_grades,
# explain_grades, citations, palette, chart, require_alt_text, pdf_variant, pdf_tags.
extends: {name}
"""
STYLE_STUB = """\
/* Audience '{name}': applied after briefgen's base stylesheet and the built-in
   '{name}' style. Override custom properties (--accent, --ink, ...) or any rule. */
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefgen", description="Build graded PDF briefing packs from Markdown notes.")
    parser.add_argument("--version", action="version", version=f"briefgen {__version__}")
    # shtab writes the script; it is imported only when asked (a fast --version and --help).
    parser.add_argument("--print-completion", choices=("bash", "zsh", "tcsh"), metavar="SHELL",
                        action=_PrintCompletion,
                        help="print a shell completion script (bash, zsh, tcsh) and exit")
    _common_options(parser, default=None)
    # The same options after the command name (briefgen build -q) without clobbering the
    # value given before it (briefgen -q build).
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    c = sub.add_parser("check", help="validate the project without building", parents=[common])
    c.add_argument("--strict", action="store_true", help="warnings fail too")
    c.add_argument("--format", choices=("text", "json"), default="text")

    cl = sub.add_parser("claims", help="list every claim with its computed status",
                        parents=[common])
    cl.add_argument("--format", choices=("table", "json", "csv", "claimreview"),
                    default="table", help="claimreview: schema.org ClaimReview JSON-LD")
    cl.add_argument("--area", action="append", metavar="AREA", help="only this area")
    _clearance_options(cl)

    d = sub.add_parser("diff", help="what changed in claims and status between two editions",
                       parents=[common])
    d.add_argument("old", type=Path, metavar="OLD", nargs="?", default=None,
                   help="folder of the earlier edition")
    d.add_argument("new", type=Path, metavar="NEW", nargs="?", default=None,
                   help="folder of the later edition (default: this project)")
    d.add_argument("--rev", metavar="REV",
                   help="compare with this project as committed at REV in git (HEAD~1, a tag)")
    d.add_argument("--format", choices=("text", "json"), default="text")
    _clearance_options(d)

    i = sub.add_parser("init", help="create a small project that builds as it is",
                       parents=[common])
    i.add_argument("directory", type=Path)
    i.add_argument("--audience", action="append", choices=BUILTIN_AUDIENCES, metavar="NAME",
                   help="audience style to include (repeatable; default: all of "
                        f"{', '.join(BUILTIN_AUDIENCES)})")
    s = sub.add_parser(
        "serve", parents=[common],
        help="live HTML preview in the browser, reloaded as you edit",
        description="Serve an HTML preview of one audience's packs on localhost that reloads "
                    "itself in the browser when sources/, styles/ or briefgen.yaml change.")
    s.add_argument("--port", type=int, default=8000, metavar="N",
                   help="port to listen on (default: 8000; 0 picks a free one)")
    s.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    s.add_argument("--audience", default=None, metavar="NAME",
                   help="the audience to preview (and build with --pdf; default: the "
                        "project's default audience)")
    s.add_argument("--pdf", action="store_true",
                   help="also rebuild the PDFs into PROJECT/output after every change")
    return parser


def _clearance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audience", metavar="NAME", default=None,
                        help="list what this audience may see (default: the project's "
                             "default audience)")
    parser.add_argument("--clearance", metavar="LEVEL", default=None,
                        help="list what a reader cleared for this TLP level may see "
                             "(CLEAR, GREEN, AMBER, AMBER+STRICT, RED; default: the "
                             "audience's clearance)")


class _PrintCompletion(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        import shtab

        print(shtab.complete(parser, shell=str(values)))
        parser.exit(0)


def _common_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("-C", "--project", type=Path, default=default, metavar="DIR",
                        help="project folder (default: the nearest folder with briefgen.yaml)")
    parser.add_argument("-q", "--quiet", action="store_true", default=default or False,
                        help="print only problems")
    parser.add_argument("-v", "--verbose", action="store_true", default=default or False,
                        help="also list unchanged and withheld packs")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "init":
            return cmd_init(args)
        from briefgen.paths import find_root

        if args.command == "diff":
            return cmd_diff(args)
        root = find_root(args.project or Path.cwd())
        fingerprint = None
        if args.command == "build":
            from briefgen.fingerprint import project_fingerprint

            if args.jobs < 1:
                return _usage("--jobs must be 1 or more")
            if args.timeout is not None and not args.timeout >= 0:
                return _usage("--timeout must be a number of seconds (0: no limit)")
            fingerprint = project_fingerprint(root)   # before loading: what this build reads
            if not args.force and _unchanged(args, root):
                return EXIT_OK
        if args.command == "serve":
            from briefgen import serve

            return serve.run(args, root)
        if args.command == "check":
            return cmd_check(args, root)
        from briefgen.loading import load_project

        project = load_project(root)
        if args.command == "build":
            return cmd_build(args, project, fingerprint)
        return cmd_claims(args, project)
    except BriefgenError as exc:
        _print_diagnostics(exc.diagnostics)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print("briefgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=sys.stderr)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if diagnostics:
        print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)


def cmd_check(args: argparse.Namespace, root: Path) -> int:
    from briefgen.loading import load_project

    try:
        project = load_project(root)
        diagnostics = list(project.warnings)
    except BriefgenError as exc:
        project, diagnostics = None, exc.diagnostics
    failed = any(d.severity == "error" for d in diagnostics) or (args.strict and diagnostics)
    if args.format == "json":
        print(json.dumps([d.to_dict() for d in diagnostics], indent=2))
    else:
        _print_diagnostics(diagnostics)
        if project is not None and not args.quiet:
            print(f"checked {len(project.areas)} area(s), {len(project.claims)} claim(s), "
                  f"{len(project.references)} reference(s): "
                  f"{'problems found' if failed else 'ok'}")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _unchanged(args: argparse.Namespace, root: Path) -> bool:
    """A no-op build without loading the project (briefgen.fingerprint), reported as the full
    build would report it; False when anything may have changed."""
    from briefgen.fingerprint import unchanged_since_last_build
    from briefgen.paths import output_folder

    out = output_folder(root, args.out)
    record = unchanged_since_last_build(root, out, args.area or [], args.audience or [])
    if record is None:
        return False
    if not args.quiet:
        for warning in record["warnings"]:
            print(warning, file=sys.stderr)
        for pack in record["packs"] if args.verbose else ():
            print(f"{pack['status'] if pack['status'] == 'withheld' else 'unchanged':<9} "
                  f"{pack['audience']}/{pack['area']}.pdf")
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


def cmd_build(args: argparse.Namespace, project: Project, fingerprint: str | None) -> int:
    from briefgen.build import DEFAULT_TIMEOUT, BuildOptions, build

    timeout = DEFAULT_TIMEOUT if args.timeout is None else (args.timeout or None)
    if not args.quiet:
        for warning in project.warnings:
            print(warning.format(), file=sys.stderr)
    from briefgen.paths import output_folder

    out = output_folder(project.root, args.out)
    areas = args.area or [a.slug for a in project.areas]
    audiences = args.audience or sorted(project.audiences)
    with BuildReporter(len(areas) * len(audiences), quiet=args.quiet,
                       verbose=args.verbose) as reporter:
        results = build(project, out, BuildOptions(
            areas=args.area or (), audiences=args.audience or (), force=args.force,
            jobs=args.jobs, timeout=timeout, fingerprint=fingerprint),
            on_result=reporter.result)
    failed = [r for r in results if r.status == "failed"]
    if not args.quiet or failed:
        counts = {s: sum(r.status == s for r in results)
                  for s in ("built", "unchanged", "withheld", "failed")}
        print(summary_line(counts, out), file=sys.stderr if failed else sys.stdout)
        for r in failed:
            print(f"  failed: {r.audience}/{r.area}: {r.message}", file=sys.stderr)
    return EXIT_PROBLEMS if failed else EXIT_OK


class BuildReporter:
    """One line per pack; a progress bar as well when the terminal is interactive."""

    def __init__(self, total: int, *, quiet: bool, verbose: bool) -> None:
        self.quiet, self.verbose = quiet, verbose
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
        name = f"{result.audience}/{result.area}.pdf"
        if result.status == "failed":
            self._print(f"FAILED    {name}: {result.message}", err=True)
        elif result.status == "built" and not self.quiet:
            self._print(f"built     {name}  ({result.pages} pages, {result.seconds:.1f} s)")
        elif self.verbose:
            self._print(f"{result.status:<9} {name}"
                        + (f"  ({result.message})" if result.message else ""))
        if self.quiet:
            return
        for item in result.withheld if (self.verbose or result.status == "built") else ():
            self._print(withheld_line(item.what, item.name, item.handling, result.audience))
        for blocked in result.blocked:
            self._print(f"          blocked resource {blocked}", err=True)
        for warning in result.warnings:  # a shared stylesheet's, once per build
            if warning not in self.warned:
                self.warned.append(warning)
                self._print(warning.format(), err=True)


def _usage(message: str) -> int:
    print(f"briefgen: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_claims(args: argparse.Namespace, project: Project) -> int:
    if args.area:
        known = {a.slug for a in project.areas}
        for slug in args.area:
            if slug not in known:
                return _usage(f"no area '{slug}' (areas: {', '.join(sorted(known))})")
    from briefgen.ledger import PUBLIC, claim_review, export, export_audience

    audience = export_audience(project, args.audience, args.clearance)
    if args.format == "claimreview":
        if audience.config.clearance != PUBLIC and (args.audience or args.clearance):
            print(f"briefgen: note: ClaimReview is a publishing format: it lists only "
                  f"TLP:CLEAR claims, graded from TLP:CLEAR sources (not "
                  f"TLP:{audience.config.clearance})", file=sys.stderr)
        public = export_audience(project, audience.name, PUBLIC)
        print(json.dumps(claim_review(project, export(project, public, args.area)), indent=2,
                         ensure_ascii=False))
        return EXIT_OK
    rows = export(project, audience, args.area).records
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["area", "id", "status", "grade", "kind", "handling", "text",
                         "evidence", "source", "quote"])
        for r in rows:
            writer.writerow([r["area"], r["id"], r["status"], r["grade"], r["kind"],
                             r["handling"], r["text"],
                             "; ".join(f"{e['ref']} ({e['stance']}, {e['locator']})"
                                       if e["locator"] else f"{e['ref']} ({e['stance']})"
                                       for e in r["evidence"]),
                             r["source"], r["origin_quote"]])
        sys.stdout.write(buffer.getvalue())
    else:
        width = shutil.get_terminal_size((120, 20)).columns
        text_width = max(20, width - 58)
        print(f"{'AREA':<13} {'ID':<8} {'STATUS':<15} {'GRADE':<5} {'HANDLING':<9} TEXT")
        for r in rows:
            text = r["text"] if len(r["text"]) <= text_width else r["text"][: text_width - 1] + "…"
            print(f"{r['area']:<13} {r['id']:<8} {r['status']:<15} {r['grade']:<5} "
                  f"{r['handling']:<9} {text}")
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        print(f"{len(rows)} claims: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
              + f" (as seen by audience {audience.name}, cleared for "
                f"TLP:{audience.config.clearance})")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from briefgen.ledger import diff, export, export_audience
    from briefgen.loading import load_project
    from briefgen.paths import find_root

    def rows(project: Project, clearance: str) -> list[dict]:
        return export(project, export_audience(project, None, clearance)).records

    if args.old is None and args.rev is None:
        raise error("briefgen diff", "give the earlier edition as a folder or as --rev REV",
                    hint="briefgen diff ../edition-1.0   or   briefgen diff --rev HEAD~1")
    if args.old is not None and args.rev is not None:  # NEW comes after OLD, so OLD is set
        raise error("briefgen diff", "--rev compares with this project; give no folders",
                    hint="run it in the project, or point at it with -C PROJECT")
    if args.rev is not None:
        from briefgen.editions import project_at_revision

        root = find_root(args.project or Path.cwd())
        new = load_project(root)
        with tempfile.TemporaryDirectory(prefix="briefgen-rev-") as work:
            old_root = project_at_revision(root, args.rev, Path(work))
            try:
                old = load_project(old_root)
            except BriefgenError as exc:  # name files the git way: REV:path
                raise BriefgenError([
                    replace(d, location=replace(d.location, file=f"{args.rev}:{d.location.file}"))
                    for d in exc.diagnostics]) from None
            clearance = export_audience(new, args.audience, args.clearance).config.clearance
            old_rows = rows(old, clearance)
    else:
        old = load_project(find_root(args.old))
        new = load_project(find_root(args.new or args.project or Path.cwd()))
        # Both editions are read at the same clearance, that of the later one's audience.
        clearance = export_audience(new, args.audience, args.clearance).config.clearance
        old_rows = rows(old, clearance)
    changes = diff(old_rows, rows(new, clearance))
    if args.format == "json":
        print(json.dumps([c.__dict__ for c in changes], indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{old.config.edition} -> {new.config.edition}: {len(changes)} change(s) "
          f"(claims a reader cleared for TLP:{clearance} may see)")
    labels = {"status": "status changed", "added": "added", "removed": "removed",
              "grade": "grade changed", "text": "text changed"}
    for c in changes:
        what = {"added": f"new, {c.new}", "removed": f"was {c.old}",
                "text": f"\n      was: {c.old}\n      now: {c.new}"}.get(
                    c.kind, f"{c.old} -> {c.new}" + (f" ({c.reason})" if c.reason else ""))
        print(f"  {labels[c.kind]:<15} {c.area}/{c.id}: {what}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    target: Path = args.directory
    if target.exists() and any(target.iterdir()):
        raise error(target, "folder exists and is not empty",
                    hint="choose a new folder name; init never overwrites files")
    audiences = args.audience or list(BUILTIN_AUDIENCES)
    if "study-group" not in audiences:
        audiences.insert(0, "study-group")  # the skeleton's default audience
    shutil.copytree(SKELETON, target, dirs_exist_ok=True)
    for name in dict.fromkeys(audiences):
        folder = target / "styles" / name
        folder.mkdir(parents=True)
        (folder / "audience.yaml").write_text(AUDIENCE_STUB.format(name=name), "utf-8")
        (folder / "style.css").write_text(STYLE_STUB.format(name=name), "utf-8")
    print(f"created a briefgen project in {target} with audiences: {', '.join(audiences)}\n"
          f"next: cd {target} && briefgen build")
    return EXIT_OK

