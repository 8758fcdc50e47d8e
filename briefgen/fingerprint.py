"""A no-op build without loading the project: is anything different since the last build?

A build that changed nothing must come back at once. Loading a project (YAML, validation,
lints) takes most of a no-op build, so the last complete build records a *fingerprint* in
the manifest: the name, size and modification time of every file a build reads (the project's
`briefgen.yaml`, `sources/` and `styles/`, briefgen's templates, fonts and built-in
audiences), briefgen's and the libraries' versions, and the size and modification time of
each PDF it left. When all of it is the same, no input can have changed, so every pack is
unchanged: the build says so, repeats the warnings of the last load, and stops. Any
difference (an edited file, a new file, a touched PDF, `--force`, another selection, a pack
that failed last time) falls back to the full build, which compares content hashes.

Only standard-library modules are imported here: that is the point.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from briefgen import __version__, paths

MANIFEST = "manifest.json"
STATE = ".briefgen-state.json"  # the last complete build's record, beside the manifest
LIBRARIES = ("weasyprint", "pydyf", "jinja2", "markdown", "nh3")


@cache
def versions() -> str:
    """briefgen's version and those of the libraries that shape a PDF."""
    from importlib import metadata

    found = [f"briefgen={__version__}"]
    for dist in LIBRARIES:
        try:
            found.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:  # pragma: no cover
            found.append(f"{dist}=missing")
    return ";".join(found)


def _walk(folder: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and d != "__pycache__")
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def project_fingerprint(root: Path, extra: Iterable[str] = ()) -> str:
    """A digest of the metadata of every file a build reads, and of the versions. `extra`:
    files the last build used outside sources/ and styles/ (images), as project paths."""
    root = root.resolve()
    digest = hashlib.sha256(versions().encode())
    files = [root / "briefgen.yaml", *_walk(root / "sources"), *_walk(root / "styles")]
    files += [root / name for name in sorted(extra)]
    files += [p for folder in paths.DATA_FOLDERS for p in _walk(folder)]
    for path in files:
        try:
            info = path.stat()
            stamp = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
        except OSError:
            stamp = "-"
        digest.update(f"{path}\0{stamp}\0".encode())
    return digest.hexdigest()


def pdf_stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def last_build(out_dir: Path) -> dict | None:
    """The record the last complete build left, if any."""
    try:
        record = json.loads((out_dir / STATE).read_text("utf-8"))
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def unchanged_since_last_build(root: Path, out_dir: Path, areas: list[str],
                               audiences: list[str], formats: Iterable[str] = ()) -> dict | None:
    """The last build's record if nothing it read or wrote changed since, and it covered
    `areas` x `audiences` (empty: every area, or every audience, of the project, which the
    record covers only if that build was not limited to some); else None."""
    try:
        record = last_build(out_dir)
        if record is None or record["fingerprint"] != project_fingerprint(
                root, record["extra_files"]):
            return None
        if (not areas and not record["all_areas"]) or (
                not audiences and not record["all_audiences"]):
            return None
        packs = {f"{p['audience']}/{p['area']}": p for p in record["packs"]}
        wanted = [f"{aud}/{area}" for aud in audiences or record["audiences"]
                  for area in areas or record["areas"]]
        if not wanted or any(key not in packs for key in wanted):
            return None
        if record.get("formats", []) != list(formats):
            return None
        for key in wanted:
            pack = packs[key]
            if pack["status"] not in ("built", "unchanged", "withheld"):
                return None
            if [pdf_stamp(out_dir / f) for f in pack["files"]] != pack["stamps"]:
                return None
        render = [w for key in wanted for w in packs[key].get("render_warnings", [])]
        return {"warnings": record["warnings"], "render_warnings": render,
                "packs": [packs[key] for key in wanted]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
