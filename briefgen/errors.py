"""One exception family. Every user-facing problem carries a location and a hint."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: a file relative to the project, and a line when there is one."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


# FIRST TLP 2.0 levels, least restrictive first.
TLP_ORDER: dict[str, int] = {"CLEAR": 0, "GREEN": 1, "AMBER": 2, "AMBER+STRICT": 3, "RED": 4}
CONTENT_FOLDER = "sources/"


def tlp_spelling(value: str) -> str | None:
    """The level a TLP spelling names, as FIRST writes it or bare (`TLP:RED`, `tlp:amber+strict`,
    ` Green `), upper-cased and not yet checked against TLP_ORDER; None unless it is ASCII
    (str.upper() would also make "ı" an I and "ſ" an S, spellings the editor schema refuses).
    The one reading of a level, for files (schema.TLP) and the command line (--clearance)."""
    if not value.isascii():
        return None
    return value.strip().upper().removeprefix("TLP:").strip()


def printable(text: str) -> str:
    """`text` with control and format characters (escape sequences, bidi overrides, zero
    widths) written as \\uXXXX, so a value from a file cannot drive the terminal or disguise
    itself in a message. Newlines and tabs stay."""
    if text.isprintable():   # none of those categories (nor any other unprintable): as is
        return text
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")
                   else f"\\u{ord(c):04x}" for c in text)


@dataclass(frozen=True)
class Diagnostic:
    """A single located message, compiler style, carrying the handling of what it quotes.

    `handling` is the TLP level of the text the message may quote (the note, area or
    reference at its location), set by the loader and the build (`classify`). Every channel
    shows a diagnostic through `shown_to(clearance)`: the message and hint only when the
    channel's reader is cleared for them, else the file, line and code with "(withheld:
    TLP:X)". `format` and `to_dict` default to a TLP:CLEAR reader, so a channel that names no
    clearance quotes nothing withheld. A diagnostic about a file under `sources/` whose
    handling was never established is treated as TLP:RED (fail closed).
    """

    location: Location
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning
    code: str = ""
    handling: str | None = None
    more: int = 0   # a closing line standing for this many unlisted diagnostics (Collector)

    @property
    def level(self) -> str:
        if self.handling is not None:
            return self.handling
        return "RED" if self.location.file.startswith(CONTENT_FOLDER) else "CLEAR"

    def shown_to(self, clearance: str = "CLEAR") -> Diagnostic:
        """This diagnostic as a reader cleared for `clearance` may see it."""
        if TLP_ORDER[self.level] <= TLP_ORDER[clearance]:
            return self
        return replace(self, message=f"a problem in text handled as TLP:{self.level} "
                       f"(withheld: TLP:{self.level})",
                       hint="open the file at this line to see it; messages never quote "
                            "text above the clearance of whoever may read them")

    def to_dict(self, clearance: str = "CLEAR") -> dict[str, object]:
        """The diagnostic as `check --format json` and the preview's status show it."""
        shown = self.shown_to(clearance)
        return {"file": printable(self.location.file), "line": self.location.line,
                "column": self.location.column, "severity": self.severity,
                "message": printable(shown.message), "hint": printable(shown.hint),
                "code": self.code, **({"more": self.more} if self.more else {})}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Diagnostic:
        """A diagnostic `to_dict` wrote (as a TLP:CLEAR reader saw it), read back."""
        line, column = data.get("line"), data.get("column")
        return cls(Location(str(data["file"]), line if isinstance(line, int) else None,
                            column if isinstance(column, int) else None),
                   str(data["message"]), str(data.get("hint", "")),
                   str(data.get("severity", "warning")), str(data.get("code", "")), "CLEAR")

    def format(self, clearance: str = "CLEAR") -> str:
        shown = self.shown_to(clearance)
        code = f" [{self.code}]" if self.code else ""
        text = printable(f"{self.location}: {self.severity}: {shown.message}{code}")
        if shown.hint:
            text += "\n    hint: " + printable(shown.hint)
        return text


class BriefgenError(Exception):
    """A user mistake or an environment problem: printed without a traceback."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics = diagnostics if isinstance(diagnostics, list) else [diagnostics]
        super().__init__()

    def __str__(self) -> str:   # formatted when asked, not for every error raised
        return "\n".join(d.format() for d in self.diagnostics)


def error(file: str | Path, message: str, *, line: int | None = None, hint: str = "",
          code: str = "") -> BriefgenError:
    return BriefgenError(Diagnostic(Location(str(file), line), message, hint, code=code))


# A file with thousands of the same mistake (a pasted log, a generated note) gets its first
# few, then one line counting the rest: the reader needs the pattern, not 350,000 lines.
SAME_KIND_LIMIT = 50


@dataclass
class Collector:
    """Gathers diagnostics so one run reports every problem, not just the first.

    At most `SAME_KIND_LIMIT` diagnostics of one kind (file, code and severity) are kept;
    the rest are counted in one closing diagnostic of that kind ("and N more ..."), so the
    count of problems stays true and their number cannot swamp a terminal or a CI log.
    """

    diagnostics: list[Diagnostic] = field(default_factory=list)
    _kinds: dict[tuple[str, str, str], int] = field(default_factory=dict, repr=False)
    _rest: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict,
                                                               repr=False)

    def add(self, file: str | Path, message: str, *, line: int | None = None,
            column: int | None = None, hint: str = "", severity: str = "error",
            code: str = "", handling: str | None = None) -> None:
        self.push(Diagnostic(Location(str(file), line, column), message, hint, severity, code,
                             handling))

    def push(self, diagnostic: Diagnostic) -> None:
        kind = (diagnostic.location.file, diagnostic.code, diagnostic.severity)
        extra = diagnostic.more   # a closing line from another collector: its count
        if not extra:
            seen = self._kinds.get(kind, 0) + 1
            self._kinds[kind] = seen
            if seen <= SAME_KIND_LIMIT:
                self.diagnostics.append(diagnostic)
                return
            extra = 1
        index, more = self._rest.get(kind, (len(self.diagnostics), 0))
        if not more:
            self.diagnostics.append(diagnostic)   # the closing line's place
        more += extra
        self._rest[kind] = index, more
        self.diagnostics[index] = Diagnostic(
            Location(diagnostic.location.file),
            f"and {more:,} more like the above in this file, not listed",
            "fix the ones listed (they usually share one cause) and run again",
            diagnostic.severity, diagnostic.code, diagnostic.handling, more)

    def push_all(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.push(diagnostic)

    def extend(self, exc: BriefgenError) -> None:
        self.push_all(exc.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise BriefgenError(self.errors)
