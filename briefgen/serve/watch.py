"""The watcher: which project files changed since the last look, cheaply and safely.

It stats every file under `sources/`, `styles/`, `briefgen.yaml` and briefgen's templates
(regular files only: a pipe is never opened) and reads only the files whose metadata changed,
and only small ones, to tell a real change from a save of the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from briefgen import paths

DIGEST_LIMIT = 1024 * 1024  # watched files larger than this are known by their metadata

Stats = dict[str, tuple[int, int, int]]


class Watcher:
    """Tells which watched files changed; `changed()` is empty when nothing really did."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._stats: Stats | None = None
        self._hashes: dict[str, bytes] = {}     # file name -> digest of its bytes
        self._digest = b""

    def watched_files(self) -> Iterator[tuple[str, Path]]:
        """(display name, path) of every file whose change may change a preview or a PDF."""
        yield "briefgen.yaml", self.root / "briefgen.yaml"
        for prefix, folder in (("", self.root / "sources"), ("", self.root / "styles"),
                               ("briefgen:", paths.TEMPLATES)):
            if not folder.is_dir() or (not prefix and not paths.inside(folder, self.root)):
                continue  # a link out of the project: the loader reports it, we never read it
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
                base = Path(dirpath)
                for name in sorted(filenames):
                    if not _ignored(name):
                        path = base / name
                        shown = (path.relative_to(self.root).as_posix() if not prefix
                                 else prefix + path.relative_to(folder).as_posix())
                        yield shown, path

    def _stat_all(self) -> tuple[Stats, dict[str, Path]]:
        """Metadata of every watched regular file; pipes, devices and links out of the
        project are skipped (the loader reports them; reading a pipe would hang)."""
        stats: dict[str, tuple[int, int, int]] = {}
        found: dict[str, Path] = {}
        for shown, path in self.watched_files():
            with contextlib.suppress(OSError):
                st = path.stat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                if not shown.startswith("briefgen:") and not paths.inside(path, self.root):
                    continue
                stats[shown] = (st.st_mtime_ns, st.st_size, st.st_ino)
                found[shown] = path
        return stats, found

    def _content_digest(self, changed: list[str], files: dict[str, Path],
                        stats: Stats) -> bytes:
        """A hash of every watched file's name and content; only changed files are read, and
        only small ones: a file over DIGEST_LIMIT is known by its metadata (no project file
        is that large; reading a 4 GB one would cost 4 GB)."""
        for name in changed:
            self._hashes.pop(name, None)
            if name not in files:
                continue
            if stats[name][1] > DIGEST_LIMIT:
                self._hashes[name] = repr(stats[name]).encode()
                continue
            with contextlib.suppress(OSError):
                self._hashes[name] = _bounded_digest(files[name])
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + self._hashes.get(name, b"-"))
        return digest.digest()

    def changed(self) -> list[str]:
        """The watched files that changed since the last call (all of them the first time);
        empty if none did, or if only their metadata did (touched, saved unchanged)."""
        stats, files = self._stat_all()
        if stats == self._stats:
            return []
        old = self._stats or {}
        changed = sorted(n for n in stats.keys() | old.keys() if stats.get(n) != old.get(n))
        self._stats = stats
        digest = self._content_digest(changed, files, stats)
        if digest == self._digest:
            return []
        self._digest = digest
        return changed or ["briefgen.yaml"]


def _bounded_digest(path: Path) -> bytes:
    """sha256 of a regular file of at most DIGEST_LIMIT bytes, opened without blocking."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b"not-regular"
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return hashlib.sha256(handle.read(DIGEST_LIMIT + 1)).digest()
    finally:
        os.close(fd)


def _ignored(name: str) -> bool:
    """Editor droppings and hidden files: never read by the loader, never watched."""
    return name.startswith(".") or name.endswith("~") or name == "__pycache__"
