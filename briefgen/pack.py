"""Assemble one pack: an area seen by one audience, with handling applied and claims graded.

Handling rule, applied here once for every exit path (PDF, exports, preview, attachments): a
note's effective marking is the most restrictive of its own `handling` and its claims' (a
sentence carrying a restricted claim would leak it), and anything marked above the
audience's clearance is left out of the pack entirely and reported as withheld. A reference
above the clearance is withheld too, and so is every evidence entry that cites it: claims
are graded from the evidence the audience may see, so no status, grade, locator or note
reveals a withheld source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from briefgen.claims import Grading, Status, grade
from briefgen.errors import Diagnostic, Location
from briefgen.markup import find_markers
from briefgen.model import Area, Audience, Claim, Note, Project
from briefgen.schema import TLP_ORDER, KeyJudgment, Reference


def missing_alt_text(pack: Pack) -> list[Location]:
    """Where each image of the pack without alt text is."""
    texts = [(pack.area.display, pack.area.scope_line, pack.area.scope_images)]
    texts += [(n.display, n.body_line, n.images) for n in pack.notes]  # included notes only
    return [Location(display, first + image.line - 1, image.column)
            for display, first, found in texts for image, _ in found if not image.alt]


def alt_text_problems(pack: Pack) -> list[Diagnostic]:
    """An error for each image without alt text, if the pack's audience requires alt text
    (the build refuses the pack; `check` reports the same)."""
    if not pack.audience.config.require_alt_text:
        return []
    return [Diagnostic(where, "image without alt text",
                       f"audience '{pack.audience.name}' requires alt text "
                       "for every image: ![what it shows](file.png)")
            for where in missing_alt_text(pack)]


def most_restrictive(*labels: str) -> str:
    return max(labels, key=TLP_ORDER.__getitem__)


@dataclass(frozen=True)
class Withheld:
    what: str       # "area" | "note" | "reference"
    name: str
    handling: str


@dataclass
class Pack:
    project: Project
    area: Area
    audience: Audience
    notes: tuple[Note, ...]
    claims: tuple[Claim, ...]
    gradings: dict[str, Grading]
    key_judgments: tuple[KeyJudgment, ...]
    references: dict[str, Reference]     # those this pack uses, in citation order
    citation_numbers: dict[str, int]
    tlp: str
    withheld: list[Withheld] = field(default_factory=list)
    withheld_count: int = 0   # what templates may know of the withheld: how much, not what

    def by_status(self, status: Status) -> list[Claim]:
        return [c for c in self.claims if self.gradings[c.id].status is status]

    @property
    def lang(self) -> str:
        """The language the pack is written in: the audience's `lang`, else the project's."""
        return self.audience.config.lang or self.project.config.lang

    @property
    def filename(self) -> str:
        return f"{self.area.slug}.pdf"


def visible_references(project: Project, audience: Audience) -> dict[str, Reference]:
    """The bibliography as `audience` may see it (derived_from links still pointing at
    withheld originals: `grade` needs them to count sources once; `_shown` cuts them)."""
    return {i: r for i, r in project.references.items() if audience.clears(r.custom.tlp)}


def _visible_note(note: Note, visible: dict[str, Reference]) -> Note:
    """The note with every evidence entry citing a withheld reference removed."""
    if all(e.ref in visible for c in note.claims for e in c.spec.evidence):
        return note
    specs = tuple(c.spec.model_copy(update={"evidence": [
        e for e in c.spec.evidence if e.ref in visible]}) for c in note.claims)
    claims = tuple(replace(c, spec=spec) for c, spec in zip(note.claims, specs, strict=True))
    return replace(note, meta=note.meta.model_copy(update={"claims": list(specs)}),
                   claims=claims)


def _shown(ref: Reference, visible: dict[str, Reference]) -> Reference:
    """A reference as printed for an audience: no link to an original it may not see."""
    if ref.custom.derived_from is None or ref.custom.derived_from in visible:
        return ref
    return ref.model_copy(update={"custom": ref.custom.model_copy(
        update={"derived_from": None})})


def assemble(project: Project, area: Area, audience: Audience) -> Pack | None:
    """The pack for `area` as `audience` may see it, or None if the whole area is withheld."""
    if not audience.clears(area.handling):
        return None
    withheld: list[Withheld] = []
    visible = visible_references(project, audience)
    kept: list[Note] = []
    for note in area.notes:
        if audience.clears(note.handling):
            kept.append(note)
        else:
            withheld.append(Withheld("note", note.display, note.handling))
    notes = [_visible_note(note, visible) for note in kept]
    claims = tuple(c for n in notes for c in n.claims)
    thresholds = project.config.thresholds
    gradings = {c.id: grade(c.spec, visible, thresholds) for c in claims}

    order: dict[str, int] = {}
    texts = [area.scope, area.meta.source_summary, *(n.body for n in notes)]
    cited = [m.target for t in texts for m in find_markers(t) if m.kind == "cite"]
    cited += [e.ref for n in kept for c in n.claims for e in c.spec.evidence]  # to report
    if audience.config.discussion:   # printed with their grades, numbered like citations
        cited += [item.ref for item in area.meta.further_reading]
    for ref_id in cited:
        ref = project.references.get(ref_id)
        if ref is None or ref_id in order:
            continue
        if not audience.clears(ref.custom.tlp):
            if not any(w.name == ref_id for w in withheld):
                withheld.append(Withheld("reference", ref_id, ref.custom.tlp))
            continue
        order[ref_id] = len(order) + 1
    references = {ref_id: _shown(project.references[ref_id], visible) for ref_id in order}
    tlp = most_restrictive(area.handling, *(n.handling for n in notes),
                           *(r.custom.tlp for r in references.values()))
    return Pack(project, area, audience, tuple(notes), claims, gradings,
                tuple(area.meta.key_judgments), references, order, tlp, withheld)


def visible_digest(pack: Pack) -> str:
    """A digest of which notes, claims and references the pack's audience may see, and at
    which marking. Kept in the manifest (it names nothing): when it changes, a PDF built
    before may show what is now withheld, so a failed rebuild must not leave it in place."""
    import hashlib

    names = [pack.tlp, *(f"{n.display}\0{n.handling}" for n in pack.notes),
             *(c.id for c in pack.claims), *pack.references]
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def confined(pack: Pack) -> Pack:
    """The pack with nothing in reach that its audience may not see. Its project keeps this
    area only, the area keeps the notes the audience is cleared for, and the bibliography keeps
    the references the pack cites. Templates and worker processes get this pack. A template
    therefore cannot print a withheld note by walking the object graph. What is pickled for
    each worker also stays the same size however many areas the project has."""
    area = replace(pack.area, notes=pack.notes)
    project = replace(
        pack.project, areas=(area,), references=dict(pack.references),
        reference_lines={k: v for k, v in pack.project.reference_lines.items()
                         if k in pack.references},
        audiences={pack.audience.name: pack.audience}, files=(), warnings=(),
        handling_map=None)
    # Templates see how many things were withheld, never their names or markings.
    return replace(pack, project=project, area=area, withheld=[],
                   withheld_count=len(pack.withheld))
