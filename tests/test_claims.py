"""The caveats rule, exhaustively: every branch of DESIGN.md section 3."""

from __future__ import annotations

import itertools

import pytest

from briefgen.claims import Status, grade, origin, root_source
from briefgen.schema import ClaimSpec, Evidence, Reference, Thresholds


def ref(ref_id: str, reliability: str, primary: bool = False, derived_from: str | None = None):
    return Reference.model_validate({
        "id": ref_id, "title": ref_id, "custom": {
            "reliability": reliability, "descriptor": "d", "primary": primary,
            "derived_from": derived_from}})


REFS = {r.id: r for r in [
    ref("a1", "A"), ref("b1", "B"), ref("c1", "C"), ref("d1", "D"), ref("e1", "E"),
    ref("f1", "F"), ref("law", "A", primary=True), ref("weak-primary", "D", primary=True),
    ref("b1-echo", "B", derived_from="b1"), ref("echo-of-echo", "B", derived_from="b1-echo"),
]}


def claim(credibility: int, *evidence: tuple[str, str], kind: str = "information") -> ClaimSpec:
    return ClaimSpec(id="X-1", text="t", kind=kind, credibility=credibility,
                     evidence=[Evidence(ref=r, stance=s) for r, s in evidence])


S, C = "supports", "contradicts"


@pytest.mark.parametrize("kind, status", [("judgment", Status.JUDGMENT),
                                          ("assumption", Status.ASSUMPTION)])
def test_judgments_and_assumptions_never_become_facts(kind, status):
    strong = claim(1, ("a1", S), ("b1", S), kind=kind)
    assert grade(strong, REFS).status is status
    contradicted = claim(2, ("a1", C), kind=kind)
    assert grade(contradicted, REFS).status is status


@pytest.mark.parametrize("contradictor", ["a1", "b1", "c1", "d1"])
def test_contradiction_by_a_to_d_source_disputes_even_a_well_sourced_claim(contradictor):
    g = grade(claim(1, ("a1", S), ("b1", S), (contradictor, C)), REFS)
    assert g.status is Status.DISPUTED
    assert g.contradicting == (contradictor,)


def test_a_dispute_says_how_good_its_contradicting_sources_are():
    """The grade label is the best supporting source's ("F5" for a claim only an unjudgeable
    essay supports), so the reason names the best contradicting grade: an A-graded statute
    against it is not a weak dispute."""
    one = grade(claim(5, ("f1", S), ("b1", C)), REFS)
    assert (one.grade, one.reason) == ("F5", "contradicted by 1 source graded B")
    several = grade(claim(5, ("f1", S), ("c1", C), ("law", C), ("e1", C)), REFS)
    assert several.reason == "contradicted by 2 sources graded D or better, the best A"


@pytest.mark.parametrize("contradictor", ["e1", "f1"])
def test_contradiction_by_e_or_f_source_does_not_dispute(contradictor):
    g = grade(claim(2, ("a1", S), ("b1", S), (contradictor, C)), REFS)
    assert g.status is Status.SOURCED
    assert g.contradicting == ()


@pytest.mark.parametrize("credibility", [4, 5])
def test_doubtful_or_improbable_credibility_disputes(credibility):
    assert grade(claim(credibility, ("a1", S), ("b1", S)), REFS).status is Status.DISPUTED


@pytest.mark.parametrize("credibility", [1, 2])
def test_two_independent_reliable_sources_make_sourced(credibility):
    g = grade(claim(credibility, ("b1", S), ("c1", S)), REFS)
    assert g.status is Status.SOURCED and not g.single_primary


def test_single_primary_record_is_sourced_and_flagged():
    g = grade(claim(2, ("law", S)), REFS)
    assert g.status is Status.SOURCED and g.single_primary
    assert g.reason == "single primary source"


def test_single_non_primary_source_is_uncorroborated():
    assert grade(claim(2, ("a1", S)), REFS).status is Status.UNCORROBORATED


def test_primary_record_graded_below_c_does_not_count():
    assert grade(claim(2, ("weak-primary", S)), REFS).status is Status.UNCORROBORATED


@pytest.mark.parametrize("weak", ["d1", "e1", "f1"])
def test_weak_sources_do_not_corroborate(weak):
    assert grade(claim(2, ("a1", S), (weak, S)), REFS).status is Status.UNCORROBORATED


@pytest.mark.parametrize("credibility", [3, 6])
def test_possibly_true_or_unjudgeable_stays_uncorroborated(credibility):
    assert grade(claim(credibility, ("a1", S), ("b1", S)), REFS).status is Status.UNCORROBORATED


def test_no_evidence_is_uncorroborated():
    g = grade(claim(2), REFS)
    assert g.status is Status.UNCORROBORATED and g.reason == "no evidence recorded"


def test_a_source_repeating_another_counts_once():
    g = grade(claim(2, ("b1", S), ("b1-echo", S), ("echo-of-echo", S)), REFS)
    assert g.supporting == ("b1",)
    assert g.status is Status.UNCORROBORATED


def test_root_source_follows_chains_and_survives_cycles():
    assert root_source("echo-of-echo", REFS) == "b1"
    cyclic = {"x": ref("x", "B", derived_from="y"), "y": ref("y", "B", derived_from="x")}
    assert root_source("x", cyclic) in {"x", "y"}


def test_same_source_cited_twice_counts_once():
    g = grade(claim(2, ("b1", S), ("b1", S)), REFS)
    assert g.supporting == ("b1",) and g.status is Status.UNCORROBORATED


def test_grade_pairs_best_supporting_reliability_with_credibility():
    assert grade(claim(3, ("f1", S), ("c1", S)), REFS).grade == "C3"
    assert grade(claim(6), REFS).grade == "F6"


def test_thresholds_are_configurable():
    strict = Thresholds(corroborating_sources=3, supporting_reliability="B")
    assert grade(claim(2, ("a1", S), ("b1", S)), REFS, strict).status is Status.UNCORROBORATED
    assert grade(claim(2, ("a1", S), ("c1", S), ("b1", S)), REFS, strict).status \
        is Status.UNCORROBORATED
    lenient = Thresholds(contradicting_reliability="B")
    assert grade(claim(2, ("a1", S), ("b1", S), ("c1", C)), REFS, lenient).status \
        is Status.SOURCED


RELIABILITIES = "ABCDEF"


@pytest.mark.parametrize("r1, r2, credibility", list(itertools.product(
    RELIABILITIES, RELIABILITIES, range(1, 7))))
def test_rule_over_every_pair_of_supporting_sources(r1, r2, credibility):
    """Two distinct supporting sources of every grade pair, every credibility."""
    refs = {"s1": ref("s1", r1), "s2": ref("s2", r2)}
    g = grade(claim(credibility, ("s1", S), ("s2", S)), refs)
    strong = sum(r <= "C" for r in (r1, r2))
    if credibility in (4, 5):
        expected = Status.DISPUTED
    elif credibility <= 2 and strong >= 2:
        expected = Status.SOURCED
    else:
        expected = Status.UNCORROBORATED
    assert g.status is expected


# --- grading for a reader who may not see every source (pack.assemble passes the visible
# bibliography) -----------------------------------------------------------------------------


def test_an_original_the_claim_does_not_cite_lends_no_grade():
    """A copy read in place of its original is graded as what was read."""
    refs = {**REFS, "f-copy-of-law": ref("f-copy-of-law", "F", derived_from="law")}
    g = grade(claim(2, ("f-copy-of-law", S)), refs)
    assert g.status is Status.UNCORROBORATED and g.grade == "F2" and not g.single_primary


def test_a_withheld_original_is_neither_named_nor_graded():
    """`law` is withheld from this reader: its copies are graded on their own, still count as
    one source together, and the grading names a visible copy, never the original's id."""
    visible = {k: v for k, v in REFS.items() if k != "law"}
    visible["copy-1"] = ref("copy-1", "B", derived_from="law")
    visible["copy-2"] = ref("copy-2", "C", derived_from="law")
    g = grade(claim(2, ("copy-1", S), ("copy-2", S)), visible)
    assert g.supporting == ("copy-1",) and "law" not in g.strong_supporting
    assert g.grade == "B2" and not g.single_primary
    assert g.status is Status.UNCORROBORATED  # one source, not two, and not a primary record
    g = grade(claim(2, ("copy-1", S), ("a1", S)), visible)
    assert g.status is Status.SOURCED and set(g.strong_supporting) == {"copy-1", "a1"}


def test_withheld_evidence_is_not_graded():
    """The pack drops evidence citing a withheld reference before grading: a claim whose only
    strong source is withheld reads as uncorroborated, with the grade of what is left."""
    full = claim(2, ("f1", S), ("law", S))
    assert grade(full, REFS).status is Status.SOURCED and grade(full, REFS).grade == "A2"
    seen = claim(2, ("f1", S))
    assert grade(seen, REFS).status is Status.UNCORROBORATED and grade(seen, REFS).grade == "F2"


X = "context"


def test_context_is_shown_but_never_counted():
    """`stance: context`: cited with the claim, never in its grade or status."""
    alone = grade(claim(2, ("f1", S), ("a1", X), ("law", X)), REFS)
    assert (alone.status, alone.grade) == (Status.UNCORROBORATED, "F2")
    assert alone.supporting == ("f1",) and alone.contradicting == ()
    assert grade(claim(2, ("a1", X), ("b1", X)), REFS).status is Status.UNCORROBORATED
    # a context entry that would have disputed the claim as `contradicts` does not
    assert grade(claim(2, ("a1", S), ("b1", S), ("law", X)), REFS).status is Status.SOURCED


def test_a_disputed_grade_shows_both_sides():
    g = grade(claim(5, ("f1", S), ("c1", C), ("law", C)), REFS)
    assert (g.grade, g.contra_grade, g.label) == ("F5", "A", "F5 / A against")
    by_credibility = grade(claim(5, ("f1", S)), REFS)   # disputed, nobody against it
    assert (by_credibility.contra_grade, by_credibility.label) == ("", "F5")
    sourced = grade(claim(2, ("a1", S), ("b1", S)), REFS)
    assert sourced.label == "A2" and sourced.contra_grade == ""
    # a contradicting source too weak to count is not shown as the other side
    weak = grade(claim(3, ("b1", S), ("e1", C)), REFS)
    assert weak.label == "B3"


def test_the_origin_is_the_entry_citing_a_text_marked_origin():
    essay = Reference.model_validate({"id": "essay", "title": "Essay", "custom": {
        "reliability": "F", "descriptor": "d", "origin": True}})
    refs = {**REFS, "essay": essay}
    spec = ClaimSpec(id="X-1", text="t", credibility=3, evidence=[
        Evidence(ref="a1", stance="supports", quote="law words"),
        Evidence(ref="essay", stance="supports", locator="§1", quote="the essay's words")])
    first = origin(spec, refs)
    assert first is not None and first.quote == "the essay's words"
    assert origin(spec, REFS) is None          # the origin withheld: no origin at all
    assert origin(claim(2, ("a1", S)), refs) is None
