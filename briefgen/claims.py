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
from typing import Protocol

from briefgen.i18n import N_
from briefgen.schema import ClaimSpec, Evidence, Reference, Thresholds

# The Admiralty (NATO AJP-2.1) source reliability and information credibility scales and the
# ICD 203 likelihood words, in English; each pack prints them in its language (i18n.py; the
# catalogs note which established rendering each language uses).
RELIABILITY_WORDS = {
    "A": N_("completely reliable"), "B": N_("usually reliable"), "C": N_("fairly reliable"),
    "D": N_("not usually reliable"), "E": N_("unreliable"),
    "F": N_("reliability cannot be judged"),
}
CREDIBILITY_WORDS = {
    1: N_("confirmed by other sources"), 2: N_("probably true"), 3: N_("possibly true"),
    4: N_("doubtful"), 5: N_("improbable"), 6: N_("truth cannot be judged"),
}
LIKELIHOOD_SCALE = (
    ("almost no chance", "01-05%"), ("very unlikely", "05-20%"), ("unlikely", "20-45%"),
    ("roughly even chance", "45-55%"), ("likely", "55-80%"), ("very likely", "80-95%"),
    ("almost certain", "95-99%"),
)
# The same words, marked for the catalogs (the schema's `likelihood` and `confidence` values
# are these English words; a pack prints them translated).
LIKELIHOOD_WORDS = (N_("almost no chance"), N_("very unlikely"), N_("unlikely"),
                    N_("roughly even chance"), N_("likely"), N_("very likely"),
                    N_("almost certain"))
CONFIDENCE_WORDS = (N_("low"), N_("moderate"), N_("high"))


class Translator(Protocol):
    def gettext(self, message: str, /) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


@dataclass(frozen=True)
class Reason:
    """Why a claim has its status, as a catalog message and its values, so that each pack
    prints it in its own language (`text(translator)`); `text()` is the English."""

    singular: str
    plural: str = ""
    n: int = 0
    values: tuple[tuple[str, str | int], ...] = ()
    translated: tuple[str, ...] = ()   # names of the values that are catalog words too

    @classmethod
    def ngettext(cls, singular: str, plural: str, count: int, /,
                 **values: str | int) -> Reason:
        """A reason with singular and plural forms (named so that extraction finds it)."""
        return cls(singular, plural, count, tuple(values.items()))

    def text(self, tr: Translator | None = None) -> str:
        if tr is None:
            message = self.singular if not self.plural or self.n == 1 else self.plural
            values = dict(self.values)
        else:
            message = (tr.ngettext(self.singular, self.plural, self.n) if self.plural
                       else tr.gettext(self.singular))
            values = {k: tr.gettext(v) if k in self.translated and isinstance(v, str) else v
                      for k, v in self.values}
        return message % values if values else message


class Status(StrEnum):
    SOURCED = "sourced"
    UNCORROBORATED = "uncorroborated"
    DISPUTED = "disputed"
    JUDGMENT = "judgment"
    ASSUMPTION = "assumption"

    @property
    def label(self) -> str:
        """The status as a heading or list entry prints it (English; `translated` below)."""
        return STATUS_LABELS[self.value]

    @property
    def word(self) -> str:
        """The status as a marker in the text and the chart print it (English)."""
        return STATUS_WORDS[self.value]


STATUS_LABELS = {"sourced": N_("Sourced fact"), "uncorroborated": N_("Uncorroborated"),
                 "disputed": N_("Disputed"), "judgment": N_("Judgment"),
                 "assumption": N_("Assumption")}
STATUS_WORDS = {"sourced": N_("sourced"), "uncorroborated": N_("uncorroborated"),
                "disputed": N_("disputed"), "judgment": N_("judgment"),
                "assumption": N_("assumption")}


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
    why: Reason | None = None           # `reason` as a message a pack prints in its language

    @property
    def label(self) -> str:
        """The grade as printed: a disputed claim shows both sides, e.g. "F5 / A against"."""
        return self.label_in(None)

    def label_in(self, tr: Translator | None) -> str:
        if not self.contra_grade:
            return self.grade
        message = "%(grade)s / %(contra)s against"
        if tr is not None:
            message = tr.gettext(N_("%(grade)s / %(contra)s against"))
        return message % {"grade": self.grade, "contra": self.contra_grade}

    def reason_in(self, tr: Translator | None) -> str:
        return self.why.text(tr) if self.why is not None else self.reason


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

    def result(status: Status, why: Reason, single: bool = False) -> Grading:
        against = contra_best if status is Status.DISPUTED else ""
        return Grading(status, why.text(), supporting, strong, contradicting, single, label,
                       against, why)

    if claim.kind == "judgment":
        return result(Status.JUDGMENT, Reason(N_("an analytic judgment, not a statement of fact")))
    if claim.kind == "assumption":
        return result(Status.ASSUMPTION, Reason(N_("an assumption the analysis rests on")))
    if contradicting:
        # The grade label is the best *supporting* source's (the Admiralty reading): say how
        # good the contradicting sources are, so an "F5" is not read as a weak dispute.
        n = len(contradicting)
        if n == 1:
            return result(Status.DISPUTED, Reason(
                N_("contradicted by %(n)s source graded %(best)s"), "", 1,
                (("n", n), ("best", contra_best))))
        return result(Status.DISPUTED, Reason.ngettext(
            "contradicted by %(n)s source graded %(threshold)s or better, the best %(best)s",
            "contradicted by %(n)s sources graded %(threshold)s or better, the best %(best)s",
            n, n=n, threshold=t.contradicting_reliability, best=contra_best))
    credibility = Reason(N_("credibility %(credibility)s (%(word)s)"), values=(
        ("credibility", claim.credibility), ("word", CREDIBILITY_WORDS[claim.credibility])),
        translated=("word",))
    if claim.credibility in (4, 5):
        return result(Status.DISPUTED, credibility)
    if claim.credibility <= t.sourced_max_credibility:
        if len(strong) >= t.corroborating_sources:
            return result(Status.SOURCED, Reason.ngettext(
                "%(n)s independent reliable source", "%(n)s independent reliable sources",
                len(strong), n=len(strong)))
        if len(strong) == 1 and any(r.custom.primary for r in own(support_groups[strong[0]])):
            return result(Status.SOURCED, Reason(N_("single primary source")), single=True)
    if not claim.evidence:
        return result(Status.UNCORROBORATED, Reason(N_("no evidence recorded")))
    if not strong:
        return result(Status.UNCORROBORATED, Reason(
            N_("no supporting source graded %(threshold)s or better"),
            values=(("threshold", t.supporting_reliability),)))
    if claim.credibility > t.sourced_max_credibility:
        return result(Status.UNCORROBORATED, credibility)
    return result(Status.UNCORROBORATED, Reason.ngettext(
        "%(n)s reliable source; %(needed)s needed, or one primary record",
        "%(n)s reliable sources; %(needed)s needed, or one primary record",
        len(strong), n=len(strong), needed=t.corroborating_sources))
