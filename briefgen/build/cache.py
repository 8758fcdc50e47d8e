"""What a build remembers: each pack's input hash, and the manifest of what it wrote.

A pack is rebuilt only when its input hash changes: the files it reads (project config,
bibliography, its area folder and the images its notes show, its audience folder), briefgen's
templates and fonts, and the versions of briefgen and the libraries that shape the PDF.
Hashing reads bytes only, so a no-op build never imports WeasyPrint. The hash also seeds the
PDF identifier, so the same inputs give byte-identical PDFs.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from briefgen import __version__, paths
from briefgen.build.output import atomic_write
from briefgen.build.results import PackResult, PackStatus
from briefgen.fingerprint import MANIFEST, STATE, versions
from briefgen.model import Area, Audience, Project


def _tree_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def image_files(project: Project, area: Area) -> list[Path]:
    """Every image file the area's texts show, wherever in the project it lives."""
    found = {located.path for *_, located in area.images()}
    return sorted(p for p in found if p is not None)


def input_hash(project: Project, area: Area, audience: Audience) -> str:
    """Everything a pack reads: config, bibliography, its area folder and the images its
    notes show, its audience's folders, briefgen's templates and fonts, library versions."""
    digest = hashlib.sha256(versions().encode())
    root = project.root
    files = [root / "briefgen.yaml", root / "sources" / "references.yaml"]
    files += _tree_files(root / "sources" / area.slug)
    files += [p for p in image_files(project, area) if p not in files]
    for layer in audience.layers:
        files += _tree_files(layer)
    roots = [root, paths.PACKAGE_ROOT]
    for path in files:
        # Paths relative to the project or the package, so the same project checked out in
        # another folder hashes the same (the hash seeds the PDF identifier).
        digest.update(_portable(path, roots).encode() + b"\0")
        digest.update(_file_digest(path, roots))
    digest.update(_package_bytes(root))
    digest.update(f"{area.slug}\0{audience.name}".encode())
    return digest.hexdigest()


@cache
def _package_bytes(root: Path) -> bytes:
    """What briefgen's templates and fonts feed into each pack's hash: the same bytes as if
    each file were hashed in turn, but read once per process (they do not change while a
    build runs), so the hashes, and the PDFs they seed, stay as they were."""
    roots = [root, paths.PACKAGE_ROOT]
    return b"".join(_portable(path, roots).encode() + b"\0" + _file_digest(path, roots)
                    for path in _tree_files(paths.TEMPLATES) + _tree_files(paths.FONTS))


def _portable(path: Path, bases: list[Path]) -> str:
    for index, base in enumerate(bases):
        if path.is_relative_to(base):
            return f"{index}:{path.relative_to(base).as_posix()}"
    return path.as_posix()


def _file_digest(path: Path, roots: list[Path]) -> bytes:
    """A file's content hash, streamed; a link out of the project is hashed by name only."""
    try:
        if not any(paths.inside(path, r) for r in roots):
            return b"outside:" + str(path.resolve()).encode()
        if not path.is_file():
            return b"-"
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except (OSError, RuntimeError) as exc:
        return f"unreadable:{exc}".encode()


def read_manifest(out_dir: Path) -> dict[str, dict]:
    """The files the last build recorded, by their path in the output folder (one entry per
    file: `audience`, `area`, `format`, `file`, `pages`, `input_hash`, `sha256`, `visible`;
    an audience's `index.html` has format "index" and no area)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        entries = {}
        for entry in data.get("packs", []):
            file = entry.get("file") or entry["pdf"]   # briefgen 2 wrote "pdf" only
            entries[file] = {**entry, "file": file, "format": entry.get("format", "pdf")}
        return entries
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def pack_entries(manifest: dict[str, dict], audience: str, area: str) -> dict[str, dict]:
    """The manifest's files of one pack (every format), by path."""
    return {file: e for file, e in manifest.items()
            if e.get("audience") == audience and e.get("area") == area}


def manifest_entries(previous: dict[str, dict], results: list[PackResult],
                     gone: set[str]) -> dict[str, dict]:
    """The manifest's packs after a build: each pack built or unchanged with the hash of its
    file, withheld packs and those in `gone` (removed) left out, the rest as they were."""
    entries = {k: v for k, v in previous.items() if k not in gone}
    for r in results:
        if r.status in (PackStatus.BUILT, PackStatus.UNCHANGED):
            for f in r.files:
                entries[f.file] = {"audience": r.audience, "area": r.area, "format": f.format,
                                   "file": f.file, "pages": f.pages,
                                   "input_hash": r.input_hash, "sha256": f.sha256,
                                   "visible": r.visible, "tlp": r.tlp}
        elif r.status is PackStatus.WITHHELD or (r.status is PackStatus.FAILED
                                                 and not r.output_kept):
            for file in pack_entries(entries, r.audience, r.area):
                entries.pop(file)
    return entries


def write_manifest(out_dir: Path, entries: dict[str, dict],
                   shard: tuple[int, int] | None = None) -> None:
    """The manifest names what briefgen wrote and nothing it read: no message, no title, no
    name of anything withheld (it travels with the packs). A shard's says which it is."""
    data: dict[str, object] = {"generator": f"briefgen {__version__}"}
    if shard is not None:
        data["shard"] = f"{shard[0]}/{shard[1]}"
    data["packs"] = [entries[k] for k in sorted(entries)]
    atomic_write(out_dir / MANIFEST, (json.dumps(data, indent=2) + "\n").encode())


def write_state(out_dir: Path, last_build: dict | None) -> None:
    """What the next no-op build checks (briefgen.fingerprint), in a hidden file of its own
    that never travels with the packs; None removes it."""
    if last_build is None:
        (out_dir / STATE).unlink(missing_ok=True)
    else:
        atomic_write(out_dir / STATE, (json.dumps(last_build, indent=2) + "\n").encode())


def remove_output(path: Path, recorded: dict | None) -> bool:
    """Delete a pack briefgen wrote, and only that: the manifest must list it with the hash of
    the file that is there, and a link is never followed or removed. True if deleted."""
    if recorded is None or path.is_symlink() or not path.is_file():
        return False
    if not recorded.get("sha256") or recorded["sha256"] != sha256_of(path):
        return False
    path.unlink(missing_ok=True)
    return True


def sha256_of(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""
