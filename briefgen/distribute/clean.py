"""`briefgen clean`: empty the output briefgen made, and nothing else: each file the
manifest lists (with the hash it recorded), each bundle the bundle ledger lists (likewise),
the manifest, the no-op state file, and the folders this leaves empty. A file briefgen did
not write, or one changed since, stays, and is named."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from briefgen.build.cache import read_manifest, remove_output
from briefgen.distribute.bundle import BUNDLES, LEDGER
from briefgen.fingerprint import MANIFEST, STATE


def clean(out_dir: Path) -> tuple[list[str], list[str]]:
    """(removed, kept): paths relative to `out_dir`."""
    removed: list[str] = []
    for file, entry in sorted(read_manifest(out_dir).items()):
        if remove_output(out_dir / file, entry):
            removed.append(file)
    ledger = out_dir / BUNDLES / LEDGER
    try:
        bundles = json.loads(ledger.read_text("utf-8"))
    except (OSError, ValueError):
        bundles = {}
    for name, digest in sorted(bundles.items()):
        if remove_output(out_dir / BUNDLES / name, {"sha256": digest}):
            removed.append(f"{BUNDLES}/{name}")
    for own in (ledger, out_dir / MANIFEST, out_dir / STATE):
        if own.is_file() and not own.is_symlink():
            own.unlink()
            removed.append(own.relative_to(out_dir).as_posix())
    kept = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*")
                  if p.is_file() or p.is_symlink())
    folders = [p for p in out_dir.rglob("*") if p.is_dir() and not p.is_symlink()]
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()   # only if empty
    return removed, kept
