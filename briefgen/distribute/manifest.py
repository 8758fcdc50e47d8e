"""The one reader of `output/manifest.json` for distribution.

Accepts both shapes: today's entries (`"pdf": "<audience>/<area>.pdf"`, no format) and the
per-file entries (`"file"`, `"format"`). A recorded path is used only if it names a file
below the output folder (no absolute path, no `..`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from briefgen.errors import error
from briefgen.fingerprint import MANIFEST


@dataclass(frozen=True)
class Entry:
    """One file a build wrote, as its manifest records it."""

    audience: str
    area: str
    format: str
    file: str  # relative to the output folder, POSIX
    sha256: str
    input_hash: str
    pages: int | None


def entry_from(raw: dict) -> Entry:
    """One manifest entry, in either shape (`file`/`format` or the older `pdf`)."""
    file = raw.get("file") or raw["pdf"]
    rel = PurePosixPath(str(file))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"unsafe path {file!r}")
    return Entry(audience=str(raw["audience"]), area=str(raw["area"]),
                 format=str(raw.get("format", "pdf")), file=rel.as_posix(),
                 sha256=str(raw.get("sha256") or ""),
                 input_hash=str(raw.get("input_hash") or ""), pages=raw.get("pages"))


def read_entries(out_dir: Path, shown: str = "output") -> list[Entry]:
    """Every entry of the manifest in `out_dir`; a missing or unreadable manifest is a
    located error that says to build first."""
    path = out_dir / MANIFEST
    where = f"{shown}/{MANIFEST}"
    if path.is_symlink() or not path.is_file():
        raise error(where, "no manifest: nothing has been built here",
                    hint="build first: 'briefgen build' (or 'briefgen bundle --build')")
    try:
        data = json.loads(path.read_text("utf-8"))
        return [entry_from(p) for p in data.get("packs", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise error(where, f"the manifest cannot be read ({exc})",
                    hint="build again: 'briefgen build --force'") from None
