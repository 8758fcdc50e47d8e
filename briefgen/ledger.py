"""The claims ledger: every claim a reader may see, with its computed status, in one shape.

Every export (`briefgen claims` as a table, CSV, JSON or ClaimReview; `briefgen diff`) and the
`claims-ledger.json` embedded in each PDF are made from the same records, and the records are
made from packs confined to an audience (`pack.assemble`): a claim in a withheld note is not
there, an evidence entry citing a withheld reference is not there, and each status and grade
is computed from the evidence that is left. `docs/ledger.schema.json` describes a record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from briefgen import __version__
from briefgen.claims import CREDIBILITY_WORDS, origin
from briefgen.errors import error
from briefgen.model import Audience, Project
from briefgen.pack import Pack, assemble
from briefgen.schema import TLP_ORDER, Reference, normalise_tlp
from briefgen.suggest import did_you_mean

LEDGER_SCHEMA = "https://briefgen.invalid/schemas/ledger-1.json"
PUBLIC = "CLEAR"  # the only marking a publishing format (ClaimReview) may carry


def claim_records(pack: Pack) -> list[dict]:
    """One record per claim in the pack, as its audience may see it."""
    label = {c.id: n.handling for n in pack.notes for c in n.claims}
    records = []
    for claim in pack.claims:
        g = pack.gradings[claim.id]
        first = origin(claim.spec, pack.references)
        records.append({
            "area": pack.area.slug, "id": claim.id, "text": claim.spec.text,
            "kind": claim.spec.kind, "status": g.status.value, "reason": g.reason,
            "grade": g.grade, "contradicting_grade": g.contra_grade or None,
            "credibility": claim.spec.credibility,
            "single_primary_source": g.single_primary, "handling": f"TLP:{label[claim.id]}",
            "evidence": [{"ref": e.ref, "stance": e.stance, "locator": e.locator,
                          "note": e.note, "quote": e.quote, "origin": e is first,
                          "reliability": pack.references[e.ref].custom.reliability}
                         for e in claim.spec.evidence],
            "origin_quote": first.quote if first is not None else "",
            "source": str(claim.location),
        })
    return records


def pack_ledger(pack: Pack) -> dict:
    """The ledger embedded in a pack: a header and the pack's claim records."""
    config = pack.project.config
    return {"$schema": LEDGER_SCHEMA, "generator": f"briefgen {__version__}",
            "title": config.title, "area": pack.area.slug, "audience": pack.audience.name,
            "edition": config.edition, "as_of": config.as_of.isoformat(),
            "handling": f"TLP:{pack.tlp}", "claims": claim_records(pack)}


def export_audience(project: Project, name: str | None = None,
                    clearance: str | None = None) -> Audience:
    """The audience an export is made for: `name` (default: the project's default audience),
    its clearance replaced by `clearance` when one is given."""
    name = name or project.config.default_audience
    audience = project.audiences.get(name)
    if audience is None:
        raise error("styles/", f"no audience '{name}'",
                    hint=did_you_mean(name, project.audiences, "audiences: " + (
                        ", ".join(sorted(project.audiences)) or "none")))
    if clearance is None:
        return audience
    level = normalise_tlp(clearance)
    if level not in TLP_ORDER:
        raise error("--clearance", f"unknown TLP level '{clearance}'",
                    hint="one of " + ", ".join(TLP_ORDER) + " (TLP:RED is accepted too)")
    return replace(audience, config=audience.config.model_copy(update={"clearance": level}))


@dataclass
class Export:
    """What an audience may see of a project's claims, ready for any export format."""

    audience: Audience
    records: list[dict]
    references: dict[str, Reference]   # every reference a record cites


def export(project: Project, audience: Audience, areas: Iterable[str] | None = None) -> Export:
    wanted = set(areas or ())
    records: list[dict] = []
    references: dict[str, Reference] = {}
    for area in project.areas:
        if wanted and area.slug not in wanted:
            continue
        pack = assemble(project, area, audience)
        if pack is None:
            continue
        records += claim_records(pack)
        references.update(pack.references)
    return Export(audience, records, references)


def claim_review(project: Project, data: Export) -> dict:
    """schema.org ClaimReview JSON-LD for every claim of fact (judgments are not reviewed).

    A publishing format: only records marked TLP:CLEAR, made for a TLP:CLEAR reader, go in
    (callers pass an export made with clearance CLEAR). The rating is the claim's credibility
    turned round so that higher is better (6 = confirmed ... 1 = truth cannot be judged);
    alternateName spells out the status.
    """
    if data.audience.config.clearance != PUBLIC:
        raise ValueError("ClaimReview is made only from a TLP:CLEAR export")
    config = project.config
    reviews = []
    for row in data.records:
        if row["kind"] != "information" or row["handling"] != f"TLP:{PUBLIC}":
            continue
        appearances = []
        for source in row["evidence"]:
            if source["stance"] != "supports":
                continue
            ref = data.references[source["ref"]]
            work: dict = {"@type": "CreativeWork", "name": ref.title}
            if ref.URL:
                work["url"] = ref.URL
            if ref.author:
                work["author"] = [{"@type": "Person" if a.family else "Organization",
                                   "name": a.display()} for a in ref.author]
            appearances.append(work)
        reviews.append({
            "@type": "ClaimReview",
            "identifier": row["id"],
            # what the source said, in its own words, when the origin's quote is recorded
            "claimReviewed": row["origin_quote"] or row["text"],
            "datePublished": config.as_of.isoformat(),
            "author": {"@type": "Organization", "name": config.issuer},
            "itemReviewed": {"@type": "Claim", "appearance": appearances},
            "reviewRating": {
                "@type": "Rating", "ratingValue": 7 - row["credibility"], "bestRating": 6,
                "worstRating": 1,
                "alternateName": f"{row['status'].capitalize()} ({row['grade']}: "
                                 f"{CREDIBILITY_WORDS[row['credibility']]})",
                "ratingExplanation": row["reason"],
            },
        })
    return {"@context": "https://schema.org", "@graph": reviews}


@dataclass(frozen=True)
class Change:
    kind: str      # added | removed | status | grade | text
    area: str
    id: str
    old: str
    new: str
    reason: str = ""  # for a status or grade change: why the rule now gives the new status


def _grade_label(row: dict) -> str:
    against = row.get("contradicting_grade")
    return f"{row['grade']} / {against} against" if against else row["grade"]


def diff(old: list[dict], new: list[dict]) -> list[Change]:
    """What changed in claims and their status between two editions of a project."""
    before = {r["id"]: r for r in old}
    after = {r["id"]: r for r in new}
    changes: list[Change] = []
    for claim_id, row in after.items():
        if claim_id not in before:
            changes.append(Change("added", row["area"], claim_id, "", row["status"]))
    for claim_id, row in before.items():
        if claim_id not in after:
            changes.append(Change("removed", row["area"], claim_id, row["status"], ""))
    for claim_id in before.keys() & after.keys():
        a, b = before[claim_id], after[claim_id]
        if a["status"] != b["status"]:
            changes.append(Change("status", b["area"], claim_id, a["status"], b["status"],
                                  b["reason"]))
        if _grade_label(a) != _grade_label(b):
            changes.append(Change("grade", b["area"], claim_id, _grade_label(a),
                                  _grade_label(b), b["reason"]))
        if a["text"] != b["text"]:
            changes.append(Change("text", b["area"], claim_id, a["text"], b["text"]))
    order = {"status": 0, "added": 1, "removed": 2, "grade": 3, "text": 4}
    return sorted(changes, key=lambda c: (order[c.kind], c.area, c.id))
