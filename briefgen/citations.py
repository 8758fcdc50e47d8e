"""Citation styles: bibliography entries, in-text citations and footnotes formatted by a CSL
style through citeproc-py.

An audience names a style with `citation_style:` in its audience.yaml: one of the styles
shipped in `briefgen/csl/` (from the official CSL styles repository, CC BY-SA 3.0, their
licence text kept in each file) or a `.csl` file of the project, read as any project file
(inside the project, no links: `paths.link_problem`, `yamlio.read_text`). Without one, the
pack keeps briefgen's own entries and numbered citations (`render.reference_entry`).

Only a confined pack's references are ever handed to citeproc: a withheld reference cannot
be formatted because it is not there.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from briefgen import paths, yamlio
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.model import Audience
from briefgen.schema import SHIPPED_STYLES, Reference

CSL_DIR = Path(__file__).parent / "csl"
SHIPPED = SHIPPED_STYLES
# A locator's own label (`p. 4`, `paras. 2-3`) as a CSL label, so no style prints "p. p. 4";
# any other locator (`art. 1`, `Annex B`) follows the citation as written.
LABEL = re.compile(r"^(pp|p|paras|para|ch|sec|§|fig|n|vol|l)\.?\s*(\d.*)$", re.IGNORECASE)
LABELS = {"pp": "page", "p": "page", "paras": "paragraph", "para": "paragraph", "ch": "chapter",
          "sec": "section", "§": "section", "fig": "figure", "n": "note", "vol": "volume",
          "l": "line"}
ALLOWED_TAGS = {"i", "b", "span", "sup", "sub"}
URL = re.compile(r"(https?://[^\s<]*[^\s<.,;)])")


def style_text(name: str, root: Path, display: str) -> str:
    """The XML of the style an audience names: shipped by name, or a project `.csl` file."""
    if name in SHIPPED:
        return (CSL_DIR / f"{name}.csl").read_text(encoding="utf-8")
    if not name.endswith(".csl"):
        raise BriefgenError(Diagnostic(
            Location(display), f"citation_style: '{name}' is neither a shipped style nor a "
            ".csl file", f"use one of {', '.join(SHIPPED)}, or the path of a .csl file inside "
            "the project, like styles/my-style.csl"))
    path = root / name
    problem = ("it is outside the project" if not paths.inside(path, root)
               else paths.link_problem(path, root))
    if problem:
        raise BriefgenError(Diagnostic(Location(display), f"citation_style: '{name}': {problem}",
                                       "name a plain .csl file inside the project"))
    text = yamlio.read_text(path, name)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise BriefgenError(Diagnostic(Location(name), "a CSL style may not declare a DOCTYPE "
                                       "or entities", "remove the <!DOCTYPE ...> declaration"))
    return text


def style_problems(root: Path, audience: Audience) -> list[Diagnostic]:
    """What the build would refuse in an audience's `citation_style` (a missing, linked or
    malformed project .csl file), for `check`; a problem fails that audience's packs only."""
    name = audience.config.citation_style
    if name is None or name in SHIPPED:
        return []
    try:
        display = (audience.directory / "audience.yaml").relative_to(root).as_posix()
    except ValueError:
        display = f"audience '{audience.name}'"
    try:
        _style(style_text(name, root, display), name)
    except BriefgenError as exc:
        return list(exc.diagnostics)
    return []


def _labels_only_with_their_variable() -> None:
    """citeproc-py 0.11 prints a `cs:label` even when its variable is empty (Chicago's
    "Edition" after every newspaper article); CSL 1.0.2 says a label is printed only with
    its variable. Wrap `Label.process` once to follow the specification."""
    from citeproc.model import Label

    if getattr(Label, "briefgen_fixed", False):
        return
    original = Label.process

    def process(self: Any, item: Any, variable: str | None = None,  # noqa: ANN401
                *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        name = variable or self.get("variable")
        if name and name != "locator" and name.replace("-", "_") not in item.reference \
                and name not in item.reference:
            return None
        return original(self, item, variable, *args, **kwargs)

    Label.process = process
    Label.briefgen_fixed = True


def _style(text: str, name: str) -> Any:  # noqa: ANN401
    from citeproc import CitationStylesStyle
    from lxml import etree

    _labels_only_with_their_variable()

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        etree.fromstring(text.encode("utf-8"), parser)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CitationStylesStyle(io.BytesIO(text.encode("utf-8")), validate=False)
    except Exception as exc:  # noqa: BLE001 - lxml and citeproc raise many kinds
        raise BriefgenError(Diagnostic(Location(name), f"not a CSL style: {exc}",
                                       "use a style from the CSL styles repository")) from None


def _clean(html: str) -> Markup:
    import nh3

    clean = nh3.clean(str(html), tags=ALLOWED_TAGS, attributes={})
    # Addresses as in briefgen's own entries: smaller, and broken anywhere at the margin.
    return Markup(URL.sub(r'<span class="url">\1</span>', clean))


PUBLIC_LAW = re.compile(r"^\d+[-–]\d+$")


def csl_item(ref: Reference, key: str) -> dict[str, object]:
    """A reference as CSL-JSON for citeproc (the grading in `custom` left out)."""
    data = ref.model_dump(by_alias=True, exclude={"custom", "original_title"}, exclude_none=True)
    data = _escaped(data)  # citeproc's HTML formatter writes the text as it is given
    data["id"] = key
    issued = data.get("issued")
    if isinstance(issued, dict) and str(issued.get("literal", "")).lower() in ("n.d.", "n.d"):
        del data["issued"]  # the style prints its own "n.d."
    for name in ("author", "editor"):
        if not data.get(name):
            data.pop(name, None)
    for name in ("volume", "issue", "page"):
        if name in data:
            data[name] = str(data[name])
    number = str(data.get("number", ""))
    if data.get("type") == "legislation" and number and not PUBLIC_LAW.match(number):
        # CSL styles print a statute's number as a US public law ("Pub. L. No. 114-94"): a
        # number of another form ("Order of the President No. 40") goes after the title,
        # as such laws are cited, instead of reading "Pub. L. No. Order of the President".
        del data["number"]
        data["title"] = f"{data.get('title', '')} ({number})"
    return data


def locator_args(locator: str) -> dict[str, object]:
    """CitationItem's arguments for a locator as briefgen's authors write it."""
    from citeproc.source import Locator

    text = locator.strip()
    if not text:
        return {}
    if text.isdigit() or text.replace("-", "").replace("–", "").isdigit():
        return {"locator": Locator("page", text)}
    if found := LABEL.match(text):
        return {"locator": Locator(LABELS[found[1].lower()], found[2])}
    return {"suffix": f", {text}"}


def _escaped(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


@dataclass
class Styled:
    """One pack's references formatted by one style: `entries` in the pack's order (of first
    citation), numbered as everywhere else in the pack (the caveats cite `[n]`)."""

    note_style: bool
    entries: dict[str, Markup] = field(default_factory=dict)
    _bib: Any = None
    _keys: dict[str, str] = field(default_factory=dict)

    def cite(self, items: list[tuple[str, str]]) -> Markup:
        """One citation of one or more (reference id, locator) pairs."""
        from citeproc import Citation, CitationItem

        citation = Citation([CitationItem(self._keys[ref_id], **locator_args(loc))
                             for ref_id, loc in items])
        self._bib.register(citation)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _clean(self._bib.cite(citation, lambda _item: None))


def format_references(style_xml: str, name: str,
                      references: dict[str, Reference]) -> Styled:
    """Format `references` (a confined pack's, in order of first citation) with the style."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    style = _style(style_xml, name)
    keys = {ref_id: f"r{i}" for i, ref_id in enumerate(references)}  # citeproc lowercases ids
    source = CiteProcJSON([csl_item(ref, keys[ref_id]) for ref_id, ref in references.items()])
    bib = CitationStylesBibliography(style, source, formatter.html)
    for ref_id in references:
        bib.register(Citation([CitationItem(keys[ref_id])]))
    by_key = {key: ref_id for ref_id, key in keys.items()}
    styled = Styled(note_style=style.root.get("class") == "note", _bib=bib, _keys=keys)
    with warnings.catch_warnings():  # in the pack's order: the caveats cite entries by number
        warnings.simplefilter("ignore")
        for item in list(bib.items):  # one at a time: an entry the style leaves out is kept
            entry = style.render_bibliography([item])
            if not entry:  # Chicago omits unpublished documents: print them as a note would
                alone = CitationStylesBibliography(style, source, formatter.html)
                citation = Citation([CitationItem(item.key)])
                alone.register(citation)
                entry = [alone.cite(citation, lambda _item: None)]
            styled.entries[by_key[item.key]] = _clean(str(entry[0]))
    return styled
