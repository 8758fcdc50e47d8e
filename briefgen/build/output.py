"""Where a build writes, and how: only where the person running it pointed, atomically.

A PDF is written to a temporary file beside it and renamed into place, so a crash, a kill or
a full disk never leaves a half-written PDF where the previous good one was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from briefgen.errors import error


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written PDF.

    Until `os.replace` the old file is untouched; the rename is atomic on POSIX, so a reader
    (or a crash, a kill, a full disk) sees either the complete old file or the complete new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), _file_mode(path))
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _file_mode(path: Path) -> int:
    """The mode a plain `open(path, "w")` would give (mkstemp's is 0600), or the old file's."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; not every platform or file system supports it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def remove_partial_writes(path: Path) -> None:
    """Delete temporary files a killed writer of `path` left behind (never `path` itself)."""
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*.tmp"):
            leftover.unlink(missing_ok=True)


def check_writable(out_dir: Path, shown: str) -> None:
    """Fail before any work if the output folder cannot take a file."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".briefgen-probe.", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise error(shown, f"cannot write to the output folder: {exc.strerror or exc}",
                    hint="make it writable, or choose another with --out DIR; nothing was "
                         "built and the packs already there are untouched") from None
