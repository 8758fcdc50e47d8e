"""One exception family. Every user-facing problem carries a location and a hint."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Diagnostic:
    """A single located message, compiler style."""

    location: Location
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning
    code: str = ""

    def to_dict(self) -> dict[str, object]:
        """The diagnostic as `check --format json` and the preview's status show it."""
        return {"file": self.location.file, "line": self.location.line,
                "column": self.location.column, "severity": self.severity,
                "message": self.message, "hint": self.hint, "code": self.code}

    def format(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        text = f"{self.location}: {self.severity}: {self.message}{code}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class BriefgenError(Exception):
    """A user mistake or an environment problem: printed without a traceback."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics = diagnostics if isinstance(diagnostics, list) else [diagnostics]
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def error(file: str | Path, message: str, *, line: int | None = None, hint: str = "",
          code: str = "") -> BriefgenError:
    return BriefgenError(Diagnostic(Location(str(file), line), message, hint, code=code))


@dataclass
class Collector:
    """Gathers diagnostics so one run reports every problem, not just the first."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, file: str | Path, message: str, *, line: int | None = None,
            column: int | None = None, hint: str = "", severity: str = "error",
            code: str = "") -> None:
        self.diagnostics.append(
            Diagnostic(Location(str(file), line, column), message, hint, severity, code))

    def extend(self, exc: BriefgenError) -> None:
        self.diagnostics.extend(exc.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise BriefgenError(self.errors)
