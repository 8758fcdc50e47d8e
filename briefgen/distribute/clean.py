"""`briefgen clean`: remove what briefgen wrote in the output folder, and nothing else.

A file goes only if the manifest lists it and its sha256 is the one recorded (a file a user
changed or put there stays); links are never followed or removed; the manifest and the
no-op state file go; then audience folders left empty. Anything else stays and is named.
"""

from __future__ import annotations

import contextlib
import stat
from dataclasses import dataclass, field
from pathlib import Path

from briefgen.build.cache import sha256_of
from briefgen.distribute.manifest import read_entries
from briefgen.fingerprint import MANIFEST, STATE


@dataclass
class Cleaned:
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # listed but changed, or a link


def _plain_file(path: Path, out_dir: Path) -> bool:
    """A regular file reached from `out_dir` through real folders (no link on the way)."""
    current = out_dir
    try:
        for part in path.relative_to(out_dir).parts:
            current = current / part
            if stat.S_ISLNK(current.lstat().st_mode):
                return False
        return stat.S_ISREG(path.lstat().st_mode)
    except (OSError, ValueError):
        return False


def clean(out_dir: Path, shown: str = "output") -> Cleaned:
    result = Cleaned()
    if out_dir.is_symlink() or not out_dir.is_dir():
        return result
    manifest = out_dir / MANIFEST
    entries = read_entries(out_dir, shown) if manifest.exists() else []
    folders: set[Path] = set()
    for entry in entries:
        path = out_dir / entry.file
        if not path.exists() and not path.is_symlink():
            continue
        if _plain_file(path, out_dir) and entry.sha256 and sha256_of(path) == entry.sha256:
            path.unlink()
            result.removed.append(entry.file)
            folders.add(path.parent)
        else:
            result.kept.append(entry.file)
    _clean_bundles(out_dir, result)
    for name in (MANIFEST, STATE):
        path = out_dir / name
        if _plain_file(path, out_dir):
            path.unlink()
            result.removed.append(name)
    for start in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        folder = start
        while folder != out_dir and not folder.is_symlink() and folder.is_dir():
            try:
                folder.rmdir()  # only if empty
            except OSError:
                break
            folder = folder.parent
    return result


def _clean_bundles(out_dir: Path, result: Cleaned) -> None:
    """The bundles briefgen recorded writing, with the recorded hash; the record; the
    folder if then empty."""
    from briefgen.distribute.bundle import BUNDLE_RECORD, BUNDLES, read_bundle_record

    folder = out_dir / BUNDLES
    if folder.is_symlink() or not folder.is_dir():
        return
    subfolders: set[Path] = set()
    for name, digest in sorted(read_bundle_record(folder).items()):
        parts = name.split("/")
        path = folder / name
        if (len(parts) > 2 or any(p.startswith(".") or not p for p in parts)
                or not _plain_file(path, out_dir)):
            continue
        if sha256_of(path) == digest:
            path.unlink()
            result.removed.append(f"{BUNDLES}/{name}")
            if len(parts) == 2:
                subfolders.add(path.parent)
        else:
            result.kept.append(f"{BUNDLES}/{name}")
    record = folder / BUNDLE_RECORD
    if _plain_file(record, out_dir):
        record.unlink()
    for sub in sorted(subfolders):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()
