"""`briefgen diff`: what changed in claims and status between two editions."""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen.commands.common import EXIT_OK, clearance_options
from briefgen.errors import BriefgenError, error

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.model import Project


COMMON = ()  # the shared options it offers (commands/__init__.py)

def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    d = sub.add_parser("diff", help="what changed in claims and status between two editions",
                       parents=[common])
    d.add_argument("old", type=Path, metavar="OLD", nargs="?", default=None,
                   help="folder of the earlier edition")
    d.add_argument("new", type=Path, metavar="NEW", nargs="?", default=None,
                   help="folder of the later edition (default: this project)")
    d.add_argument("--rev", metavar="REV",
                   help="compare with this project as committed at REV in git (HEAD~1, a tag)")
    d.add_argument("--format", choices=("text", "json"), default="text")
    clearance_options(d)
    d.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
        from briefgen.history import project_at_revision

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
