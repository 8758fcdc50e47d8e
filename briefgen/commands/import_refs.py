"""`briefgen import-refs FILE`: BibTeX, CSL-JSON or RIS appended to sources/references.yaml
with grading placeholders (briefgen/importrefs.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from briefgen.commands.common import EXIT_OK


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "import-refs", parents=[common],
        help="append BibTeX, CSL-JSON or RIS references to sources/references.yaml",
        description="Append the references of FILE (.bib, .json as CSL-JSON, .ris) to "
        "sources/references.yaml, each with reliability F and 'graded: false' until you grade "
        "it; references the project already has (same id, DOI or URL) are reported, not "
        "added. Example: briefgen import-refs ~/zotero-export.json")
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.importrefs import import_references
    from briefgen.paths import find_root

    root = find_root(args.project or Path.cwd())
    result = import_references(root, args.file, str(args.file))
    for line in result.duplicates:
        print(line)
    if not args.quiet or result.added:
        print(f"added {len(result.added)} reference(s) to sources/references.yaml"
              + (f": {', '.join(result.added)}" if result.added else "")
              + (f"; {len(result.duplicates)} already there" if result.duplicates else ""))
        if result.added:
            print("next: grade each one (custom.reliability, custom.descriptor), then delete "
                  "'graded: false'; briefgen check lists them as ungraded-source")
    return EXIT_OK
