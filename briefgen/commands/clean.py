"""`briefgen clean`: remove the files a build wrote (as its manifest records them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from briefgen.commands.common import EXIT_OK


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    c = sub.add_parser("clean", parents=[common],
                       help="remove what briefgen wrote in output/ (nothing else)")
    c.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: PROJECT/output)")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.distribute.clean import clean
    from briefgen.paths import find_root, output_folder, shown

    root = find_root(args.project or Path.cwd())
    out = output_folder(root, args.out)
    result = clean(out, shown(out, root))
    for name in result.kept:
        print(f"kept     {name} (changed since briefgen wrote it, or a link)",
              file=sys.stderr)
    if args.verbose:
        for name in result.removed:
            print(f"removed  {name}")
    if not args.quiet:
        print(f"{len(result.removed)} removed, {len(result.kept)} kept -> {out}")
    return EXIT_OK
