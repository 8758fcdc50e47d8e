"""Pack -> one HTML string, through Jinja templates that an audience may override file by file.

Templates come from `styles/<audience>/templates/` first, then the package's own
(a ChoiceLoader, as MkDocs themes do). Autoescape is on; note text is passed in as data
(already-sanitised HTML from markup.render) and never compiled as a template.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from briefgen import __version__, markup
from briefgen.chart import claims_chart
from briefgen.claims import (
    CREDIBILITY_WORDS,
    LIKELIHOOD_SCALE,
    RELIABILITY_WORDS,
    Status,
)
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.pack import Pack, missing_alt_text
from briefgen.schema import Reference

PACKAGE_TEMPLATES = Path(str(files("briefgen") / "templates"))
TLP_COLOURS = {  # FIRST TLP 2.0 / CISA colours, shown on black
    "CLEAR": "#FFFFFF", "GREEN": "#33FF00", "AMBER": "#FFC000", "AMBER+STRICT": "#FFC000",
    "RED": "#FF0033",
}


def environment(layers: list[Path]) -> jinja2.Environment:
    """Templates from the most specific audience layer first, then the package's own."""
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(layer / "templates") for layer in reversed(layers)
        if (layer / "templates").is_dir()]
    loaders.append(jinja2.FileSystemLoader(PACKAGE_TEMPLATES))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["reference_entry"] = reference_entry
    return env


def reference_entry(ref: Reference) -> Markup:
    """A bibliography entry: authors, title, publisher, date, number, URL."""
    parts: list[Markup] = []
    if ref.author:
        parts.append(escape("; ".join(a.display() for a in ref.author)) + Markup("."))
    parts.append(Markup("<cite>") + escape(ref.title) + Markup("</cite>."))
    tail = [x for x in (ref.container_title, ref.publisher, ref.publisher_place) if x]
    if ref.number:
        tail.append(ref.number)
    if ref.issued:
        tail.append(ref.issued.display())
    if tail:
        parts.append(escape(", ".join(tail)) + Markup("."))
    if ref.URL:
        parts.append(Markup('<span class="url">') + escape(ref.URL) + Markup("</span>"))
    if ref.accessed:
        parts.append(escape(f"(accessed {ref.accessed.display()})"))
    return Markup(" ").join(parts)


class PackRenderer:
    """Renders a pack's Markdown with markers bound to that pack's claims and citations."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.uses: dict[str, list[str]] = {}   # claim id -> anchor ids of its markers

    def claim_marker(self, claim_id: str) -> str:
        grading = self.pack.gradings.get(claim_id)
        if grading is None:  # a withheld claim: leave no trace
            return ""
        uses = self.uses.setdefault(claim_id, [])
        anchor = f"use-{claim_id}-{len(uses) + 1}"
        uses.append(anchor)
        grade = ""
        if self.pack.audience.config.inline_grades and grading.status not in (
                Status.JUDGMENT, Status.ASSUMPTION):
            grade = f'<span class="grade">{escape(grading.grade)}</span>'
        return (f'<a class="claim-ref is-{grading.status.value}" id="{escape(anchor)}" '
                f'href="#claim-{escape(claim_id)}">{escape(claim_id)}{grade}'
                f'<span class="status-word">{escape(grading.status.value)}</span></a>')

    def citation(self, items: list[tuple[str, str]]) -> str:
        if self.pack.audience.config.citations == "footnotes":
            return "".join(self.footnote(ref_id, locator) for ref_id, locator in items)
        inner = []
        for ref_id, locator in items:
            number = self.pack.citation_numbers.get(ref_id)
            if number is None:
                inner.append("withheld source")
                continue
            loc = f", {escape(locator)}" if locator else ""
            inner.append(f'<a href="#ref-{escape(ref_id)}">{number}</a>{loc}')
        return f'<span class="cite">[{"; ".join(inner)}]</span>'

    def footnote(self, ref_id: str, locator: str) -> str:
        """A citation as a page footnote: short title, grade, locator, and its number."""
        number = self.pack.citation_numbers.get(ref_id)
        if number is None:
            return '<span class="footnote">A source withheld from this edition.</span>'
        ref = self.pack.references[ref_id]
        loc = f", {escape(locator)}" if locator else ""
        return (f'<span class="footnote"><a href="#ref-{escape(ref_id)}">[{number}]</a> '
                f'<cite>{escape(ref.title)}</cite> ({escape(ref.custom.reliability)}){loc}.'
                "</span>")

    def markdown(self, text: str, heading_shift: int = 2) -> Markup:
        return Markup(markup.render(text, claim=self.claim_marker, cite=self.citation,
                                    heading_shift=heading_shift))


def render_html(pack: Pack) -> str:
    if pack.audience.config.require_alt_text and (missing := missing_alt_text(pack)):
        raise BriefgenError([Diagnostic(Location(*_split(where)), "image without alt text",
                                        f"audience '{pack.audience.name}' requires alt text "
                                        "for every image: ![what it shows](file.png)")
                             for where in missing])
    env = environment(pack.audience.layers)
    renderer = PackRenderer(pack)
    # Render bodies first so every marker's anchor exists before the caveats list them.
    notes = [(note, renderer.markdown(note.body)) for note in pack.notes]
    scope = renderer.markdown(pack.area.scope)
    source_summary = renderer.markdown(pack.area.meta.source_summary)
    config = pack.project.config
    sections = set(pack.audience.config.sections)
    template = env.get_template("pack.html.j2")
    return template.render(
        pack=pack, project=config, area=pack.area.meta, area_slug=pack.area.slug,
        audience=pack.audience.config, audience_name=pack.audience.name,
        notes=notes, scope=scope, source_summary=source_summary, uses=renderer.uses,
        Status=Status, sections=sections,
        chart=Markup(claims_chart(pack.gradings.values(), pack.audience.config.palette,
                                 max(11.0, pack.audience.config.base_font_size)))
        if pack.audience.config.chart else "", tlp=pack.tlp, tlp_colour=TLP_COLOURS[pack.tlp],
        reliability_words=RELIABILITY_WORDS, credibility_words=CREDIBILITY_WORDS,
        likelihood_scale=LIKELIHOOD_SCALE, version=__version__,
        inline=lambda text: Markup(markup.render(
            text, claim=renderer.claim_marker, cite=renderer.citation)),
    )


def _split(where: str) -> tuple[str, int]:
    file, _, line = where.rpartition(":")
    return file, int(line)
