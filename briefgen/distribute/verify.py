"""`briefgen verify`: check files against the hashes they were shipped with. A bundle zip
against its SHA256SUMS (and its manifest.json agreeing), a folder holding SHA256SUMS (an
unpacked bundle) likewise, an output folder against its manifest.json, one PDF against the
manifest of the output folder it is in, a folder of numbered copies against its
register.csv and each copy against its own SHA256SUMS. One line per file; any mismatch,
missing or extra file makes the result fail."""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from briefgen.errors import error

SHIPPED = ("SHA256SUMS", "manifest.json", "README.txt")


@dataclass(frozen=True)
class Line:
    status: str     # ok | CHANGED | MISSING | EXTRA | BADSIG | UNSIGNED
    name: str
    detail: str = ""   # for a PDF with a signature: who signed it, or what is wrong

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verify(path: Path, trusted: bytes | None = None) -> list[Line]:
    """`trusted`: the DER certificate every signed PDF must be signed with."""
    if not path.exists():
        raise error(path, "no such file or folder",
                    hint="give the path of a bundle zip, an unpacked bundle, an output folder "
                         "or a file inside one")
    if path.is_file() and zipfile.is_zipfile(path):
        return _zip(path, trusted)
    if path.is_dir() and (path / "register.csv").is_file():
        return _copies(path, trusted)
    if path.is_dir() and (path / "SHA256SUMS").is_file():
        return _folder(path, trusted)
    if path.is_dir() and (path / "manifest.json").is_file():
        return _output(path, None, trusted)
    if path.is_file() and (path.parent.parent / "manifest.json").is_file():
        return _output(path.parent.parent, path, trusted)
    raise error(path, "nothing to verify here",
                hint="give a bundle zip, an unpacked bundle (with SHA256SUMS), an output "
                     "folder (with manifest.json) or a file inside one")


def _sums(text: str, where: str) -> dict[str, str]:
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise error(where, "not a SHA256SUMS line", line=number,
                        hint="each line is a SHA-256 in hex, two spaces, a file name")
        sums[name] = digest
    return sums


def _check(sums: dict[str, str], names: list[str],
           read: Callable[[str], bytes]) -> list[Line]:
    lines = []
    for name in sorted(sums):
        if name not in names:
            lines.append(Line("MISSING", name))
        else:
            ok = hashlib.sha256(read(name)).hexdigest() == sums[name]
            lines.append(Line("ok" if ok else "CHANGED", name))
    lines += [Line("EXTRA", n) for n in sorted(names) if n not in sums and n not in SHIPPED]
    return lines


def _signed(lines: list[Line], manifest: bytes | None, read: Callable[[str], bytes],
            trusted: bytes | None) -> list[Line]:
    """Each PDF that matched its hash, checked for its signature: against the signer the
    manifest records (and the trusted certificate, if one was given). A PDF without one
    where the manifest says the bundle was signed fails."""
    from briefgen.distribute.sign import check_signatures

    try:
        signer = json.loads(manifest or b"{}").get("signer") or {}
        expected = signer.get("certificate_sha256") if isinstance(signer, dict) else None
    except (ValueError, AttributeError):
        expected = None
    checked = []
    for line in lines:
        result = (check_signatures(read(line.name), expected, trusted)
                  if line.ok and line.name.endswith(".pdf") else None)
        if result is not None:
            checked.append(Line("ok" if result.ok else "BADSIG", line.name, result.detail))
        elif line.ok and line.name.endswith(".pdf") and (expected or trusted):
            checked.append(Line("UNSIGNED", line.name, "the bundle says its PDFs are signed"))
        else:
            checked.append(line)
    return checked


def _agrees(sums: dict[str, str], manifest: bytes | None) -> list[Line]:
    """The bundle's manifest.json must list the same files with the same hashes."""
    if manifest is None:
        return [Line("MISSING", "manifest.json")]
    try:
        listed = {f["file"]: f["sha256"] for f in json.loads(manifest)["files"]}
    except (ValueError, KeyError, TypeError):
        return [Line("CHANGED", "manifest.json")]
    return [] if listed == sums else [Line("CHANGED", "manifest.json")]


def _zip(path: Path, trusted: bytes | None) -> list[Line]:
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if not m.endswith("/")]
        folders = {m.partition("/")[0] for m in members}
        prefix = f"{folders.pop()}/" if len(folders) == 1 and all("/" in m for m in members) \
            else ""
        names = [m[len(prefix):] for m in members]
        if "SHA256SUMS" not in names:
            raise error(path, "the bundle has no SHA256SUMS", hint="is it a briefgen bundle?")
        sums = _sums(archive.read(prefix + "SHA256SUMS").decode("utf-8", "replace"),
                     f"{path}:SHA256SUMS")
        manifest = archive.read(prefix + "manifest.json") if "manifest.json" in names else None
        read = functools.cache(lambda n: archive.read(prefix + n))  # hash, then signature
        return _agrees(sums, manifest) + _signed(_check(sums, names, read), manifest, read,
                                                 trusted)


def _copies(path: Path, trusted: bytes | None) -> list[Line]:
    """A folder of numbered copies: each copy against the register's hash, then each copy's
    own files against its SHA256SUMS (named `COPY.zip:FILE`)."""
    import csv

    try:
        rows = list(csv.DictReader((path / "register.csv").read_text("utf-8").splitlines()))
        sums = {row["file"]: row["sha256"] for row in rows}
    except (OSError, ValueError, KeyError) as exc:
        raise error(path / "register.csv", f"not a register of copies ({exc})",
                    hint="the register has the columns copy, recipient, file, sha256") from None
    names = [p.name for p in path.iterdir()
             if p.is_file() and not p.is_symlink() and p.name != "register.csv"]
    lines = _check(sums, names, lambda n: (path / n).read_bytes())
    for name in sorted(n for n in names if n in sums):
        lines += [Line(line.status, f"{name}:{line.name}", line.detail)
                  for line in _zip(path / name, trusted)]
    return lines


def _folder(path: Path, trusted: bytes | None) -> list[Line]:
    sums = _sums((path / "SHA256SUMS").read_text("utf-8"), str(path / "SHA256SUMS"))
    names = [p.name for p in path.iterdir() if p.is_file() and not p.is_symlink()]
    manifest = (path / "manifest.json").read_bytes() if (path / "manifest.json").is_file() \
        else None
    read = functools.cache(lambda n: (path / n).read_bytes())  # hash, then signature
    return _agrees(sums, manifest) + _signed(_check(sums, names, read), manifest, read,
                                             trusted)


def _output(out_dir: Path, only: Path | None, trusted: bytes | None) -> list[Line]:
    from briefgen.build.cache import read_manifest

    manifest = read_manifest(out_dir)
    sums = {file: e["sha256"] for file, e in manifest.items()}
    if only is not None:
        name = only.resolve().relative_to(out_dir.resolve()).as_posix()
        sums = {name: sums[name]} if name in sums else {}
        if not sums:
            return [Line("EXTRA", name)]
        names = [name]
    else:
        names = [p.relative_to(out_dir).as_posix() for p in out_dir.glob("*/*")
                 if p.is_file() and not p.name.startswith(".") and p.parent.name != "bundles"]
    read = functools.cache(lambda n: (out_dir / n).read_bytes())  # hash, then signature
    return _signed(_check(sums, names, read), None, read, trusted)
