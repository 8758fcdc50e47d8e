"""`briefgen schema`: write JSON Schema for the files a user writes (editor completion)."""

from __future__ import annotations

import argparse
from pathlib import Path

from briefgen.commands.common import EXIT_OK


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("schema", parents=[common],
                       help="write JSON Schema for briefgen.yaml, audience.yaml, "
                            "references.yaml and note/area front matter")
    s.add_argument("--out", type=Path, default=Path("schemas"), metavar="DIR",
                   help="folder to write the *.schema.json files to (default: schemas)")
    s.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.editor_schema import write_schemas

    for path in write_schemas(args.out):
        if not args.quiet:
            print(f"wrote {path}")
    return EXIT_OK
