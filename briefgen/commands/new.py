"""`briefgen new`: commented skeletons of an area, a note, a claim, a reference or an
audience, written so the project still passes `check` (with warnings where grading is left
to do). Appending keeps the user's own text, comments and layout: new lines are added as
text, never by writing the YAML out again, and what is written must read back."""

from __future__ import annotations

import argparse
import re
import unicodedata
from pathlib import Path

from briefgen import paths, yamlio
from briefgen.commands.common import EXIT_OK
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.suggest import did_you_mean

SCHEMA_FOLDER = "schemas"   # where `init` (and `briefgen schema`) put the editor schemas
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CLAIM_ID = re.compile(r"^\s*-?\s*id:\s*[\"']?([A-Za-z][A-Za-z0-9]*-)(\d+)[\"']?\s*(?:#.*)?$",
                      re.MULTILINE)
REF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")

EXAMPLES = """\
examples:
  briefgen new area policing --title "Community policing"
  briefgen new note policing "Patrol and response"
  briefgen new claim policing/10-patrol-and-response
  briefgen new ref mps-annual-report-2024
  briefgen new audience trainees --extends study-group
"""


def schema_line(schema: str, file: Path, root: Path) -> str:
    """The modeline that points an editor (yaml-language-server) at `schema`, relative to
    `file` as the language server resolves it."""
    target = root / SCHEMA_FOLDER / schema
    rel = Path(*[".."] * (len(file.relative_to(root).parts) - 1), target.relative_to(root))
    return f"# yaml-language-server: $schema={rel.as_posix()}\n"


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    n = sub.add_parser("new", parents=[common], help="write a skeleton: area, note, claim, "
                       "ref or audience", formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Write a commented skeleton with the next free id; the "
                       "project still passes 'briefgen check' (with warnings where grading "
                       "is still to do).", epilog=EXAMPLES)
    kinds = n.add_subparsers(dest="kind", required=True, metavar="KIND")
    raw = argparse.RawDescriptionHelpFormatter
    a = kinds.add_parser("area", help="a new area: sources/SLUG/_area.md", formatter_class=raw,
                         epilog="example:\n  briefgen new area policing --title "
                                "\"Community policing\"\n")
    a.add_argument("slug", help="the area's folder name: lower case, digits and hyphens")
    a.add_argument("--title", help="the area's title (default: from the slug)")
    a.set_defaults(run=run_area)
    o = kinds.add_parser("note", help="a new note in an area", formatter_class=raw,
                         epilog="example:\n  briefgen new note policing \"Patrol and "
                                "response\"   # writes sources/policing/10-patrol-and-"
                                "response.md\n")
    o.add_argument("area", help="the area's folder name")
    o.add_argument("title", help="the note's title (its file name is made from it)")
    o.set_defaults(run=run_note)
    c = kinds.add_parser("claim", help="a claim appended to a note, with the next free id",
                         formatter_class=raw,
                         epilog="example:\n  briefgen new claim policing/10-patrol-and-response"
                                "\n  briefgen new claim sources/policing/10-patrol-and-"
                                "response.md\n")
    c.add_argument("note", help="the note: AREA/NAME or its path")
    c.set_defaults(run=run_claim)
    r = kinds.add_parser("ref", help="a reference appended to sources/references.yaml",
                         formatter_class=raw,
                         epilog="example:\n  briefgen new ref mps-annual-report-2024\n")
    r.add_argument("id", help="the reference's id, cited as [@id]")
    r.set_defaults(run=run_ref)
    u = kinds.add_parser("audience", help="a new audience: styles/NAME/", formatter_class=raw,
                         epilog="example:\n  briefgen new audience trainees --extends "
                                "study-group\n")
    u.add_argument("name", help="the audience's folder name")
    u.add_argument("--extends", default="study-group", metavar="BASE",
                   help="a built-in audience or one of the project's (default: study-group)")
    u.set_defaults(run=run_audience)


# --- helpers --------------------------------------------------------------------------------

def error(file: str | Path, message: str, *, line: int | None = None,
          hint: str = "") -> BriefgenError:
    """A mistake in the command line: it quotes only what the user typed and the names of
    files (shown in every message), never a file's content, so it is handled as TLP:CLEAR
    (a message located under sources/ is otherwise withheld as RED)."""
    return BriefgenError(Diagnostic(Location(str(file), line), message, hint,
                                    handling="CLEAR"))


def _root(args: argparse.Namespace) -> Path:
    return paths.find_root(args.project or Path.cwd())


def _slug_problem(slug: str, what: str, where: str) -> BriefgenError | None:
    if SLUG.match(slug):
        return None
    return error(where, f"'{slug}' cannot be {what}",
                 hint="use lower-case letters, digits and hyphens, starting with a letter or "
                      "digit (e.g. 'community-policing')")


def slugify(title: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def _areas(root: Path) -> list[str]:
    folder = root / "sources"
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and (p / "_area.md").is_file()) if folder.is_dir() else []


def _area(root: Path, name: str) -> Path:
    areas = _areas(root)
    if name not in areas:
        raise error(f"sources/{name}/", f"no area '{name}'",
                    hint=did_you_mean(name, areas, f"areas: {', '.join(areas) or 'none'}; "
                                      "create one with 'briefgen new area SLUG'"))
    return root / "sources" / name


def say(args: argparse.Namespace, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text)


def _write_new(args: argparse.Namespace, root: Path, path: Path, text: str) -> None:
    from briefgen.build.output import atomic_write

    shown = paths.shown(path, root)
    if path.exists() or path.is_symlink():
        raise error(shown, "already exists", hint="choose another name; 'new' never "
                    "overwrites a file")
    # Only into the project's own folders: never through a link to somewhere else.
    folder = root
    for part in path.parent.relative_to(root).parts:
        folder = folder / part
        if folder.is_symlink():
            raise error(shown, f"is inside a folder that is a symbolic link ({part})",
                        hint="write into a real folder of the project")
    atomic_write(path, text.encode("utf-8"))
    say(args, f"wrote {shown}")


def _plain(root: Path, path: Path) -> bool:
    """Whether `path` is a plain file of the project: 'new' reads nothing through a link
    (paths.link_problem), as the loader does."""
    return not paths.link_problem(path, root)


def _ids_in(root: Path, path: Path) -> list[tuple[str, str]]:
    """The (prefix, number) of every claim-like id in a plain note of the project; nothing
    from a link, a file too big or not UTF-8 (the loader reports those)."""
    if not _plain(root, path):
        return []
    try:
        text = yamlio.read_text(path, paths.shown(path, root))
    except BriefgenError:
        return []
    return [(m.group(1), m.group(2)) for m in CLAIM_ID.finditer(text)]


def _orders(folder: Path) -> list[int]:
    found = []
    for path in folder.glob("*.md"):
        if m := re.match(r"^(\d+)-", path.name):
            found.append(int(m.group(1)))
    return found


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- area, note -----------------------------------------------------------------------------

AREA = """\
---
title: {title}
order: {order}
summary: "TODO: what this pack covers, in one sentence."
# key_judgments:            # the pack's bottom line, each with likelihood and confidence
#   - id: {prefix}-KJ1
#     text: "It is likely that ..."
#     likelihood: likely      # almost no chance .. almost certain (the keys appendix)
#     confidence: moderate    # low, moderate, high
#     basis: "Which claims it rests on ({prefix}-01, ...)."
source_summary: |
  TODO: what kinds of sources this area rests on, and how good they are.
---
TODO: the scope note: what this pack can and cannot establish.
"""


def run_area(args: argparse.Namespace) -> int:
    root = _root(args)
    slug = args.slug
    if problem := _slug_problem(slug, "an area's folder name", f"sources/{slug}/"):
        raise problem
    folder = root / "sources" / slug
    if folder.exists():
        raise error(f"sources/{slug}/", "already exists",
                    hint="choose another name, or add notes to it with 'briefgen new note'")
    orders = []
    for other in _areas(root):
        if not _plain(root, root / "sources" / other / "_area.md"):
            continue
        meta = _front_matter(root, root / "sources" / other / "_area.md")
        if isinstance(meta.get("order"), int):
            orders.append(meta["order"])
    title = args.title or slug.replace("-", " ").capitalize()
    _write_new(args, root, folder / "_area.md", AREA.format(
        title=_quoted(title), order=max(orders, default=0) + 1, prefix=_prefix_for(slug)))
    say(args, f"next: briefgen new note {slug} \"A first note\"")
    return EXIT_OK


NOTE = """\
---
title: {title}
order: {order}
handling: CLEAR       # TLP of this note: CLEAR, GREEN, AMBER, AMBER+STRICT or RED
claims: []            # add one with: briefgen new claim {area}/{stem}
# In the text below, mark each claim where it is made with its id in double square
# brackets, and cite a source with its id after '[@' (and a locator: ', p. 4]').
---
TODO: the note's text.
"""


def run_note(args: argparse.Namespace) -> int:
    root = _root(args)
    folder = _area(root, args.area)
    slug = slugify(args.title)
    if not slug or not args.title.strip():
        raise error(f"sources/{args.area}/", f"cannot make a file name from {args.title!r}",
                    hint="give a title with some letters or digits")
    order = (max(_orders(folder), default=0) // 10 + 1) * 10
    stem = f"{order:02d}-{slug}"
    _write_new(args, root, folder / f"{stem}.md", NOTE.format(
        title=_quoted(args.title.strip()), order=order, area=args.area, stem=stem,
        prefix=_area_prefix(root, folder)))
    say(args, f"next: briefgen new claim {args.area}/{stem}")
    return EXIT_OK


# --- claim ----------------------------------------------------------------------------------

CLAIM = """\
- id: {id}
  text: "TODO: the claim, as one sentence a source can support or contradict."
  credibility: 6        # 1 confirmed .. 5 improbable; 6 cannot be judged (until graded)
  rationale: "TODO: why this credibility."
  evidence: []          # - {{ref: ID, stance: supports|contradicts|context, locator: "p. 4"}}
"""


def _front_matter(root: Path, path: Path) -> yamlio.LocDict:
    shown = paths.shown(path, root)
    return yamlio.split_front_matter(yamlio.read_text(path, shown), shown).meta


def _note_path(root: Path, given: str) -> Path:
    text = given.removeprefix("sources/").removesuffix(".md")
    area, _, stem = text.partition("/")
    folder = _area(root, area) if stem else None
    if folder is None or "/" in stem:
        raise error(given, "name a note as AREA/NAME (or sources/AREA/NAME.md)",
                    hint="e.g. 'briefgen new claim cyber/10-enforcement'")
    path = folder / f"{stem}.md"
    if not path.is_file() or stem == "_area":
        notes = sorted(f"{area}/{p.stem}" for p in folder.glob("*.md") if p.name != "_area.md")
        raise error(f"sources/{area}/{stem}.md", "no such note",
                    hint=did_you_mean(f"{area}/{stem}", notes,
                                      f"notes: {', '.join(notes) or 'none'}"))
    if problem := paths.link_problem(path, root):
        raise error(paths.shown(path, root), problem, hint="make it a plain file of the project")
    return path


def _prefix_for(slug: str) -> str:
    letters = re.sub(r"[^A-Za-z]", "", slug).upper()
    return letters[:3] or "C"


def _area_prefix(root: Path, folder: Path) -> str:
    """The prefix most of the area's claims use ('CYB-'), or one made from its name."""
    counts: dict[str, int] = {}
    for path in folder.glob("*.md"):
        for prefix, _ in _ids_in(root, path):
            counts[prefix] = counts.get(prefix, 0) + 1
    counts.pop(f"{_prefix_for(folder.name)}-KJ", None)
    if counts:
        return max(sorted(counts), key=lambda p: counts[p]).rstrip("-")
    return _prefix_for(folder.name)


def next_claim_id(root: Path, folder: Path) -> str:
    """The area's prefix and one more than the highest number any claim of the project has
    with that prefix, as wide as the widest (CYB-17; EX-01 in a new area)."""
    prefix = _area_prefix(root, folder) + "-"
    numbers, width = [0], 2
    for path in (root / "sources").rglob("*.md"):
        for found, number in _ids_in(root, path):
            if found == prefix:
                numbers.append(int(number))
                width = max(width, len(number))
    return f"{prefix}{max(numbers) + 1:0{width}d}"


def add_claim(text: str, claim_id: str, shown: str) -> str:
    """`text` (a note) with a claim skeleton appended to its front matter's `claims:`."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise error(shown, "missing front matter", line=1,
                    hint="start the file with '---', the YAML front matter, then '---'")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        raise error(shown, "front matter is not closed", line=1,
                    hint="add a line '---' after the YAML front matter")
    key = next((i for i in range(1, end) if re.match(r"^claims\s*:", lines[i])), None)
    item = CLAIM.format(id=claim_id)
    if key is None:
        new = lines[:end] + ["claims:\n"] + [f"  {ln}" if ln.strip() else ln
                                             for ln in item.splitlines(keepends=True)]
        return "".join(new + lines[end:])
    value = re.sub(r"#.*$", "", lines[key].split(":", 1)[1]).strip()
    if value == "[]":
        comment = re.search(r"\s#.*$", lines[key].rstrip("\n"))
        head = "claims:" + (f"  {comment.group(0).strip()}" if comment else "") + "\n"
        body = [f"  {ln}" if ln.strip() else ln for ln in item.splitlines(keepends=True)]
        return "".join([*lines[:key], head, *body, *lines[key + 1:]])
    if value:
        raise error(shown, "'claims:' is written on one line", line=key + 1,
                    hint="write the claims as a block list ('claims:' then one '- id: ...' "
                         "entry per claim) so a new one can be added")
    last = key
    indent = None
    for i in range(key + 1, end):
        line = lines[i]
        if TOP_KEY.match(line):
            break
        indented_comment = line.lstrip().startswith("#") and line[:1].isspace()
        if line.strip() and (indented_comment or not line.lstrip().startswith("#")):
            last = i
            if indent is None and line.lstrip().startswith("- "):
                indent = len(line) - len(line.lstrip())
    pad = " " * (indent if indent is not None else 2)
    body = [f"{pad}{ln}" if ln.strip() else ln for ln in item.splitlines(keepends=True)]
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    return "".join(lines[:last + 1] + body + lines[last + 1:])


def run_claim(args: argparse.Namespace) -> int:
    from briefgen.build.output import atomic_write

    root = _root(args)
    path = _note_path(root, args.note)
    shown = paths.shown(path, root)
    old = yamlio.read_text(path, shown)
    before = yamlio.split_front_matter(old, shown).meta.get("claims") or []
    claim_id = next_claim_id(root, path.parent)
    new = add_claim(old, claim_id, shown)
    after = yamlio.split_front_matter(new, shown).meta.get("claims") or []
    if len(after) != len(before) + 1 or after[-1].get("id") != claim_id:
        raise error(shown, "could not add a claim to this note's front matter", hint=(
            "its 'claims:' list is laid out in a way 'new claim' does not follow; add the "
            f"claim by hand (id {claim_id})"))
    atomic_write(path, new.encode("utf-8"))
    say(args, f"added claim {claim_id} to {shown}")
    say(args, f"next: fill in its text, credibility and evidence, and mark it in the text as "
          f"[[{claim_id}]]")
    return EXIT_OK


# --- reference ------------------------------------------------------------------------------

REF = """\
- id: {id}
  type: report            # a CSL type: report, article-journal, legislation, webpage, ...
  title: "TODO: the source's title"
  author: [{{literal: "TODO: the issuer or author"}}]
  issued: {{literal: "n.d."}}   # or a date: 2025-04-01, 2025-04 or 2025
  # URL: https://...
  custom:
    reliability: F        # Admiralty A (completely reliable) .. F (cannot be judged)
    descriptor: "Not graded yet."
    primary: false        # true for a primary record (a law, official statistics, a ruling)
    graded: false         # delete once reliability and descriptor are set
"""


def run_ref(args: argparse.Namespace) -> int:
    from briefgen.build.output import atomic_write
    from briefgen.importrefs import REFERENCES_FILE

    root = _root(args)
    ref_id = args.id
    if not REF_ID.match(ref_id):
        raise error(REFERENCES_FILE, f"'{ref_id}' cannot be a reference id",
                    hint="use letters, digits and '-', '_', '.', ':' (e.g. 'mps-report-2024')")
    target = root / REFERENCES_FILE
    if target.exists() and (problem := paths.link_problem(target, root)):
        raise error(REFERENCES_FILE, problem, hint="make it a plain file of the project")
    old = yamlio.read_text(target, REFERENCES_FILE) if target.exists() else ""
    entries = yamlio.load_yaml(old, REFERENCES_FILE) if old.strip() else []
    if not isinstance(entries, list):
        raise error(REFERENCES_FILE, "is not a list of references", line=1,
                    hint="the file is a YAML list: one '- id: ...' entry per source")
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id") == ref_id:
            raise error(REFERENCES_FILE, f"reference '{ref_id}' already exists",
                        line=getattr(entry, "line", None), hint="choose another id")
    glue = "" if not old or old.endswith("\n") else "\n"
    entry = REF.format(id=ref_id)
    head = schema_line("references.schema.json", target, root) if not old else ""
    new = head + old + glue + ("\n" if old else "") + entry
    yamlio.load_yaml(new, REFERENCES_FILE)   # what is written must read back
    atomic_write(target, new.encode("utf-8"))
    say(args, f"added reference {ref_id} to {REFERENCES_FILE}")
    say(args, f"next: fill it in, grade it (custom.reliability, descriptor), delete 'graded: "
          f"false', and cite it as [@{ref_id}] or as a claim's evidence")
    return EXIT_OK


# --- audience -------------------------------------------------------------------------------

AUDIENCE = """\
{schema}# Audience '{name}': the settings of '{base}', overridden by any key below.
# Keys: title, description, page_size, base_font_size, clearance, sections, inline_grades,
# explain_grades, caveats, citations, citation_style, palette, chart, require_alt_text,
# discussion, formats, pdf_variant, pdf_tags, lang, online_url (README, "Audiences").
extends: {base}
title: {title}
"""
STYLE = """\
/* Audience '{name}': applied after the stylesheets of '{base}'. Override the custom
   properties (--accent, --ink, ...) or any rule: docs/styling.md lists them. */
"""


def run_audience(args: argparse.Namespace) -> int:
    from briefgen.paths import BUILTIN_AUDIENCES

    root = _root(args)
    name, base = args.name, args.extends
    if problem := _slug_problem(name, "an audience's name", f"styles/{name}/"):
        raise problem
    folder = root / "styles" / name
    if folder.exists():
        raise error(f"styles/{name}/", "already exists", hint="choose another name")
    own = sorted(p.name for p in (root / "styles").iterdir()
                 if (p / "audience.yaml").is_file()) if (root / "styles").is_dir() else []
    known = sorted({*BUILTIN_AUDIENCES, *own})
    if base not in known:
        raise error(f"styles/{name}/audience.yaml", f"no audience '{base}' to extend",
                    hint=did_you_mean(base, known, f"audiences: {', '.join(known)}"))
    yaml_path = folder / "audience.yaml"
    text = AUDIENCE.format(schema=schema_line("audience.schema.json", yaml_path, root),
                           name=name, base=base,
                           title=_quoted(name.replace("-", " ").capitalize()))
    _write_new(args, root, yaml_path, text)
    _write_new(args, root, folder / "style.css", STYLE.format(name=name, base=base))
    say(args, f"next: briefgen build --audience {name}")
    return EXIT_OK


__all__ = ["add", "add_claim", "next_claim_id", "schema_line", "slugify"]
