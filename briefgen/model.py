"""Plain data for a loaded project. Schemas (what users write) live in schema.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import paths
from briefgen.errors import Diagnostic, Location

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.images import Located
    from briefgen.loading import HandlingMap
    from briefgen.markup import Image

    # Each image a text shows, and where its file is: located once, when the text is loaded.
    FoundImages = tuple[tuple[Image, Located], ...]
from briefgen.schema import (
    TLP_ORDER,
    AreaMeta,
    AudienceConfig,
    ClaimSpec,
    NoteMeta,
    ProjectConfig,
    Reference,
)

CONFIG_FILE = "briefgen.yaml"
REFERENCES_FILE = "sources/references.yaml"


@dataclass(frozen=True)
class Claim:
    spec: ClaimSpec
    area: str
    note: str
    location: Location
    # The line of each evidence entry's `quote` (or of the entry), in the order of
    # spec.evidence as written: for located quote diagnostics (the loaded project's, not a pack's).
    quote_lines: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Note:
    slug: str
    display: str
    meta: NoteMeta
    body: str
    body_line: int
    claims: tuple[Claim, ...]
    images: FoundImages = ()
    # The note's one handling, computed once by the loader: the strictest of the project's,
    # the area's, the note's own and its claims' (a sentence carrying a restricted claim would
    # leak it). Every check, pack and message reads this, never the front matter.
    handling: str = "CLEAR"


@dataclass(frozen=True)
class Area:
    slug: str
    display: str
    meta: AreaMeta
    scope: str
    scope_line: int
    notes: tuple[Note, ...]
    scope_images: FoundImages = ()
    handling: str = "CLEAR"  # the strictest of the project's and the area's own (loader)

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(c for n in self.notes for c in n.claims)

    def images(self) -> list[tuple[str, int, Image, Located]]:
        """(file, first line of its text, image, where its file is) for every image the scope
        note and the notes show."""
        texts = [(self.display, self.scope_line, self.scope_images),
                 *((n.display, n.body_line, n.images) for n in self.notes)]
        return [(display, line, image, found) for display, line, found_images in texts
                for image, found in found_images]

    def texts(self) -> list[tuple[str, str, int]]:
        """(file, Markdown text, first line) of every body text: scope note, then notes."""
        return [(self.display, self.scope, self.scope_line),
                *((n.display, n.body, n.body_line) for n in self.notes)]


@dataclass(frozen=True)
class Audience:
    name: str
    directory: Path
    config: AudienceConfig
    # The folders of the audiences it extends (built-in or the project's), most general first.
    bases: tuple[Path, ...] = ()

    @property
    def layers(self) -> list[Path]:
        """Folders that style this audience, most general first (built-in, then project)."""
        return [*self.bases, self.directory]

    def clears(self, tlp: str) -> bool:
        return TLP_ORDER[tlp] <= TLP_ORDER[self.config.clearance]


@dataclass(frozen=True)
class Project:
    root: Path
    config: ProjectConfig
    references: dict[str, Reference]
    reference_lines: dict[str, int]
    areas: tuple[Area, ...]
    audiences: dict[str, Audience]
    files: tuple[Path, ...] = field(default=())  # every input file read, for hashing
    warnings: tuple[Diagnostic, ...] = field(default=())
    # The handling of each file and bibliography entry (loading.HandlingMap): how every
    # diagnostic about the project gets the level of what it may quote.
    handling_map: HandlingMap | None = None

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(c for a in self.areas for c in a.claims)


def stylesheets_for(audience: Audience) -> list[Path]:
    """base.css (or an audience's replacement), then each layer's style.css in order."""
    overrides = [p / "templates" / "base.css" for p in reversed(audience.layers)]
    base = next((p for p in overrides if p.is_file()), paths.TEMPLATES / "base.css")
    return [base, *(p / "style.css" for p in audience.layers if (p / "style.css").is_file())]
