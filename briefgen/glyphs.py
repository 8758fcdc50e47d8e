"""Characters no font of the project can draw: a located warning instead of a silent gap.

briefgen's bundled fonts (Noto Serif and Noto Sans) cover Latin, Greek, Cyrillic and
Vietnamese, not Chinese, Japanese, Korean, Arabic and many more scripts. For a character
they lack, WeasyPrint asks the machine's font configuration for any font that has it: on one
machine the character prints, on another it is a blank box, and the PDF differs between
machines either way. A briefing on China will quote Chinese names, so `missing-glyph` says
which text holds such characters, where, and what to do.

A character counts as covered when every bundled font has it (a text may be set in any of
them), when both Noto CJK SC fonts have it and are installed (base.css names them after
briefgen's own in every font list: Debian's `fonts-noto-cjk`, which scripts/setup.sh
installs, covers Chinese, Japanese and Korean), or when a font file in an audience folder has
it (an audience that adds a font for a script with `@font-face`). The font tables are read
with fontTools, which WeasyPrint itself uses to subset fonts.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import unicodedata
from collections.abc import Container, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from briefgen import paths
from briefgen.errors import Collector
from briefgen.markup import _position
from briefgen.model import CONFIG_FILE, REFERENCES_FILE, Project
from briefgen.pack import most_restrictive

PUBLIC = "CLEAR"

FONT_TYPES = {".ttf", ".otf", ".woff", ".woff2"}
SHOWN = 8  # distinct characters named in one warning


# The system fonts base.css names after briefgen's own (serif and sans), by fontconfig family.
NAMED_SYSTEM_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


def _cmap(font: Path, index: int = 0) -> set[int]:
    from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

    try:
        return set(TTFont(font, lazy=True, fontNumber=index).getBestCmap() or {})
    except (TTLibError, OSError, ImportError, AssertionError):
        # A font fontTools cannot read (or WOFF2 without brotli): it covers nothing here.
        return set()


@lru_cache(maxsize=1)
def named_system_fonts() -> tuple[tuple[Path, int], ...]:
    """(file, index in its collection) of the regular face of each family in
    NAMED_SYSTEM_FAMILIES that fontconfig knows; empty when any is missing (a text may be set
    in either, so both must be there to count)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    found: list[tuple[Path, int]] = []
    for family in NAMED_SYSTEM_FAMILIES:
        try:
            out = subprocess.run([fc_list, "--format", "%{file}|%{index}|%{style}\n",
                                  f":family={family}"], capture_output=True, text=True,
                                 timeout=20, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return ()
        faces = [line.split("|") for line in out.splitlines() if line.count("|") == 2]
        regular = [f for f in faces if "Regular" in f[2]] or faces
        if not regular:
            return ()
        file, index, _ = sorted(regular)[0]
        found.append((Path(file), int(index) if index.isdigit() else 0))
    return tuple(found)


@lru_cache(maxsize=8)
def coverage(extra_fonts: tuple[tuple[Path, int, int], ...] = ()) -> frozenset[int]:
    """Code points every bundled font has, and those any of `extra_fonts` (path, modification
    time, size: an edited font is read again) has."""
    bundled = [_cmap(p) for p in sorted(paths.FONTS.iterdir()) if p.suffix.lower() in FONT_TYPES]
    covered = set.intersection(*bundled) if bundled else set()
    for font, _, _ in extra_fonts:
        covered |= _cmap(font)
    return frozenset(covered)


def _ranges(font: Path, index: int = 0) -> list[tuple[int, int]]:
    """The code point ranges a font maps, read straight from its cmap's format 12 subtable
    (Windows, full Unicode): a CJK font maps some 65,000 characters, and building fontTools'
    dict of them costs a quarter of a second that `check` need not spend. A font without such
    a subtable is read with fontTools."""
    import struct

    from fontTools.ttLib import TTFont, TTLibError

    try:
        data = TTFont(font, lazy=True, fontNumber=index).reader["cmap"]
        (count,) = struct.unpack_from(">H", data, 2)
        for record in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", data, 4 + 8 * record)
            if (platform, encoding) == (3, 10) and struct.unpack_from(">H", data, offset)[0] == 12:
                (groups,) = struct.unpack_from(">I", data, offset + 12)
                return sorted(struct.unpack_from(">II", data, offset + 16 + 12 * g)
                              for g in range(groups))
    except (TTLibError, OSError, KeyError, struct.error):
        return []
    return [(code, code) for code in sorted(_cmap(font, index))]


@lru_cache(maxsize=1)
def system_ranges() -> tuple[tuple[tuple[int, int], ...], ...]:
    """Each named system font's code point ranges (empty when they are not installed); read
    only when a text holds a character the bundled and audience fonts lack."""
    return tuple(tuple(_ranges(path, index)) for path, index in named_system_fonts())


def _in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    at = bisect.bisect_right(ranges, (code, 0x10FFFF + 1)) - 1
    return at >= 0 and ranges[at][0] <= code <= ranges[at][1]


class Covered:
    """What some font briefgen sets text in can draw: the bundled and audience fonts, then
    (looked up only when needed) both named system fonts (a text may be set in either)."""

    def __init__(self, base: frozenset[int]) -> None:
        self.base = base

    def __contains__(self, code: object) -> bool:
        if code in self.base:
            return True
        fonts = system_ranges()
        return isinstance(code, int) and bool(fonts) and all(
            _in_ranges(code, ranges) for ranges in fonts)


def audience_fonts(project: Project) -> tuple[tuple[Path, int, int], ...]:
    """Font files in the project's audience folders (what their `@font-face` rules can use)."""
    found = {path for audience in project.audiences.values() for layer in audience.layers
             for path in layer.rglob("*") if path.suffix.lower() in FONT_TYPES
             and path.is_file() and paths.inside(path, layer)}
    return tuple((path, (info := path.stat()).st_mtime_ns, info.st_size)
                 for path in sorted(found))


def uncovered(text: str, covered: Container[int]) -> Iterator[tuple[int, str]]:
    """(offset, character) of each visible character of `text` that `covered` lacks."""
    for offset, char in enumerate(text):
        if ord(char) < 0x80 or ord(char) in covered or char.isspace():
            continue
        if unicodedata.category(char)[0] in "CZ":  # controls, format marks, separators
            continue
        yield offset, char


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def lint_glyphs(project: Project, sink: Collector) -> None:
    covered = Covered(coverage(audience_fonts(project)))

    def report(file: str, line: int | None, column: int | None, chars: Iterable[str],
               handling: str) -> None:
        distinct = list(dict.fromkeys(chars))
        if not distinct:
            return
        shown = "".join(distinct[:SHOWN]) + ("..." if len(distinct) > SHOWN else "")
        codes = " ".join(f"U+{ord(c):04X}" for c in distinct[:SHOWN])
        what = f"'{shown}' ({codes})"
        sink.add(file, f"no bundled font has {what}: it prints only where the machine building "
                 "the PDF has a font for it, and the PDF then differs from machine to machine",
                 line=line, column=column, severity="warning",
                 hint="for Chinese, Japanese or Korean install Noto CJK (Debian: apt-get "
                 "install fonts-noto-cjk, as scripts/setup.sh does); otherwise add a font that "
                 "covers it to the audience (a font file in its folder and an @font-face rule "
                 "in its style.css), or write it another way", code="missing-glyph",
                 handling=handling)

    def fields(file: str, line: int | None, value: object, handling: str = PUBLIC) -> None:
        report(file, line, None, (c for text in _strings(value)
                                  for _, c in uncovered(text, covered)), handling)

    def body(file: str, first_line: int, text: str, handling: str) -> None:
        by_line: dict[int, tuple[int, list[str]]] = {}
        for offset, char in uncovered(text, covered):
            line, column = _position(text, offset)
            by_line.setdefault(line, (column, []))[1].append(char)
        for line, (column, chars) in by_line.items():
            report(file, first_line + line - 1, column, chars, handling)

    # What the packs print: PDF metadata (keywords) and a reference's `note` (exports and
    # embedded files only) may hold any character.
    fields(CONFIG_FILE, None, project.config.model_dump(mode="json", exclude={"keywords"}),
           project.config.handling)
    for ref_id, ref in project.references.items():
        printed = [*(a.display() for a in ref.author or ()), ref.title, ref.original_title,
                   ref.container_title,
                   ref.publisher, ref.publisher_place, ref.number, ref.URL, ref.DOI,
                   *(str(v) for v in (ref.volume, ref.issue, ref.page) if v),
                   ref.custom.descriptor, ref.custom.copy_of]
        fields(REFERENCES_FILE, project.reference_lines.get(ref_id),
               [text for text in printed if text], ref.custom.tlp)
    for area in project.areas:
        fields(area.display, None, area.meta.model_dump(mode="json"), area.handling)
        body(area.display, area.scope_line, area.scope, area.handling)
        for note in area.notes:
            handling = note.handling
            fields(note.display, None, note.meta.model_dump(mode="json", exclude={"claims"}),
                   handling)
            body(note.display, note.body_line, note.body, handling)
            for claim in note.claims:
                fields(claim.location.file, claim.location.line,
                       claim.spec.model_dump(mode="json"),
                       most_restrictive(handling, claim.spec.handling))
