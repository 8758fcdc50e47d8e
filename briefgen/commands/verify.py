"""`briefgen verify PATH`: check a bundle, a folder or a PDF against its checksums."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from briefgen.commands.common import EXIT_OK, EXIT_PROBLEMS


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    v = sub.add_parser("verify", parents=[common],
                       help="check a bundle zip, a folder or a PDF against its SHA256SUMS "
                            "or manifest")
    v.add_argument("path", type=Path, metavar="PATH", help="a bundle zip, a folder or a PDF")
    v.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.distribute.verify import verify
    from briefgen.errors import printable

    lines = verify(args.path.absolute(), str(args.path))
    bad = [ln for ln in lines if ln.status != "ok"]
    for line in lines:
        if line.status != "ok" or not args.quiet:
            print(printable(str(line)), file=sys.stdout if line.status == "ok" else sys.stderr)
    if bad:
        print(f"{args.path}: error: {len(bad)} of {len(lines)} file(s) failed "
              f"({', '.join(printable(ln.name) for ln in bad)})", file=sys.stderr)
        return EXIT_PROBLEMS
    if not args.quiet:
        print(f"{len(lines)} file(s) ok")
    return EXIT_OK
