"""Discover and load a project: config, audiences, references, areas and notes.

Loading collects every problem it can find (not just the first) and raises one
BriefgenError listing them, each as `file:line: message` with a hint.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from briefgen import i18n, images, paths, quotes
from briefgen.errors import BriefgenError, Collector, Diagnostic, Location
from briefgen.lint import lint
from briefgen.markup import find_markers
from briefgen.model import CONFIG_FILE, REFERENCES_FILE, Area, Audience, Claim, Note, Project
from briefgen.pack import most_restrictive
from briefgen.schema import (
    TLP_ORDER,
    AreaMeta,
    AudienceConfig,
    NoteMeta,
    ProjectConfig,
    Reference,
    normalise_tlp,
    validate,
)
from briefgen.suggest import closest, did_you_mean
from briefgen.yamlio import (
    FrontMatterDoc,
    LocDict,
    LocList,
    load_yaml_file,
    read_text,
    split_front_matter,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LINK_HINT = ("copy the file here, or move it; briefgen reads only plain files of the project "
             "(no links), so each text has the handling of the folder it really lives in")
COPIES = "copies"  # sources/copies/: local text copies of sources (custom: {copy:}), not an area


def load_project(root: Path) -> Project:
    root = root.resolve()
    sink = Collector()
    files: list[Path] = []
    levels = HandlingMap()

    def read_yaml(path: Path) -> object:
        files.append(path)
        problem = paths.link_problem(path, root) if path.exists() or path.is_symlink() else ""
        if problem:
            sink.add(paths.shown(path, root), problem, hint=LINK_HINT, code="link")
            return None
        try:
            return load_yaml_file(path, paths.shown(path, root))
        except BriefgenError as exc:
            sink.extend(exc)
            return None

    try:
        return _load(root, sink, files, levels, read_yaml)
    except BriefgenError as exc:
        raise BriefgenError(levels.classify(exc.diagnostics)) from None


def _load(root: Path, sink: Collector, files: list[Path], levels: HandlingMap,
          read_yaml: YamlReader) -> Project:
    _check_names(root, sink)
    raw_config = read_yaml(root / CONFIG_FILE)
    floor = _raw_level("CLEAR", _raw_get(raw_config, "handling"))
    levels.files[CONFIG_FILE] = floor
    config = validate(ProjectConfig, raw_config, CONFIG_FILE, sink) if raw_config is not None \
        else None
    audiences = _load_audiences(root, sink, read_yaml)
    levels.files[REFERENCES_FILE] = floor
    references, ref_lines = _load_references(root, sink, read_yaml, levels)
    areas = _load_areas(root, sink, files, levels, floor)
    sink.raise_if_errors()
    assert config is not None
    _check_lang(config.lang, CONFIG_FILE, _key_line(raw_config, "lang"), sink)
    if config.default_audience not in audiences:
        known = ", ".join(sorted(audiences)) or "none"
        sink.add(CONFIG_FILE, f"default_audience '{config.default_audience}' has no folder "
                 f"styles/{config.default_audience}/",
                 line=_key_line(raw_config, "default_audience"), hint=f"audiences found: {known}")
    project = Project(root, config, references, ref_lines, tuple(areas), audiences, tuple(files),
                      handling_map=levels)
    sink.push_all(cross_check(project))
    _check_audience_files(root, audiences, sink)
    sink.push_all(quotes.check(project))
    sink.raise_if_errors()
    sink.push_all(lint(project))
    ignored = set(config.lint.ignore)
    return replace(project, warnings=tuple(levels.classify(
        d for d in sink.diagnostics if d.code not in ignored)))


def audience_file_problems(root: Path, folder: Path) -> tuple[Diagnostic, ...]:
    """Every file of a project's audience folder must be a plain file of the project: no
    symbolic or hard links, pipes or devices (a template or stylesheet linked to a note would
    print or serve it). A problem fails that audience's packs only (`check` reports it)."""
    sink = Collector()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted([*filenames, *(d for d in dirnames
                                          if os.path.islink(os.path.join(dirpath, d)))]):
            path = Path(dirpath) / name
            problem = paths.link_problem(path, root)
            if problem and not name.startswith("."):
                sink.add(paths.shown(path, root), problem, hint=LINK_HINT, code="link")
    return tuple(sink.diagnostics)


def _check_audience_files(root: Path, audiences: dict[str, Audience], sink: Collector) -> None:
    """CSS syntax warnings for the project's own stylesheets (briefgen's are tested)."""
    from briefgen.css import check_stylesheet

    for audience in audiences.values():
        for path in (audience.directory / "style.css",
                     audience.directory / "templates" / "base.css"):
            if path.is_file() and not paths.link_problem(path, root):
                display = paths.shown(path, root)
                try:
                    check_stylesheet(read_text(path, display), display, sink)
                except BriefgenError as exc:
                    sink.extend(exc)


def unsafe_name(name: str) -> bool:
    """A file name with control or format characters (bidi overrides such as U+202E, zero
    widths, newlines): shown in attachment lists, messages and the preview, it could make one
    file look like another."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)


def _check_names(root: Path, sink: Collector) -> None:
    for top in ("sources", "styles"):
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in [*dirnames, *filenames]:
                if unsafe_name(name) and not name.startswith("."):
                    shown = "".join(f"\\u{ord(c):04x}" if unsafe_name(c) else c for c in
                                    (Path(dirpath) / name).relative_to(root).as_posix())
                    sink.add(shown,
                             "file name contains control or bidirectional-format characters",
                             hint="rename it using visible characters only", code="file-name",
                             handling="CLEAR")  # quotes nothing but the (escaped) name


def _key_line(data: object, key: str) -> int | None:
    if isinstance(data, LocDict):
        return data.key_lines.get(key, data.line)
    return None


YamlReader = Callable[[Path], object]


@dataclass
class HandlingMap:
    """The handling of every place in the project a diagnostic can point at, filled in as
    the loader reads each file: a note's file has the note's handling, `_area.md` the area's,
    each entry of the bibliography its reference's (by line), briefgen.yaml the project's.
    It is read from the raw front matter too, so a file whose front matter fails validation
    still has one (an unreadable marking counts as TLP:RED). Nothing here is content: it
    holds file names and levels, for `classify`."""

    files: dict[str, str] = field(default_factory=dict)
    entries: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def of(self, location: Location) -> str | None:
        level = self.files.get(location.file)
        for first, entry_level in self.entries.get(location.file, ()):
            if location.line is not None and first <= location.line:
                level = entry_level
        return level

    def classify(self, diagnostics: Iterable[Diagnostic],
                 fallback: str | None = None) -> list[Diagnostic]:
        """Each diagnostic with the handling of the place it points at (one that already
        has a handling, because it quotes something stricter, keeps it); `fallback` for a
        place the map does not know (a pack's own failure: the pack's marking)."""
        return [d if d.handling is not None else
                replace(d, handling=self.of(d.location) or fallback) for d in diagnostics]


def _raw_level(floor: str, *values: object) -> str:
    """The strictest of `floor` and the markings written in `values` (None: not written),
    read before validation; a marking that is not a TLP level counts as TLP:RED."""
    levels = [floor]
    for value in values:
        if value is None:
            continue
        level = normalise_tlp(value)
        if not isinstance(level, str) or level not in TLP_ORDER:
            return "RED"
        levels.append(level)
    return most_restrictive(*levels)


def _raw_get(data: object, *keys: str) -> object:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _load_audiences(root: Path, sink: Collector, read_yaml: YamlReader) -> dict[str, Audience]:
    audiences: dict[str, Audience] = {}
    raws: RawAudiences = {}
    styles = root / "styles"
    if not styles.is_dir():
        sink.add("styles/", "no styles/ folder",
                 hint="each audience is a folder styles/<name>/ with audience.yaml and style.css")
        return audiences
    for folder in sorted(p for p in styles.iterdir() if p.is_dir()):
        display = paths.shown(folder / "audience.yaml", root)
        if not SLUG.match(folder.name):
            sink.add(paths.shown(folder, root), "audience folder names use a-z, 0-9, '-' and '_'")
            continue
        if not (folder / "audience.yaml").is_file():
            sink.add(display, "audience folder without audience.yaml",
                     hint="add audience.yaml (title, page_size, clearance ...)")
            continue
        raw = read_yaml(folder / "audience.yaml")
        if raw is not None:
            raws[folder.name] = (display, folder, raw)
    resolved: dict[str, tuple[object, tuple[Path, ...]] | None] = {}
    for name in raws:
        found = _resolve_audience(name, raws, resolved, (), sink)
        if found is None:
            continue
        display, folder, _ = raws[name]
        cfg = validate(AudienceConfig, found[0], display, sink)
        if cfg is not None and cfg.lang is not None:
            _check_lang(cfg.lang, display, _key_line(found[0], "lang"), sink)
        if cfg is not None:
            audiences[name] = Audience(name, folder, cfg, found[1])
    return audiences


def _check_lang(tag: str, file: str, line: int | None, sink: Collector) -> None:
    """A `lang` no shipped catalog serves: a located error naming the ones that are."""
    if i18n.catalog_for(tag) is None:
        sink.add(file, f"lang '{tag}': briefgen has no catalog for this language", line=line,
                 hint=f"use one of {i18n.shipped_list()} (a region is fine: en-GB, fr-CA, "
                 "zh-CN), or add a catalog (README, 'Adding a language')")


RawAudiences = dict[str, tuple[str, Path, object]]


def _resolve_audience(name: str, raws: RawAudiences,
                      resolved: dict[str, tuple[object, tuple[Path, ...]] | None],
                      chain: tuple[str, ...], sink: Collector
                      ) -> tuple[object, tuple[Path, ...]] | None:
    """An audience's settings merged over those of the audiences it extends, and the folders
    of those audiences, most general first; None when the chain is broken (reported).

    `extends:` names an audience, never a path: the project's own audience of that name (one
    of the folders listed in styles/), else a built-in one (a name from the list); nothing
    else is ever joined to a folder. An audience that extends its own name (styles/analyst
    with `extends: analyst`) extends the built-in one."""
    if name in resolved:
        return resolved[name]
    display, _, raw = raws[name]
    parent = raw.get("extends") if isinstance(raw, LocDict) else None
    result: tuple[object, tuple[Path, ...]] | None = (raw, ())
    if isinstance(parent, str) and parent in raws and parent != name:
        assert isinstance(raw, LocDict)
        if parent in chain:
            cycle = [*chain[chain.index(parent):], name, parent]
            sink.add(display, "audiences extend each other in a cycle: "
                     + " -> ".join(cycle), line=raw.key_lines.get("extends", raw.line),
                     hint="remove 'extends:' from one of them, or extend a built-in audience")
            result = None
        else:
            base = _resolve_audience(parent, raws, resolved, (*chain, name), sink)
            if base is None:
                result = None
            elif isinstance(base[0], LocDict):
                result = (_extend(raw, base[0]), (*base[1], raws[parent][1]))
    elif isinstance(parent, str) and parent in paths.BUILTIN_AUDIENCES:
        assert isinstance(raw, LocDict)
        base_dir = paths.AUDIENCES / parent
        result = (_extend(raw, load_yaml_file(base_dir / "audience.yaml", str(base_dir))),
                  (base_dir,))
    elif parent is not None and isinstance(raw, LocDict):
        known = sorted({*paths.BUILTIN_AUDIENCES, *(n for n in raws if n != name)})
        sink.add(display, f"extends: no audience '{parent}'",
                 line=raw.key_lines.get("extends", raw.line),
                 hint=did_you_mean(str(parent), known, "audiences: " + ", ".join(known)))
        result = None
    resolved[name] = result
    return result


def _extend(own: LocDict, builtin: LocDict) -> LocDict:
    """The extended audience's settings, overridden key by key by the extending one's."""
    merged = LocDict({k: v for k, v in builtin.items() if k != "extends"})
    merged.update(own)
    merged.line, merged.key_lines = own.line, own.key_lines
    return merged


def _load_references(root: Path, sink: Collector, read_yaml: YamlReader,
                     levels: HandlingMap) -> tuple[dict[str, Reference], dict[str, int]]:
    references: dict[str, Reference] = {}
    lines: dict[str, int] = {}
    path = root / REFERENCES_FILE
    if not path.is_file():
        sink.add(REFERENCES_FILE, "missing bibliography",
                 hint="create it as a YAML list of CSL-YAML entries (may be empty: [])")
        return references, lines
    raw = read_yaml(path)
    if raw is None:
        return references, lines
    if not isinstance(raw, list):
        sink.add(REFERENCES_FILE, "must be a YAML list of references ('- id: ...')",
                 line=getattr(raw, "line", 1))
        return references, lines
    assert isinstance(raw, LocList)
    for index, item in enumerate(raw):
        line = raw.item_lines[index]
        levels.entries.setdefault(REFERENCES_FILE, []).append(
            (line, _raw_level("CLEAR", _raw_get(item, "custom", "tlp"))))
        sub = Collector()
        ref = validate(Reference, item, REFERENCES_FILE, sub, what=f"reference #{index + 1}")
        sink.push_all(sub.diagnostics)
        if ref is None:
            continue
        if ref.id in references:
            sink.add(REFERENCES_FILE, f"duplicate reference id '{ref.id}'", line=line,
                     hint=f"first defined on line {lines[ref.id]}; ids must be unique")
            continue
        references[ref.id] = ref
        lines[ref.id] = line
    for ref in references.values():
        parent = ref.custom.derived_from
        if parent and parent not in references:
            sink.add(REFERENCES_FILE, f"reference '{ref.id}': derived_from '{parent}' is not a "
                     "known reference", line=lines[ref.id])
    for ref in references.values():
        seen, current = {ref.id}, ref.custom.derived_from
        while current and current in references:
            if current in seen:
                sink.add(REFERENCES_FILE, f"reference '{ref.id}': derived_from forms a cycle",
                         line=lines[ref.id])
                break
            seen.add(current)
            current = references[current].custom.derived_from
    return references, lines


def _load_areas(root: Path, sink: Collector, files: list[Path], levels: HandlingMap,
                floor: str) -> list[Area]:
    sources = root / "sources"
    areas: list[Area] = []
    if not sources.is_dir():
        sink.add("sources/", "no sources/ folder", hint="create sources/<area>/_area.md")
        return areas
    for folder in sorted(p for p in sources.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")) or folder.name == COPIES:
            continue  # _images/, copies/ (sources' texts for quotes) and the like: not areas
        display_area = paths.shown(folder / "_area.md", root)
        if not SLUG.match(folder.name):
            sink.add(paths.shown(folder, root), "area folder names use a-z, 0-9, '-' and '_'",
                     hint="rename the folder; the name becomes the PDF's file name")
            continue
        if folder.is_symlink():
            sink.add(paths.shown(folder, root), "area folder is a symbolic link",
                     hint=LINK_HINT, code="link")
            continue
        if not (folder / "_area.md").is_file():
            sink.add(display_area, "area folder without _area.md",
                     hint="add _area.md with front matter (title, order, key_judgments)")
            continue
        area = _load_area(root, folder, sink, files, levels, floor)
        if area is not None:
            areas.append(area)
    areas.sort(key=lambda a: (a.meta.order, a.slug))
    return areas


def _read_doc(root: Path, path: Path, sink: Collector,
              files: list[Path]) -> FrontMatterDoc | None:
    display = paths.shown(path, root)
    problem = paths.link_problem(path, root)
    if problem:
        sink.add(display, problem, code="link", hint=LINK_HINT if "link" in problem else
                 "notes must be ordinary text files, not folders, pipes or devices")
        return None
    files.append(path)
    try:
        return split_front_matter(read_text(path, display), display)
    except BriefgenError as exc:
        sink.extend(exc)
        return None


def _load_area(root: Path, folder: Path, sink: Collector, files: list[Path],
               levels: HandlingMap, floor: str) -> Area | None:
    display = paths.shown(folder / "_area.md", root)
    levels.files[display] = floor  # until its front matter is read: where it lives
    doc = _read_doc(root, folder / "_area.md", sink, files)
    handling = _raw_level(floor, _raw_get(doc.meta if doc else None, "handling"))
    levels.files[display] = handling
    meta = validate(AreaMeta, doc.meta, display, sink) if doc else None
    notes: list[Note] = []
    for path in sorted(folder.glob("*.md")):
        if path.name == "_area.md" or path.name.startswith("."):
            continue
        note = _load_note(root, folder.name, path, sink, files, levels, handling)
        if note is not None:
            notes.append(note)
    if meta is None or doc is None:
        return None
    notes.sort(key=lambda n: (n.meta.order, n.slug))
    return Area(folder.name, display, meta, doc.body, doc.body_line,
                tuple(notes), images.locate_all(root, display, doc.body), handling)


def _load_note(root: Path, area: str, path: Path, sink: Collector,
               files: list[Path], levels: HandlingMap, floor: str) -> Note | None:
    display = paths.shown(path, root)
    levels.files[display] = floor  # until its front matter is read: where it lives
    doc = _read_doc(root, path, sink, files)
    if doc is None:
        return None
    raw_claims = doc.meta.get("claims")
    levels.files[display] = _raw_level(
        floor, doc.meta.get("handling"),
        *(_raw_get(c, "handling") for c in (raw_claims if isinstance(raw_claims, list) else ())))
    meta = validate(NoteMeta, doc.meta, display, sink)
    if meta is None:
        return None
    claims = []
    for index, spec in enumerate(meta.claims):
        line = raw_claims.item_lines[index] if isinstance(raw_claims, LocList) else doc.meta.line
        raw = raw_claims[index] if isinstance(raw_claims, LocList) else None
        claims.append(Claim(spec, area, path.stem, Location(display, line),
                            _quote_lines(raw, len(spec.evidence), line)))
    handling = most_restrictive(floor, meta.handling, *(c.spec.handling for c in claims))
    return Note(path.stem, display, meta, doc.body, doc.body_line, tuple(claims),
                images.locate_all(root, display, doc.body), handling)


def _quote_lines(raw: object, count: int, fallback: int) -> tuple[int, ...]:
    """The line of each evidence entry's `quote:` key (or of the entry) of one raw claim."""
    evidence = raw.get("evidence") if isinstance(raw, LocDict) else None
    if not isinstance(evidence, LocList):
        return (fallback,) * count
    lines = []
    for index in range(count):
        item = evidence[index] if index < len(evidence) else None
        line = evidence.item_lines[index] if index < len(evidence) else fallback
        if isinstance(item, LocDict):
            line = item.key_lines.get("quote", line)
        lines.append(line)
    return tuple(lines)


def cross_check(project: Project) -> list[Diagnostic]:
    """Errors across files: unique ids, known references, markers that resolve."""
    sink = Collector()
    seen: dict[str, Location] = {}
    ref_levels: dict[str, str] = {r.id: r.custom.tlp for r in project.references.values()}
    claim_levels = {c.id: note.handling for area in project.areas for note in area.notes
                    for c in note.claims}

    def unknown(display: str, message: str, wrong: str, levels: dict[str, str], hint: str,
                code: str, line: int | None = None, column: int | None = None) -> None:
        """An unknown id, with "did you mean" the closest known one that is handled no
        stricter than the place of the mistake: whoever may read the message may read the
        id it suggests (a stricter id is never suggested, so the message stays readable)."""
        place = project.handling_map.of(Location(display, line)) if \
            project.handling_map else None
        base = place or ("RED" if display.startswith("sources/") else "CLEAR")
        match = closest(wrong, [i for i, level in levels.items()
                                if TLP_ORDER[level] <= TLP_ORDER[base]])
        if match is not None:
            hint = f"did you mean '{match}'? {hint}"
        sink.add(display, message, line=line, column=column, hint=hint, code=code)

    ref_hint = f"add it to {REFERENCES_FILE} or fix the id"
    for area in project.areas:
        for item in area.meta.further_reading:
            if item.ref not in project.references:
                unknown(area.display, f"further_reading: unknown reference '{item.ref}'",
                        item.ref, ref_levels, ref_hint, "unknown-reference")
        for kj in area.meta.key_judgments:
            if kj.id in seen:
                sink.add(area.display, f"duplicate id '{kj.id}'", code="duplicate-id",
                         hint=f"also defined at {seen[kj.id]}")
            seen.setdefault(kj.id, Location(area.display, None))
        for claim in area.claims:
            if claim.id in seen:
                sink.add(claim.location.file, f"duplicate claim id '{claim.id}'",
                         line=claim.location.line, hint=f"first defined at {seen[claim.id]}",
                         code="duplicate-id")
                continue
            seen[claim.id] = claim.location
            for evidence in claim.spec.evidence:
                if evidence.ref not in project.references:
                    unknown(claim.location.file, f"claim '{claim.id}': unknown reference "
                            f"'{evidence.ref}'", evidence.ref, ref_levels, ref_hint,
                            "unknown-reference", line=claim.location.line)
            if claim.spec.kind == "information" and (claim.spec.likelihood or
                                                     claim.spec.confidence):
                sink.add(claim.location.file, f"claim '{claim.id}': likelihood and confidence "
                         "belong to judgments", line=claim.location.line,
                         hint="set kind: judgment, or remove likelihood/confidence",
                         code="likelihood-on-fact")
    sink.push_all(handling_errors(project))
    for area in project.areas:
        for display, first_line, image, found in area.images():
            if found.path is None:
                sink.add(display, found.problem, line=first_line + image.line - 1,
                         column=image.column, hint=found.hint, code="image")
    for area in project.areas:
        own = {c.id for c in area.claims}
        for display, text, first_line in area.texts():
            for marker in find_markers(text):
                line = first_line + marker.line - 1
                if marker.kind == "claim" and marker.target not in own:
                    hint = ("that claim belongs to another area; packs only reference their "
                            "own claims") if marker.target in seen else (
                        "define it under 'claims:' in a note of this area, or fix the id")
                    candidates = {} if marker.target in seen else {
                        i: h for i, h in claim_levels.items() if i in own}
                    unknown(display, f"unknown claim '{marker.target}' in [[...]] marker",
                            marker.target, candidates, hint, "unknown-claim", line=line,
                            column=marker.column)
                elif marker.kind == "cite" and marker.target not in project.references:
                    unknown(display, f"unknown reference '{marker.target}' in citation",
                            marker.target, ref_levels, ref_hint, "unknown-reference",
                            line=line, column=marker.column)
    return sink.diagnostics


def _withheld_mention(ids: dict[str, str]) -> re.Pattern[str] | None:
    """Mentions of the given ids, of any shape, in any text: as whole words (case-sensitive),
    also when joined to a prefix by a hyphen, as in the link anchors `#claim-RED-01` and
    `#ref-red-source`. An id that is an ordinary word (`law`) matches that word too: give
    restricted material ids that are not (README, "Handling")."""
    words = sorted(ids, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, words)) + r")(?![\w-])")


def handling_errors(project: Project) -> list[Diagnostic]:
    """A text may not mention a claim or a reference marked above its own handling.

    A reader cleared for the text would otherwise learn of something withheld from them: an
    id, a locator, a title in the citation, a status marker. Claim markers, citations and
    plain mentions of an id in prose (a key judgment's basis, a rationale) all count. The
    evidence list of a claim is not a mention: the pack drops the entries its audience may
    not see and grades the claim from the rest.
    """
    sink = Collector()
    handling: dict[str, str] = {}
    for area in project.areas:
        for note in area.notes:
            for claim in note.claims:
                handling[claim.id] = note.handling
    handling.update({r.id: r.custom.tlp for r in project.references.values()})
    texts = [text for area in project.areas for text in _handled_texts(area)]
    texts += [(REFERENCES_FILE, ref.custom.tlp, "\n".join(_printed_fields(ref)),
               project.reference_lines.get(ref.id), True)
              for ref in project.references.values()]
    for display, label, text, first, exact in texts:
        above = {i: h for i, h in handling.items() if TLP_ORDER[h] > TLP_ORDER[label]}
        if not above:
            continue
        found: set[tuple[int, str]] = set()
        for marker in find_markers(text):
            if marker.target in above:
                found.add((marker.line, marker.target))
        pattern = _withheld_mention(above)
        for match in pattern.finditer(text) if pattern else ():
            found.add((text.count("\n", 0, match.start()) + 1, match.group(1)))
        for line, ident in sorted(found):
            what = "reference" if ident in project.references else "claim"
            sink.add(display, f"mentions {what} '{ident}' (TLP:{above[ident]}) in text "
                     f"handled as TLP:{label}: readers cleared for TLP:{label} may not "
                     f"see it", line=first if exact or first is None else first + line - 1,
                     code="withheld-mention",
                     hint=f"remove the mention, or mark this text TLP:{above[ident]} "
                          "(handling: in the front matter)")
    return sink.diagnostics


def _printed_fields(ref: Reference) -> list[str]:
    """The texts of a reference that a pack or an export prints (names are content too)."""
    return [t for t in (ref.title, ref.original_title, ref.container_title, ref.publisher,
                        ref.URL, ref.DOI,
                        ref.note, ref.custom.descriptor) if t]


def _handled_texts(area: Area) -> Iterator[tuple[str, str, str, int | None, bool]]:
    """(file, handling, text, line, exact) of everything a pack prints from an area: `line`
    is the text's first line, or (`exact`) the line to name for any mention in it."""
    meta = area.meta
    label = area.handling
    yield area.display, label, area.scope, area.scope_line, False
    front = [meta.title, meta.summary, meta.source_summary]
    front += [t for kj in meta.key_judgments for t in (kj.text, kj.basis)]
    front += [t for item in meta.editorial for t in (item.excerpt, item.reason)]
    front += [*meta.questions, *(item.reason for item in meta.further_reading)]
    yield area.display, label, "\n".join(front), None, True
    for note in area.notes:
        note_label = note.handling
        yield note.display, note_label, note.body, note.body_line, False
        yield note.display, note_label, note.meta.title, None, True
        for claim in note.claims:
            spec = claim.spec
            prose = [spec.text, spec.rationale, *(e.note for e in spec.evidence),
                     *(e.locator for e in spec.evidence)]
            yield claim.location.file, note_label, "\n".join(prose), claim.location.line, True
