"""`briefgen init`: a small project that builds as it is."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from briefgen.commands.common import EXIT_OK
from briefgen.errors import error
from briefgen.paths import BUILTIN_AUDIENCES, SKELETON

AUDIENCE_STUB = """\
{schema}# Audience '{name}': briefgen's built-in settings, overridden by any key below.
# Keys: title, description, page_size, base_font_size, clearance, sections, inline_grades,
# explain_grades, caveats, citations, citation_style, palette, chart, require_alt_text,
# discussion, formats, pdf_variant, pdf_tags, lang, online_url (README, "Audiences").
extends: {name}
"""
STYLE_STUB = """\
/* Audience '{name}': applied after briefgen's base stylesheet and the built-in
   '{name}' style. Override custom properties (--accent, --ink, ...) or any rule. */
"""


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    i = sub.add_parser("init", help="create a small project that builds as it is",
                       parents=[common])
    i.add_argument("directory", type=Path)
    i.add_argument("--audience", action="append", choices=BUILTIN_AUDIENCES, metavar="NAME",
                   help="audience style to include (repeatable; default: all of "
                        f"{', '.join(BUILTIN_AUDIENCES)})")
    i.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target: Path = args.directory
    if target.exists() and any(target.iterdir()):
        raise error(target, "folder exists and is not empty",
                    hint="choose a new folder name; init never overwrites files")
    audiences = args.audience or list(BUILTIN_AUDIENCES)
    if "study-group" not in audiences:
        audiences.insert(0, "study-group")  # the skeleton's default audience
    from briefgen.commands.new import SCHEMA_FOLDER, schema_line
    from briefgen.editor_schema import write_schemas

    shutil.copytree(SKELETON, target, dirs_exist_ok=True)
    # Editor schemas, and a line in each YAML file pointing an editor at its own, so
    # completion and validation work while typing (yaml-language-server).
    write_schemas(target / SCHEMA_FOLDER)
    for name, schema in (("briefgen.yaml", "briefgen.schema.json"),
                         ("sources/references.yaml", "references.schema.json")):
        path = target / name
        path.write_text(schema_line(schema, path, target) + path.read_text("utf-8"), "utf-8")
    for name in dict.fromkeys(audiences):
        folder = target / "styles" / name
        folder.mkdir(parents=True)
        (folder / "audience.yaml").write_text(AUDIENCE_STUB.format(
            name=name, schema=schema_line("audience.schema.json", folder / "audience.yaml",
                                          target)), "utf-8")
        (folder / "style.css").write_text(STYLE_STUB.format(name=name), "utf-8")
    if not args.quiet:
        print(f"created a briefgen project in {target} with audiences: {', '.join(audiences)}\n"
              f"editor schemas in {SCHEMA_FOLDER}/ (each YAML file names its own)\n"
              f"next: cd {target} && briefgen build")
    return EXIT_OK
