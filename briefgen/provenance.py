"""What a pack carries inside it for a later audit: its claims ledger and its sources.

Only what the audience may see goes in: the notes the pack was built from (withheld notes
are not attached), the area file, the project config, the references the pack cites (a
generated subset, not the whole bibliography) and the ledger of the pack's own claims.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from briefgen import __version__
from briefgen.model import CONFIG_FILE
from briefgen.pack import Pack


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    description: str


def ledger(pack: Pack) -> dict:
    project = pack.project
    claims = []
    for claim in pack.claims:
        g = pack.gradings[claim.id]
        claims.append({
            "id": claim.id, "text": claim.spec.text, "kind": claim.spec.kind,
            "status": g.status.value, "reason": g.reason, "grade": g.grade,
            "credibility": claim.spec.credibility, "single_primary_source": g.single_primary,
            "evidence": [{"ref": e.ref if e.ref in pack.references else "withheld",
                          "stance": e.stance, "locator": e.locator}
                         for e in claim.spec.evidence],
            "source": str(claim.location),
        })
    return {"generator": f"briefgen {__version__}", "title": project.config.title,
            "area": pack.area.slug, "audience": pack.audience.name,
            "edition": project.config.edition, "as_of": project.config.as_of.isoformat(),
            "handling": f"TLP:{pack.tlp}", "claims": claims}


def attachments(pack: Pack) -> list[Attachment]:
    root = pack.project.root
    files = [(CONFIG_FILE, "Project configuration"),
             (pack.area.display, "Area: key judgments, source summary, scope note")]
    files += [(note.display, f"Source note: {note.meta.title}") for note in pack.notes]
    out = [Attachment("claims-ledger.json",
                      (json.dumps(ledger(pack), indent=2, ensure_ascii=False) + "\n").encode(),
                      "Every claim in this pack with its computed status and evidence")]
    refs = [ref.model_dump(by_alias=True, exclude_none=True, mode="json")
            for ref in pack.references.values()]
    out.append(Attachment(
        "references.yaml", yaml.safe_dump(refs, allow_unicode=True, sort_keys=False).encode(),
        "The references this pack cites, with their grades (CSL-YAML)"))
    for display, description in files:
        out.append(Attachment(display, (root / display).read_bytes(), description))
    return out
