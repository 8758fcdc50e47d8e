"""`briefgen verify PATH`: every file of a bundle (zip or unpacked folder), an output folder
or one PDF checked against the `SHA256SUMS` or `manifest.json` that came with it.

One line per file (`ok`, `changed`, `missing`, `extra`); any line but `ok` fails. Nothing is
extracted from a zip, and no link is followed: a link where a file should be is `changed`.
"""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from briefgen.errors import error
from briefgen.fingerprint import MANIFEST, STATE

SUMS = "SHA256SUMS"


@dataclass(frozen=True)
class Line:
    status: str  # ok | changed | missing | extra
    name: str

    def __str__(self) -> str:
        return f"{self.status:<8} {self.name}"


def parse_sums(text: str, where: str) -> dict[str, str]:
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise error(where, "not a line of sha256sum's format (HASH, two spaces, NAME)",
                        line=number, hint="the bundle was changed; ask for a fresh copy")
        sums[name.removeprefix("*")] = digest.lower()
    return sums


def _compare(expected: dict[str, str], actual: dict[str, str | None]) -> list[Line]:
    lines = []
    for name in sorted(set(expected) | set(actual)):
        if name not in expected:
            lines.append(Line("extra", name))
        elif name not in actual:
            lines.append(Line("missing", name))
        else:
            lines.append(Line("ok" if actual[name] == expected[name] else "changed", name))
    return lines


def _manifest_sums(data: bytes, where: str) -> dict[str, str]:
    """The files a bundle's manifest.json records, with their sha256."""
    try:
        files = json.loads(data)["files"]
        return {str(f["file"]): str(f["sha256"]) for f in files}
    except (ValueError, KeyError, TypeError) as exc:
        raise error(where, f"cannot be read ({exc})",
                    hint="the bundle was changed; ask for a fresh copy") from None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_zip(path: Path, shown: str) -> list[Line]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()
                       if not info.is_dir()}
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise error(shown, f"not a readable zip ({exc})",
                    hint="ask for a fresh copy of the bundle") from None
    return _verify_members({n: _digest(d) for n, d in members.items()},
                           members.get(SUMS), members.get(MANIFEST), shown)


def _verify_members(actual: dict[str, str | None], sums: bytes | None,
                    manifest: bytes | None, shown: str) -> list[Line]:
    if sums is None:
        raise error(f"{shown}/{SUMS}", "missing: nothing to check the files against",
                    hint="verify a bundle made by 'briefgen bundle', or an output folder")
    expected = parse_sums(sums.decode("utf-8", "replace"), f"{shown}/{SUMS}")
    actual = {n: d for n, d in actual.items() if n != SUMS}
    lines = _compare(expected, actual)
    if manifest is not None:
        recorded = _manifest_sums(manifest, f"{shown}/{MANIFEST}")
        lines += [Line("changed", f"{MANIFEST}: {name}") for name, digest in
                  sorted(recorded.items()) if expected.get(name) != digest]
    return lines


def _plain_files(folder: Path) -> Iterator[tuple[str, Path, bool]]:
    """(relative name, path, is a plain file) for everything below `folder`, links not
    followed."""
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            continue
        yield path.relative_to(folder).as_posix(), path, stat.S_ISREG(info.st_mode)


def _file_digest(path: Path, plain: bool) -> str | None:
    if not plain:
        return "link-or-special"
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify_folder(folder: Path, shown: str, only: str | None = None) -> list[Line]:
    if (folder / SUMS).is_file() and not (folder / SUMS).is_symlink():
        actual = {name: _file_digest(path, plain) for name, path, plain
                  in _plain_files(folder) if only is None or name in (only, SUMS)}
        manifest = folder / MANIFEST
        lines = _verify_members(actual, (folder / SUMS).read_bytes(),
                                manifest.read_bytes() if manifest.is_file() and
                                not manifest.is_symlink() else None, shown)
        return [ln for ln in lines if only is None or ln.name == only]
    if (folder / MANIFEST).is_file() and not (folder / MANIFEST).is_symlink():
        return _verify_output(folder, shown, only)
    raise error(shown, f"no {SUMS} or {MANIFEST} here to check against",
                hint="verify a bundle (the zip or its unpacked folder), a build's output "
                     "folder, or a file in one")


def _verify_output(folder: Path, shown: str, only: str | None) -> list[Line]:
    """A build's output folder, against its manifest: the files it lists, and anything
    else in the audience folders it names."""
    from briefgen.distribute.manifest import read_entries

    expected = {e.file: e.sha256 for e in read_entries(folder, shown)}
    audiences = {PurePosixPath(name).parts[0] for name in expected}
    actual: dict[str, str | None] = {}
    for name, path, plain in _plain_files(folder):
        parts = PurePosixPath(name).parts
        if len(parts) < 2 or parts[0] not in audiences or name == STATE:
            continue
        if only is None or name == only:
            actual[name] = _file_digest(path, plain)
    if only is not None:
        expected = {n: d for n, d in expected.items() if n == only}
    return _compare(expected, actual)


def verify(path: Path, shown: str) -> list[Line]:
    """Check PATH (a zip, a folder, or one file in either kind of folder)."""
    if path.is_symlink() or not path.exists():
        raise error(shown, "not found (or a link, which is not followed)",
                    hint="name a bundle zip, its unpacked folder, or a built PDF")
    if path.is_dir():
        return verify_folder(path, shown)
    if zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
        return verify_zip(path, shown)
    # One file: the folder that holds its SHA256SUMS or manifest.json.
    for folder in (path.parent, path.parent.parent):
        if any((folder / n).is_file() for n in (SUMS, MANIFEST)):
            name = path.relative_to(folder).as_posix()
            lines = verify_folder(folder, str(Path(shown).parent) or ".", only=name)
            return lines or [Line("extra", name)]
    raise error(shown, f"no {SUMS} or {MANIFEST} beside it to check it against",
                hint="verify the file in the folder it came in")
