"""Warnings about a loaded project: things that build, but that a careful editor would fix.

Every warning has a code (shown as `[code]`), a location and a hint; `briefgen check --strict`
turns them into failures.
"""

from __future__ import annotations

import re

from briefgen.claims import (
    CREDIBILITY_WORDS,
    LIKELIHOOD_SCALE,
    Status,
    grade,
    origin,
    root_source,
)
from briefgen.errors import Collector, Diagnostic
from briefgen.glyphs import lint_glyphs
from briefgen.markup import _position, find_markers, note_anchor, web_or_anchor
from briefgen.model import CONFIG_FILE, REFERENCES_FILE, Area, Claim, Project
from briefgen.schema import TLP_ORDER, Thresholds

SCALE_TERMS = [term for term, _ in LIKELIHOOD_SCALE]
CLAIM_ID = re.compile(r"(?<![\w-])([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9_.-]*[0-9])(?![\w-])")
# Estimative words from other scales (or none): mixing them with ICD 203 terms confuses readers.
OFF_SCALE = ("highly likely", "highly unlikely", "probable", "probably", "improbable",
             "possible", "possibly", "realistic possibility", "real possibility",
             "remote chance", "remote", "slight chance", "certainly", "definitely",
             "almost surely", "chances are")
CONFIDENCE = re.compile(r"\b(high|moderate|low)[- ]confidence\b|\bconfiden(ce|t)\b", re.I)
SENTENCE = re.compile(r"[^.!?;]+[.!?;]?")
FIXED_ANCHORS = {"cover", "contents", "key-judgments", "scope", "caveats", "source-summary",
                 "sourced-facts", "uncorroborated-claims", "disputed-claims", "judgments",
                 "editorial-note", "sources", "keys", "revisions", "claims-chart"}
# Words of an editing history: a reason for a reader says why the claim stands as it does now,
# not how it was graded before ("Previously graded improbable", "re-graded", "earlier edition").
STALE = re.compile(
    r"\b(?:previously|formerly|originally|earlier)\b[^.;:]{0,30}?\b(?:graded|rated|marked|"
    r"classed|classified|judged|listed as|counted as)\b"
    r"|\b(?:was|were|had been|has been) (?:graded|rated|re-?graded)\b"
    r"|\bre-?grad(?:ed|ing|e)\b|\b(?:up|down)graded\b"
    r"|\b(?:earlier|previous|last|former) edition\b", re.I)
# "[" is excluded inside the brackets so a scan stops at the next "[": linear on hostile text.
LINK = re.compile(r"(?<!!)\[[^\[\]\n]*\]\(([^)\s]+)")


def _terms_in(text: str) -> list[str]:
    """ICD 203 and off-scale likelihood terms in `text`, longest match first."""
    lowered = text.lower()
    found = []
    for term in sorted([*SCALE_TERMS, *OFF_SCALE], key=len, reverse=True):
        pattern = rf"\b{re.escape(term)}\b"
        if re.search(pattern, lowered):
            found.append(term)
            lowered = re.sub(pattern, " ", lowered)
    return found


def lint(project: Project) -> list[Diagnostic]:
    """Every warning (the loader drops the codes a project silences: `lint: {ignore:}`)."""
    sink = Collector()
    _lint_claims(project, sink)
    _lint_evidence(project, sink)
    for area in project.areas:
        _lint_judgments(area, sink)
        _lint_judgment_basis(project, area, sink)
        _lint_texts(project, area, sink)
        _lint_handling(project, area, sink)
    _lint_references(project, sink)
    _lint_dates(project, sink)
    _lint_summaries(project, sink)
    _lint_quotes(project, sink)
    _lint_stale(project, sink)
    lint_glyphs(project, sink)
    _lint_languages(project, sink)
    return sink.diagnostics


def _lint_languages(project: Project, sink: Collector) -> None:
    """Once per language the packs are written in: how many of briefgen's strings its
    catalog lacks (they print in English)."""
    from briefgen import i18n, paths

    users: dict[str, str] = {}
    for tag, file in [(project.config.lang, CONFIG_FILE),
                      *((a.config.lang, paths.shown(a.directory / "audience.yaml", project.root))
                        for a in project.audiences.values() if a.config.lang)]:
        catalog = i18n.catalog_for(tag)
        if catalog is not None and catalog not in users:
            users[catalog] = file
    for catalog, file in users.items():
        missing = i18n.untranslated(catalog)
        if missing:
            sink.add(file, f"lang '{catalog}': {missing} of briefgen's strings have no "
                     "translation in its catalog and print in English", severity="warning",
                     code="untranslated", handling="CLEAR",
                     hint="complete briefgen/locale/<lang>/LC_MESSAGES/briefgen.po (README, "
                     "'Adding a language')")


def _lint_claims(project: Project, sink: Collector) -> None:
    for claim in project.claims:
        where = claim.location
        supporting = {root_source(e.ref, project.references)
                      for e in claim.spec.evidence if e.stance == "supports"}
        if not claim.spec.evidence:
            sink.add(where.file, f"claim '{claim.id}' has no evidence", line=where.line,
                     severity="warning", code="no-evidence",
                     hint="list the source(s) that assert or contradict it")
        if claim.spec.credibility == 1 and len(supporting) < 2:
            sink.add(where.file, f"claim '{claim.id}': credibility 1 (confirmed) needs two "
                     f"independent supporting sources, it has {len(supporting)}",
                     line=where.line, severity="warning", code="unconfirmed-credibility-1",
                     hint="add the second source, or grade it 2 (probably true)")
        if claim.spec.kind == "judgment" and claim.spec.likelihood:
            _check_estimative(claim.spec.text, claim.spec.likelihood, where.file, where.line,
                              claim.id, sink)


def _lint_judgments(area: Area, sink: Collector) -> None:
    for kj in area.meta.key_judgments:
        _check_estimative(kj.text, kj.likelihood, area.display, None, kj.id, sink)


def _check_estimative(text: str, likelihood: str, file: str, line: int | None, ident: str,
                      sink: Collector) -> None:
    terms = _terms_in(text)
    if likelihood not in terms:
        sink.add(file, f"'{ident}': the text does not use its likelihood term "
                 f"'{likelihood}'", line=line, severity="warning", code="likelihood-not-stated",
                 hint=f"say '{likelihood}' in the sentence, or change `likelihood:`")
    others = [t for t in terms if t != likelihood]
    if others:
        sink.add(file, f"'{ident}': mixes likelihood terms ({', '.join(others)}) with "
                 f"'{likelihood}'", line=line, severity="warning", code="mixed-likelihood-scale",
                 hint="use one ICD 203 term per judgment: " + ", ".join(SCALE_TERMS))
    for sentence in SENTENCE.findall(text):
        if CONFIDENCE.search(sentence) and _terms_in(sentence):
            sink.add(file, f"'{ident}': likelihood and confidence in the same sentence",
                     line=line, severity="warning", code="likelihood-with-confidence",
                     hint="state confidence separately (the `confidence:` field is printed "
                          "on its own line)")
            break


def _anchors(project: Project, area: Area) -> set[str]:
    anchors = set(FIXED_ANCHORS)
    anchors |= {f"claim-{c.id}" for c in area.claims}
    anchors |= {f"note-{n.slug}" for n in area.notes}
    anchors |= {f"kj-{k.id}" for k in area.meta.key_judgments}
    anchors |= {f"ref-{r}" for r in project.references}
    return anchors


def _lint_texts(project: Project, area: Area, sink: Collector) -> None:
    anchors = _anchors(project, area)
    notes = {n.slug for n in area.notes}
    used = {m.target for _, text, _ in area.texts() for m in find_markers(text)
            if m.kind == "claim"}
    for display, first, image, _ in area.images():  # found once, by the loader
        if not image.alt:
            sink.add(display, "image without alt text", line=first + image.line - 1,
                     column=image.column, severity="warning", code="missing-alt-text",
                     hint="describe the image: ![what it shows](file.png); audiences "
                          "with require_alt_text refuse to build without it")
    for display, text, first in area.texts():
        for match in LINK.finditer(text):
            target = match.group(1)
            line_in_text, column = _position(text, match.start())  # cached line index
            line = first + line_in_text - 1
            if target.startswith("#") and target[1:] not in anchors:
                sink.add(display, f"link to '{target}', which is not in this pack", line=line,
                         column=column, severity="warning", code="broken-link",
                         hint="link to #claim-ID, #ref-ID, #note-SLUG or a section id")
            elif not web_or_anchor(target) and not note_anchor(target, area.slug, notes):
                sink.add(display, f"link to '{target}' will be plain text in the pack",
                         line=line, column=column, severity="warning", code="broken-link",
                         hint="packs keep links to the web (https://...), mail (mailto:), "
                              "anchors (#claim-ID) and other notes of the same area "
                              "(20-other.md); never to files")
    for claim in area.claims:
        if claim.id not in used:
            sink.add(claim.location.file, f"claim '{claim.id}' is never referenced in the "
                     "text", line=claim.location.line, severity="warning",
                     hint=f"put [[{claim.id}]] after the sentence that makes it",
                     code="unreferenced-claim")


def _lint_handling(project: Project, area: Area, sink: Collector) -> None:
    for note in area.notes:
        for claim in note.claims:
            if TLP_ORDER[claim.spec.handling] > TLP_ORDER[note.meta.handling]:
                sink.add(claim.location.file, f"claim '{claim.id}' is TLP:{claim.spec.handling}"
                         f" in a note marked TLP:{note.meta.handling}; the whole note is "
                         f"handled as TLP:{claim.spec.handling}", line=claim.location.line,
                         severity="warning", code="handling-inconsistency",
                         hint="mark the note itself, or move the claim to a restricted note",
                         handling="CLEAR")  # names and markings only, no text


def _lint_references(project: Project, sink: Collector) -> None:
    used = {e.ref for c in project.claims for e in c.spec.evidence}
    used |= {m.target for a in project.areas for _, t, _ in a.texts()
             for m in find_markers(t) if m.kind == "cite"}
    used |= {m.target for a in project.areas for m in find_markers(a.meta.source_summary)
             if m.kind == "cite"}
    used |= {r.custom.derived_from for r in project.references.values() if r.custom.derived_from}
    for ref_id, ref in project.references.items():
        if not ref.custom.graded:
            sink.add(REFERENCES_FILE, f"reference '{ref_id}' is not graded yet: its "
                     f"reliability {ref.custom.reliability} is a placeholder",
                     line=project.reference_lines.get(ref_id), severity="warning",
                     code="ungraded-source",
                     hint="read the source, set custom.reliability and custom.descriptor, "
                     "then delete 'graded: false'")
        if ref_id not in used:
            sink.add(REFERENCES_FILE, f"reference '{ref_id}' is never cited",
                     line=project.reference_lines.get(ref_id), severity="warning",
                     code="unused-reference",
                     hint="cite it as evidence or with [@id], or remove it")


def _lint_evidence(project: Project, sink: Collector) -> None:
    """The graded record: disputes show their counter-evidence, evidence says where."""
    thresholds = project.config.thresholds
    for claim in project.claims:
        where = claim.location
        spec = claim.spec
        for index, evidence in enumerate(spec.evidence):
            if not evidence.locator:
                sink.add(where.file, f"claim '{claim.id}': evidence #{index + 1} "
                         f"('{evidence.ref}') has no locator", line=where.line,
                         severity="warning", code="missing-locator",
                         hint="say where in the source: article, section, paragraph, page "
                              "(for a web page, its heading and paragraph)")
        if spec.kind != "information":
            continue
        status = grade(spec, project.references, thresholds).status
        contradicting = [e.ref for e in spec.evidence if e.stance == "contradicts"
                         and (ref := project.references.get(e.ref)) is not None
                         and ref.custom.reliability <= thresholds.contradicting_reliability]
        if (spec.credibility in (4, 5) or status is Status.DISPUTED) and not contradicting:
            sink.add(where.file, f"claim '{claim.id}' is graded credibility "
                     f"{spec.credibility} ({CREDIBILITY_WORDS[spec.credibility]}) but no "
                     f"source graded {thresholds.contradicting_reliability} or better "
                     "contradicts it", line=where.line, severity="warning",
                     code="disputed-without-counter-evidence",
                     hint="add the contradicting source (stance: contradicts) that the "
                          "reader can check, or grade it 3 (possibly true) or 6 (cannot be "
                          "judged) and say in the rationale what is missing")


def _lint_judgment_basis(project: Project, area: Area, sink: Collector) -> None:
    """A key judgment's likelihood must agree with the statuses of the claims it cites."""
    thresholds = project.config.thresholds
    claims = {c.id: c for c in area.claims}
    for kj in area.meta.key_judgments:
        cited = [claims[i] for i in dict.fromkeys(CLAIM_ID.findall(f"{kj.text} {kj.basis}"))
                 if i in claims]
        statuses = {c.id: grade(c.spec, project.references, thresholds).status for c in cited}
        facts = {i: s for i, s in statuses.items()
                 if s not in (Status.JUDGMENT, Status.ASSUMPTION)}
        if not facts:
            continue
        rank = SCALE_TERMS.index(kj.likelihood)
        positive = rank >= SCALE_TERMS.index("likely")
        negative = rank <= SCALE_TERMS.index("unlikely")
        sourced = [i for i, s in facts.items() if s is Status.SOURCED]
        disputed = [i for i, s in facts.items() if s is Status.DISPUTED]
        problem = ""
        if positive and not sourced:
            problem = (f"says '{kj.likelihood}' but none of the claims it rests on is sourced "
                       f"({', '.join(f'{i} {s.value}' for i, s in facts.items())})")
        elif negative and not disputed:
            problem = (f"says '{kj.likelihood}' but none of the claims it rests on is disputed "
                       f"({', '.join(f'{i} {s.value}' for i, s in facts.items())})")
        if not problem and kj.confidence == "high":
            weak = [f"{c.id} {facts[c.id].value}" for c in cited if c.id in facts
                    and not _firm(facts[c.id], project, c, thresholds)]
            if weak:
                problem = ("has high confidence but rests on claims that are neither sourced "
                           "nor disputed by sources graded A-B (" + ", ".join(weak) + ")")
        if problem:
            sink.add(area.display, f"key judgment '{kj.id}' {problem}", severity="warning",
                     code="judgment-contradicts-body",
                     hint="change the likelihood or the confidence, or cite the claims that "
                          "carry it in `basis:` (by id, e.g. (CYB-01))")


def _firm(status: Status, project: Project, claim: Claim, thresholds: Thresholds) -> bool:
    """A claim that can carry a high-confidence judgment: sourced, or disputed by a source
    graded A or B."""
    if status is Status.SOURCED:
        return True
    contra = grade(claim.spec, project.references, thresholds).contra_grade
    return status is Status.DISPUTED and contra in ("A", "B")


def _lint_quotes(project: Project, sink: Collector) -> None:
    """A claim drawn from a source graded E or F must show that source's words."""
    for claim in project.claims:
        first = origin(claim.spec, project.references)
        if first is None or first.quote:
            continue
        reliability = project.references[first.ref].custom.reliability
        if reliability in ("E", "F"):
            sink.add(claim.location.file, f"claim '{claim.id}' is drawn from '{first.ref}', "
                     f"graded {reliability}, but its evidence entry carries no quote",
                     line=claim.location.line, severity="warning", code="missing-quote",
                     hint="add quote: with the source's own words at the locator, so a "
                          "reader can see what it said against the claim as worded")


def _lint_stale(project: Project, sink: Collector) -> None:
    """Reasons written for a reader: no editing history, no raw reference ids (printed as
    written, an id means nothing to a reader; cite with [@id] in Markdown texts instead)."""
    ids = [i for i in project.references if "-" in i or any(ch.isdigit() for ch in i)]
    raw = (re.compile(r"(?<![\w@-])(" + "|".join(map(re.escape, sorted(ids, key=len,
                      reverse=True))) + r")(?![\w-])") if ids else None)

    def check(file: str, line: int | None, what: str, text: str) -> None:
        if (match := STALE.search(text)) is not None:
            sink.add(file, f"{what} speaks of earlier grading ('{match.group(0)}')",
                     line=line, severity="warning", code="stale-rationale",
                     hint="say why the claim stands as it does now; the history of "
                          "editions belongs in `revisions:` and `briefgen diff`")
        if raw is not None and (found := raw.search(text)) is not None:
            sink.add(file, f"{what} names reference '{found.group(1)}' by its id",
                     line=line, severity="warning", code="raw-reference-id",
                     hint="name the source as a reader knows it (publisher, title, year); "
                          "the evidence list already links to it")

    for claim in project.claims:
        where = claim.location
        check(where.file, where.line, f"claim '{claim.id}': rationale", claim.spec.rationale)
        for index, evidence in enumerate(claim.spec.evidence):
            check(where.file, where.line,
                  f"claim '{claim.id}': the note of evidence #{index + 1}", evidence.note)
    for area in project.areas:
        for kj in area.meta.key_judgments:
            check(area.display, None, f"key judgment '{kj.id}': basis", kj.basis)
        for index, item in enumerate(area.meta.editorial):
            check(area.display, None, f"editorial item #{index + 1}: reason", item.reason)


def _lint_dates(project: Project, sink: Collector) -> None:
    """Every reference says when it was issued, and prints its date once."""
    for ref in project.references.values():
        line = project.reference_lines.get(ref.id)
        if ref.issued is None:
            sink.add(REFERENCES_FILE, f"reference '{ref.id}' has no date (issued)",
                     line=line, severity="warning", code="missing-date",
                     hint="add issued: YYYY-MM-DD (or YYYY-MM, YYYY); for an undated source "
                          "write issued: {literal: \"n.d.\"} and say in `note` how it was "
                          "dated")
            continue
        if not ref.issued.date_parts:
            continue
        year = str(ref.issued.date_parts[0][0])
        for field in ("volume", "issue", "number"):
            value = getattr(ref, field)
            if value is not None and re.match(rf"{year}(?![\d/])", str(value).strip()):
                sink.add(REFERENCES_FILE, f"reference '{ref.id}': {field} '{value}' repeats "
                         f"the year {year} that issued prints", line=line,
                         severity="warning", code="repeated-date-parts",
                         hint="keep the year in issued only, e.g. volume/issue: 3 "
                              "(it prints \"no. 3, 2016\")")
                break


def _lint_summaries(project: Project, sink: Collector) -> None:
    for ref in project.references.values():
        grading = ref.custom
        if grading.read == "original":
            continue
        if grading.reliability in ("A", "B") or grading.primary:
            what = "A-B" if grading.reliability in ("A", "B") else "a primary record"
            sink.add(REFERENCES_FILE, f"reference '{ref.id}' was read through a "
                     f"{grading.read} but is graded as {what}", severity="warning",
                     line=project.reference_lines.get(ref.id),
                     code="summary-graded-as-original",
                     hint="grade what was read (the summary's issuer, C or lower, not "
                          "primary), or read the original and set read: original")
