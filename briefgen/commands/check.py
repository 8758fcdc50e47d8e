"""`briefgen check`: validate the project without building."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from briefgen.commands.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    messages_option,
    print_diagnostics,
)
from briefgen.errors import BriefgenError


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    c = sub.add_parser("check", help="validate the project without building", parents=[common])
    c.add_argument("--strict", action="store_true", help="warnings fail too")
    c.add_argument("--format", choices=("text", "json"), default="text")
    messages_option(c)
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.paths import find_root

    return check_project(args, find_root(args.project or Path.cwd()))


def check_project(args: argparse.Namespace, root: Path) -> int:
    from briefgen.citations import style_problems
    from briefgen.loading import audience_file_problems, load_project

    try:
        project = load_project(root)
        diagnostics = [d for audience in project.audiences.values()
                       for d in audience_file_problems(project.root, audience.directory)]
        diagnostics += [d for audience in project.audiences.values()
                        for d in style_problems(project.root, audience)]
        diagnostics += project.warnings
        from briefgen.predict import build_problems

        if project.handling_map is not None:
            diagnostics += project.handling_map.classify(build_problems(project))
        else:
            diagnostics += build_problems(project)
    except BriefgenError as exc:
        project, diagnostics = None, exc.diagnostics
    failed = any(d.severity == "error" for d in diagnostics) or (args.strict and diagnostics)
    if args.format == "json":
        print(json.dumps([d.to_dict(args.message_clearance) for d in diagnostics], indent=2))
    else:
        print_diagnostics(diagnostics, args.message_clearance)
        if project is not None and not args.quiet:
            print(f"checked {len(project.areas)} area(s), {len(project.claims)} claim(s), "
                  f"{len(project.references)} reference(s): "
                  f"{'problems found' if failed else 'ok'}")
    return EXIT_PROBLEMS if failed else EXIT_OK
