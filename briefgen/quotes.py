"""Quotes checked against a local copy of their source.

An evidence entry may carry `quote:`, the source's own words at its locator. A reference may
name a plain-text copy of the source inside the project (`custom: {copy: sources/copies/ID.txt}`);
every quote citing that reference must then appear in the copy verbatim: case-sensitive, with
runs of whitespace counted as one space. `…` or `[...]` in a quote joins fragments that must
appear in the copy in that order.

A quote is content of the claim that carries it (withheld with it), so no message here ever
prints a quote: each names the file and line where the quote is written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from briefgen import paths
from briefgen.errors import BriefgenError, Collector, Diagnostic
from briefgen.model import REFERENCES_FILE, Project
from briefgen.yamlio import read_text

GAP = re.compile(r"\s*(?:…|\[\.\.\.\]|\[…\])\s*")
SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return SPACE.sub(" ", text).strip()


def found(quote: str, text: str) -> bool:
    """Whether `quote` is in `text` (already normalised), its fragments in order."""
    start = 0
    for fragment in (normalise(f) for f in GAP.split(quote)):
        if not fragment:
            continue
        at = text.find(fragment, start)
        if at < 0:
            return False
        start = at + len(fragment)
    return True


def _linked(path: Path, root: Path) -> bool:
    """True if `path` or any folder between it and `root` is a symbolic link."""
    current = path
    while current != root and current != current.parent:
        if current.is_symlink():
            return True
        current = current.parent
    return False


def read_copy(project: Project, ref_id: str, sink: Collector) -> str | None:
    """The normalised text of a reference's `copy`, or None (with an error) if it cannot be
    used: outside the project, a link, not a regular file, too big or not UTF-8."""
    copy = project.references[ref_id].custom.local_copy
    assert copy is not None
    line = project.reference_lines.get(ref_id)
    root = project.root
    path = root / copy
    if os.path.isabs(copy) or not paths.inside(path, root) or ".." in Path(copy).parts:
        sink.add(REFERENCES_FILE, f"reference '{ref_id}': copy '{copy}' is outside the "
                 "project", line=line, code="quote-copy",
                 hint="keep the copy inside the project, e.g. sources/copies/ID.txt, and "
                      "write the path relative to the project folder")
        return None
    if _linked(path, root):
        sink.add(REFERENCES_FILE, f"reference '{ref_id}': copy '{copy}' is a symbolic link "
                 "(or is reached through one)", line=line, code="quote-copy",
                 hint="put the text file itself in the project, not a link to it")
        return None
    if not path.exists():
        sink.add(REFERENCES_FILE, f"reference '{ref_id}': copy '{copy}' does not exist",
                 line=line, code="quote-copy",
                 hint="save the source's text there as UTF-8 plain text, or fix the path")
        return None
    try:
        return normalise(read_text(path, copy))
    except BriefgenError as exc:
        for d in exc.diagnostics:
            sink.add(REFERENCES_FILE, f"reference '{ref_id}': copy '{copy}': {d.message}",
                     line=line, code="quote-copy", hint=d.hint)
        return None


def check(project: Project) -> list[Diagnostic]:
    """Errors for unusable copies; a `quote-not-found` warning for each quote missing from
    its reference's copy (never printing the quote)."""
    sink = Collector()
    texts: dict[str, str | None] = {}
    for claim in project.claims:
        for index, evidence in enumerate(claim.spec.evidence):
            ref = project.references.get(evidence.ref)
            if not evidence.quote or ref is None or ref.custom.local_copy is None:
                continue
            if evidence.ref not in texts:
                texts[evidence.ref] = read_copy(project, evidence.ref, sink)
            text = texts[evidence.ref]
            if text is None or found(evidence.quote, text):
                continue
            line = (claim.quote_lines[index] if index < len(claim.quote_lines)
                    else claim.location.line)
            sink.add(claim.location.file, f"claim '{claim.id}': the quote of evidence "
                     f"#{index + 1} ('{evidence.ref}') is not in its copy "
                     f"{ref.custom.local_copy}", line=line, severity="warning",
                     code="quote-not-found",
                     hint="copy the words exactly from the copy (only whitespace may differ; "
                          "join fragments with … or [...]), or correct the copy")
    return sink.diagnostics
