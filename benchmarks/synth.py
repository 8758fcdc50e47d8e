"""A synthetic briefgen project for the benchmark: deterministic, any size.

Every area has `notes` notes; every note has `claims` claims that cycle through the five
outcomes of the caveats rule (sourced by a primary record, sourced by two sources,
uncorroborated, disputed, judgment), so the caveats section grows with the notes the way it
does in a real pack. Bodies are pseudo-English from a fixed word list and a seeded generator:
the same arguments always write the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

_WORDS = """
ministry bureau provincial office statute regulation council security public order police
border record report inspection registration procedure national local department agency
officer unit system network information data service operation programme exercise training
exchange agreement cooperation partner region authority duty function responsibility
administration enforcement investigation case evidence source document publication annual
review audit oversight court judgment decision notice guidance standard framework measure
policy plan strategy capacity resource budget staff personnel equipment technology platform
the a of and in to for with on by under within across between through during after before
which that this these those its their each every several many some most few other new
formal informal regular periodic joint separate central general specific relevant related
established reported described stated confirmed published issued adopted amended revised
"""
VOCAB = tuple(_WORDS.split())
RELIABILITY = "ABCDEF"


def sentence(rng: random.Random, low: int = 9, high: int = 22) -> str:
    words = [rng.choice(VOCAB) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def references(count: int = 24) -> str:
    out = ["# Synthetic bibliography (benchmark).\n"]
    for i in range(count):
        grade = RELIABILITY[i % 6]
        out.append(
            f"- id: ref-{i:02d}\n"
            f"  type: report\n"
            f"  title: \"Synthetic source number {i} on public administration\"\n"
            f"  author: [{{literal: \"Authority {i % 7}\"}}]\n"
            f"  issued: {{date-parts: [[{2000 + i}, {1 + i % 12}, {1 + i % 27}]]}}\n"
            f"  publisher: \"Publisher {i % 5}\"\n"
            f"  custom:\n"
            f"    reliability: {grade}\n"
            f"    descriptor: \"Synthetic source graded {grade} for the benchmark.\"\n"
            f"    primary: {'true' if grade == 'A' else 'false'}\n")
    return "\n".join(out)


def _claim(claim_id: str, j: int, rng: random.Random) -> str:
    kind, credibility = "information", 2
    cycle = j % 5
    if cycle == 0:    # sourced: one primary record graded A
        evidence = [("ref-00", "supports")]
    elif cycle == 1:  # sourced: two independent sources graded B and C
        credibility = 1
        evidence = [("ref-01", "supports"), ("ref-02", "supports")]
    elif cycle == 2:  # uncorroborated: one source graded F
        credibility = 3
        evidence = [("ref-05", "supports")]
    elif cycle == 3:  # disputed: contradicted by a source graded A
        credibility = 3
        evidence = [("ref-04", "supports"), ("ref-06", "contradicts")]
    else:             # a judgment
        kind, credibility = "judgment", 6
        evidence = [("ref-05", "supports")]
    lines = [f"  - id: {claim_id}",
             f"    text: \"{sentence(rng, 12, 24)}\"",
             f"    kind: {kind}",
             f"    credibility: {credibility}",
             f"    rationale: \"{sentence(rng, 10, 18)}\"",
             "    evidence:"]
    for ref, stance in evidence:
        page = rng.randint(1, 300)
        lines.append(f"      - {{ref: {ref}, stance: {stance}, locator: \"p. {page}\","
                     f" note: \"{sentence(rng, 6, 12)}\"}}")
    return "\n".join(lines)


def note(area_index: int, note_index: int, claims: int, paragraphs_per_claim: int = 2) -> str:
    rng = random.Random(area_index * 100_003 + note_index)
    ids = [f"A{area_index:03d}-N{note_index:03d}-{j}" for j in range(claims)]
    front = "\n".join(_claim(cid, j, rng) for j, cid in enumerate(ids))
    body: list[str] = []
    for j, cid in enumerate(ids):
        if j % 2 == 0:
            body.append(f"## Section {j // 2 + 1}: {sentence(rng, 3, 6)[:-1]}")
        ref = f"ref-{rng.randrange(24):02d}"
        body.append(f"{paragraph(rng, 3)} [[{cid}]] {sentence(rng)} "
                    f"[@{ref}, p. {rng.randint(1, 300)}]")
        body += [paragraph(rng, 4) for _ in range(paragraphs_per_claim - 1)]
    if note_index % 3 == 0:
        body.append("\n".join(f"- {sentence(rng, 5, 12)}" for _ in range(5)))
    if note_index % 5 == 0:
        rows = ["| Year | Cases | Share |", "|---|---:|---:|"]
        rows += [f"| {2010 + k} | {rng.randint(100, 9999)} | {rng.randint(1, 99)} % |"
                 for k in range(6)]
        body.append("\n".join(rows))
    return (f"---\ntitle: \"Note {note_index}: {sentence(rng, 3, 7)[:-1]}\"\n"
            f"order: {note_index * 10}\nclaims:\n{front}\n---\n" + "\n\n".join(body) + "\n")


def area(area_index: int, title: str) -> str:
    rng = random.Random(-area_index - 1)
    return (f"---\ntitle: \"{title}\"\norder: {area_index}\n"
            f"summary: \"{sentence(rng, 15, 25)}\"\n"
            "key_judgments:\n"
            f"  - id: A{area_index:03d}-KJ1\n"
            f"    text: \"It is likely that {sentence(rng, 10, 16).lower()}\"\n"
            "    likelihood: likely\n    confidence: moderate\n"
            f"    basis: \"{sentence(rng)}\"\n"
            f"  - id: A{area_index:03d}-KJ2\n"
            f"    text: \"It is very unlikely that {sentence(rng, 10, 16).lower()}\"\n"
            "    likelihood: very unlikely\n    confidence: high\n"
            f"    basis: \"{sentence(rng)}\"\n"
            "source_summary: |\n"
            f"  {paragraph(rng, 3)} [@ref-00] [@ref-05]\n"
            "editorial:\n"
            + "".join(f"  - excerpt: \"{sentence(rng, 6, 12)}\"\n"
                      f"    reason: \"{sentence(rng, 4, 8)}\"\n" for _ in range(3))
            + f"---\n{paragraph(rng, 4)}\n\n{paragraph(rng, 3)}\n")


CONFIG = """title: "Synthetic benchmark briefing"
issuer: "briefgen benchmark"
edition: "1.0"
as_of: 2025-06-30
lang: en
default_audience: study-group
keywords: [benchmark]
revisions:
  - {edition: "1.0", date: 2025-06-30, summary: "Generated."}
"""
AUDIENCE = """title: Study group
page_size: A4
base_font_size: 10.5
clearance: CLEAR
explain_grades: true
"""
STYLE = ":root { --accent: #1f3a5f; }\nhtml { line-height: 1.5; }\n"


# The notes alone (no cover, contents, caveats or appendices): what Pandoc makes of them.
BODY_ONLY = """title: Notes only
page_size: A4
base_font_size: 10.5
clearance: CLEAR
sections: [body]
"""


def write_project(root: Path, areas: dict[str, int], claims: int = 6,
                  audiences: dict[str, str] | None = None) -> Path:
    """Write a project with one area per `areas` item (slug -> number of notes)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "briefgen.yaml").write_text(CONFIG, "utf-8")
    for name, text in (audiences or {"study-group": AUDIENCE}).items():
        (root / "styles" / name).mkdir(parents=True, exist_ok=True)
        (root / "styles" / name / "audience.yaml").write_text(text, "utf-8")
        (root / "styles" / name / "style.css").write_text(STYLE, "utf-8")
    (root / "sources").mkdir(exist_ok=True)
    (root / "sources/references.yaml").write_text(references(), "utf-8")
    for index, (slug, notes) in enumerate(areas.items(), start=1):
        folder = root / "sources" / slug
        folder.mkdir(exist_ok=True)
        (folder / "_area.md").write_text(area(index, f"Area {slug}"), "utf-8")
        for n in range(1, notes + 1):
            (folder / f"{n:03d}-note.md").write_text(note(index, n, claims), "utf-8")
    return root
