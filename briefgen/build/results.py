"""What a build reports for each pack: a typed status and located diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from briefgen.errors import Diagnostic, Location, printable
from briefgen.pack import Pack, Withheld


@dataclass(frozen=True)
class Written:
    """One file of a pack: its format, where it is (relative to the output folder), its
    hash and, for a PDF, its pages."""

    format: str
    file: str
    sha256: str
    pages: int = 0


class PackStatus(StrEnum):
    BUILT = "built"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    WITHHELD = "withheld"     # the whole area is above the audience's clearance


@dataclass
class Job:
    """One pack to render: its confined pack and where and how to write it."""

    area: str
    audience: str
    output: Path
    input_hash: str
    pack: Pack
    stylesheets: list[Path] = field(default_factory=list)
    variant: str | None = None
    tags: bool = False
    withheld: list[Withheld] = field(default_factory=list)
    visible: str = ""     # pack.visible_digest: what its audience may see
    formats: tuple[str, ...] = ("pdf",)   # the editions to make; `output` is the first's
    parts: tuple[Pack, ...] = ()          # a book's areas (briefgen.book); empty for a pack

    def path(self, fmt: str) -> Path:
        return self.output.with_suffix(f".{fmt}")


@dataclass
class PackResult:
    area: str
    audience: str
    status: PackStatus
    output: str = ""
    pages: int = 0
    seconds: float = 0.0
    sha256: str = ""
    input_hash: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)  # why it failed; warnings
    withheld: list[Withheld] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)   # resources the fetcher refused
    visible: str = ""         # pack.visible_digest of the pack this result is for
    output_kept: bool = True  # a failed pack: the previous good file is still in place
    tlp: str | None = None    # the pack's marking: the level of a message about the pack
    files: list[Written] = field(default_factory=list)   # every edition written or kept

    @property
    def problems(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def message(self) -> str:
        return self.message_for()

    def message_for(self, clearance: str = "CLEAR") -> str:
        """The problems in one line, each with its file and line where it has one, as a
        reader cleared for `clearance` may see them."""
        shown = [d.shown_to(clearance) for d in self.problems]
        return printable("; ".join(f"{d.location}: {d.message}" if d.location.file
                                   else d.message for d in shown))

    def fail(self, message: str, file: str = "", line: int | None = None,
             hint: str = "", *, quotes: bool = False) -> PackResult:
        """Mark the pack failed. A message of briefgen's own words is TLP:CLEAR; one that
        `quotes` an exception's text (a template's or the layout's) gets the handling of the
        place it names or, failing that, of the pack (`HandlingMap.classify`)."""
        self.status = PackStatus.FAILED
        self.diagnostics.append(Diagnostic(Location(file, line), message, hint,
                                           handling=None if quotes else "CLEAR"))
        return self
