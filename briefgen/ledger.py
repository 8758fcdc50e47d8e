"""The claims ledger: every claim with its computed status, as rows, ClaimReview or a diff."""

from __future__ import annotations

from dataclasses import dataclass

from briefgen.claims import CREDIBILITY_WORDS, grade
from briefgen.model import Project


def claim_rows(project: Project, areas: list[str] | None = None) -> list[dict]:
    """One dict per claim: area, id, text, status, grade and sources (the ledger)."""
    rows = []
    for area in project.areas:
        if areas and area.slug not in areas:
            continue
        for claim in area.claims:
            g = grade(claim.spec, project.references, project.config.thresholds)
            rows.append({
                "area": area.slug, "id": claim.id, "text": claim.spec.text,
                "kind": claim.spec.kind, "status": g.status.value, "reason": g.reason,
                "grade": g.grade, "credibility": claim.spec.credibility,
                "single_primary_source": g.single_primary, "handling": claim.spec.handling,
                "sources": [{"ref": e.ref, "stance": e.stance, "locator": e.locator,
                             "reliability": project.references[e.ref].custom.reliability}
                            for e in claim.spec.evidence],
                "location": str(claim.location),
            })
    return rows


def claim_review(project: Project, rows: list[dict]) -> dict:
    """schema.org ClaimReview JSON-LD for every claim of fact (judgments are not reviewed).

    The rating is the claim's credibility turned round so that higher is better
    (6 = confirmed ... 1 = truth cannot be judged); alternateName spells out the status.
    """
    config = project.config
    reviews = []
    for row in rows:
        if row["kind"] != "information":
            continue
        appearances = []
        for source in row["sources"]:
            if source["stance"] != "supports":
                continue
            ref = project.references[source["ref"]]
            work = {"@type": "CreativeWork", "name": ref.title}
            if ref.URL:
                work["url"] = ref.URL
            if ref.author:
                work["author"] = [{"@type": "Person" if a.family else "Organization",
                                   "name": a.display()} for a in ref.author]
            appearances.append(work)
        reviews.append({
            "@type": "ClaimReview",
            "identifier": row["id"],
            "claimReviewed": row["text"],
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
        for kind, key in (("status", "status"), ("grade", "grade"), ("text", "text")):
            if a[key] != b[key]:
                changes.append(Change(kind, b["area"], claim_id, a[key], b[key]))
    order = {"status": 0, "added": 1, "removed": 2, "grade": 3, "text": 4}
    return sorted(changes, key=lambda c: (order[c.kind], c.area, c.id))
