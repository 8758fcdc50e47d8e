"""What a pack carries inside it for a later audit: its claims ledger and its sources.

Every embedded file is generated from the pack confined to its audience, never copied from
disk: the notes the pack was built from (front matter rewritten from what the audience may
see: no evidence citing a withheld reference, no YAML comments), the area file, the project
config, the references the pack cites (a subset, not the whole bibliography) and the ledger
of the pack's own claims. A file on disk may hold what the audience may not see; what is
embedded holds only what the PDF itself shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from briefgen.i18n import language
from briefgen.ledger import pack_ledger
from briefgen.model import CONFIG_FILE
from briefgen.pack import Pack


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    description: str


def _dump(data: Any) -> str:  # noqa: ANN401
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _document(front: dict, body: str) -> bytes:
    """A Markdown file with YAML front matter, as briefgen reads it."""
    return f"---\n{_dump(front)}---\n{body}".encode()


def attachments(pack: Pack) -> list[Attachment]:
    def dumped(model: Any) -> dict:  # noqa: ANN401
        return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    _ = language(pack.lang).gettext   # descriptions a PDF viewer shows: the pack's language

    out = [Attachment("claims-ledger.json",
                      (json.dumps(pack_ledger(pack), indent=2, ensure_ascii=False) + "\n").encode(),
                      _("Every claim in this pack with its computed status and evidence"))]
    refs = [dumped(ref) for ref in pack.references.values()]
    out.append(Attachment("references.yaml", _dump(refs).encode(),
                          _("The references this pack cites, with their grades (CSL-YAML)")))
    out.append(Attachment(CONFIG_FILE, _dump(dumped(pack.project.config)).encode(),
                          _("Project configuration")))
    out.append(Attachment(pack.area.display, _document(dumped(pack.area.meta), pack.area.scope),
                          _("Area: key judgments, source summary, scope note")))
    out += [Attachment(note.display, _document(dumped(note.meta), note.body),
                       _("Source note: %(title)s") % {"title": note.meta.title})
            for note in pack.notes]
    return out
