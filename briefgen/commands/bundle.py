"""`briefgen bundle`: one audience's built packs in a reproducible zip for recipients."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from briefgen.commands.common import EXIT_OK, EXIT_PROBLEMS


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    b = sub.add_parser("bundle", parents=[common],
                       help="zip one audience's built packs with checksums and a README")
    b.add_argument("--audience", required=True, metavar="NAME", help="the audience to bundle")
    b.add_argument("--build", action="store_true",
                   help="run the normal build for this audience first")
    b.add_argument("--recipients", type=Path, default=None, metavar="FILE",
                   help="numbered copies, one zip per recipient (a YAML list or a CSV with "
                        "a 'name' column); required from TLP:AMBER up")
    b.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: PROJECT/output)")
    b.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.distribute.bundle import write_bundle
    from briefgen.loading import load_project
    from briefgen.paths import find_root, output_folder, shown

    root = find_root(args.project or Path.cwd())
    recipients = None
    if args.recipients is not None:
        from briefgen.distribute.stamp import read_recipients

        recipients = read_recipients(args.recipients.absolute(), str(args.recipients))
    project = load_project(root)
    out = output_folder(root, args.out)
    if args.build:
        from briefgen.build import BuildOptions, build

        results = build(project, out, BuildOptions(audiences=(args.audience,),
                                                   jobs=os.cpu_count() or 1))
        failed = [r for r in results if r.status == "failed"]
        for r in failed:
            print(f"  failed: {r.audience}/{r.area}: {r.message_for('CLEAR')}")
        if failed:
            return EXIT_PROBLEMS
    target = write_bundle(project, out, args.audience, shown(out, root), recipients)
    if not args.quiet:
        what = f"{len(recipients)} numbered copies in" if recipients else "bundle  "
        print(f"{what} {shown(target, root)}")
    return EXIT_OK
