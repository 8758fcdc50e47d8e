"""The caveats rule: a claim's status is computed from its sources, never typed by hand.

Reliability (Admiralty A-F) belongs to a source; credibility (1-6) to a claim. The rule
(DESIGN.md section 3), with the thresholds configurable in briefgen.yaml:

1. kind judgment/assumption -> JUDGMENT/ASSUMPTION, never among facts.
2. distinct sources: a reference derived from another counts as that one.
   S+ = supporting sources with reliability at or above `supporting_reliability` (C);
   C  = contradicting sources at or above `contradicting_reliability` (D).
3. DISPUTED if C is non-empty or credibility is 4 or 5.
4. SOURCED if credibility <= 2 and |S+| >= 2, or |S+| == 1 and that source is a primary
   record ("single primary source").
5. UNCORROBORATED otherwise.

Evidence with `stance: context` is cited and shown with the claim but never counted.
A claim's *origin* is the evidence entry citing the text it was drawn from (a reference marked
`origin: true`, such as the essay a briefing checks): its `quote` is printed under the claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from briefgen.schema import ClaimSpec, Evidence, Reference, Thresholds

RELIABILITY_WORDS = {
    "A": "completely reliable", "B": "usually reliable", "C": "fairly reliable",
    "D": "not usually reliable", "E": "unreliable", "F": "reliability cannot be judged",
}
CREDIBILITY_WORDS = {
    1: "confirmed by other sources", 2: "probably true", 3: "possibly true", 4: "doubtful",
    5: "improbable", 6: "truth cannot be judged",
}
LIKELIHOOD_SCALE = (
    ("almost no chance", "01-05%"), ("very unlikely", "05-20%"), ("unlikely", "20-45%"),
    ("roughly even chance", "45-55%"), ("likely", "55-80%"), ("very likely", "80-95%"),
    ("almost certain", "95-99%"),
)


class Status(StrEnum):
    SOURCED = "sourced"
    UNCORROBORATED = "uncorroborated"
    DISPUTED = "disputed"
    JUDGMENT = "judgment"
    ASSUMPTION = "assumption"

    @property
    def label(self) -> str:
        return {"sourced": "Sourced fact", "uncorroborated": "Uncorroborated",
                "disputed": "Disputed", "judgment": "Judgment",
                "assumption": "Assumption"}[self.value]


@dataclass(frozen=True)
class Grading:
    status: Status
    reason: str
    supporting: tuple[str, ...]        # distinct supporting source ids (all reliabilities)
    strong_supporting: tuple[str, ...]  # S+
    contradicting: tuple[str, ...]      # C
    single_primary: bool
    grade: str                          # e.g. "B2": best supporting reliability + credibility
    contra_grade: str = ""              # best contradicting reliability among C, "" if none

    @property
    def label(self) -> str:
        """The grade as printed: a disputed claim shows both sides, e.g. "F5 / A against"."""
        return f"{self.grade} / {self.contra_grade} against" if self.contra_grade else self.grade


def origin(claim: ClaimSpec, references: Mapping[str, Reference]) -> Evidence | None:
    """The evidence entry citing the text the claim was drawn from: the first entry whose
    reference is marked `origin: true` (among `references`, so a withheld one is never it)."""
    return next((e for e in claim.evidence
                 if (ref := references.get(e.ref)) is not None and ref.custom.origin), None)


def root_source(ref_id: str, references: Mapping[str, Reference]) -> str:
    """Follow `derived_from` to the original, so a source repeating another counts once."""
    seen = {ref_id}
    current = ref_id
    while (ref := references.get(current)) is not None and ref.custom.derived_from:
        current = ref.custom.derived_from
        if current in seen:  # a cycle is reported by the loader; do not loop here
            break
        seen.add(current)
    return current


def _at_least(reliability: str, threshold: str) -> bool:
    return reliability <= threshold  # "A" < "B" < ... < "F"


def _groups(ids: list[str], references: Mapping[str, Reference]) -> dict[str, list[str]]:
    """Distinct sources: each original (after `derived_from`) with the cited ids that lead to
    it. An original missing from `references` (withheld) is named by its first cited
    descendant, so its id never reaches a reader."""
    by_root: dict[str, list[str]] = {}
    for ref_id in ids:
        by_root.setdefault(root_source(ref_id, references), []).append(ref_id)
    return {(root if root in references else members[0]): members
            for root, members in by_root.items()}


def grade(claim: ClaimSpec, references: Mapping[str, Reference],
          thresholds: Thresholds | None = None) -> Grading:
    """Compute a claim's status from its evidence, its credibility and the thresholds.

    `references` is the bibliography its reader may see. Sources derived from the same
    original count once (`derived_from`), and each such group is graded by the sources the
    claim cites, never by an original it does not cite: a copy read in place of its original
    is graded as what was read, and an original withheld from this reader lends nothing, so
    no grade or status reveals what is withheld.
    """
    t = thresholds or Thresholds()
    support_groups = _groups([e.ref for e in claim.evidence if e.stance == "supports"],
                             references)
    contra_groups = _groups([e.ref for e in claim.evidence if e.stance == "contradicts"],
                            references)

    def own(members: list[str]) -> list[Reference]:
        """The references that stand for a group of sources counted as one: those the claim
        cites. An original it does not cite lends nothing, whether withheld from this reader
        or only known through the copy that was read."""
        return [references[m] for m in members if m in references]

    def reliability(members: list[str]) -> str:
        return min((r.custom.reliability for r in own(members)), default="F")

    supporting = tuple(support_groups)
    strong = tuple(s for s, m in support_groups.items()
                   if _at_least(reliability(m), t.supporting_reliability))
    contradicting = tuple(c for c, m in contra_groups.items()
                          if _at_least(reliability(m), t.contradicting_reliability))
    best = min((reliability(m) for m in support_groups.values()), default="F")
    label = f"{best}{claim.credibility}"

    contra_best = min((reliability(contra_groups[c]) for c in contradicting), default="")

    def result(status: Status, reason: str, single: bool = False) -> Grading:
        against = contra_best if status is Status.DISPUTED else ""
        return Grading(status, reason, supporting, strong, contradicting, single, label,
                       against)

    if claim.kind == "judgment":
        return result(Status.JUDGMENT, "an analytic judgment, not a statement of fact")
    if claim.kind == "assumption":
        return result(Status.ASSUMPTION, "an assumption the analysis rests on")
    if contradicting:
        # The grade label is the best *supporting* source's (the Admiralty reading): say how
        # good the contradicting sources are, so an "F5" is not read as a weak dispute.
        n = len(contradicting)
        top = contra_best
        best_of = (f"graded {top}" if n == 1 else
                   f"graded {t.contradicting_reliability} or better, the best {top}")
        return result(Status.DISPUTED,
                      f"contradicted by {n} source{'s' if n > 1 else ''} {best_of}")
    if claim.credibility in (4, 5):
        word = CREDIBILITY_WORDS[claim.credibility]
        return result(Status.DISPUTED, f"credibility {claim.credibility} ({word})")
    if claim.credibility <= t.sourced_max_credibility:
        if len(strong) >= t.corroborating_sources:
            return result(Status.SOURCED, f"{len(strong)} independent reliable sources")
        if len(strong) == 1 and any(r.custom.primary for r in own(support_groups[strong[0]])):
            return result(Status.SOURCED, "single primary source", single=True)
    if not claim.evidence:
        return result(Status.UNCORROBORATED, "no evidence recorded")
    if not strong:
        return result(Status.UNCORROBORATED,
                      f"no supporting source graded {t.supporting_reliability} or better")
    if claim.credibility > t.sourced_max_credibility:
        word = CREDIBILITY_WORDS[claim.credibility]
        return result(Status.UNCORROBORATED, f"credibility {claim.credibility} ({word})")
    return result(Status.UNCORROBORATED,
                  f"{len(strong)} reliable source(s); {t.corroborating_sources} needed, "
                  "or one primary record")
