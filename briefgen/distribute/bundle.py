"""A bundle: one audience's editions in one reproducible zip, with what a recipient needs to
check them (SHA256SUMS, manifest.json) and to handle them (README.txt)."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

from briefgen import __version__, paths
from briefgen.build.cache import read_manifest, sha256_of
from briefgen.build.output import atomic_write
from briefgen.distribute.copies import STAMPERS, Recipient, copy_line, recipient_slug
from briefgen.distribute.sign import Signer, load_signer, sign_pdf
from briefgen.errors import TLP_ORDER, BriefgenError, Diagnostic, Location, error
from briefgen.fingerprint import MANIFEST
from briefgen.model import Project

BUNDLES = "bundles"
LEDGER = ".bundles.json"   # the bundles briefgen wrote, with their hashes (for `clean`)
REGISTER = "register.csv"  # beside numbered copies, never inside one: who got which copy
NEEDS_RECIPIENTS = "AMBER"  # editions marked this or above go to named recipients only
TLP_RULES = {
    "CLEAR": "TLP:CLEAR: disclosure is not limited; copyright rules apply.",
    "GREEN": "TLP:GREEN: limited disclosure; recipients may share it within their community, "
             "not through publicly accessible channels.",
    "AMBER": "TLP:AMBER: limited disclosure; recipients may share it only with members of "
             "their own organisation and its clients on a need-to-know basis.",
    "AMBER+STRICT": "TLP:AMBER+STRICT: limited disclosure; recipients may share it only with "
                    "members of their own organisation.",
    "RED": "TLP:RED: for the eyes and ears of individual recipients only; no further "
           "disclosure.",
}


def _merged(project: Project, folders: list[Path], audience: str,
            problems: list[Diagnostic]) -> list[dict]:
    """The audience's entries of several shards' manifests, each with the folder that holds
    its file (`_folder`). Shards must be of one split (the same N, each K once), and a file
    two shards both hold must be the same file built from the same inputs."""
    splits = {}
    for folder in folders:
        try:
            splits[folder] = json.loads((folder / MANIFEST).read_text("utf-8")).get("shard")
        except (OSError, ValueError, AttributeError):
            raise error(folder, "not an output folder: it has no readable manifest.json",
                        hint="give the folders that briefgen build --shard K/N wrote") from None
    counts = {str(s).partition("/")[2] for s in splits.values()}
    numbers = [str(s).partition("/")[0] for s in splits.values()]
    if None in splits.values() or len(counts) != 1 or len(set(numbers)) != len(numbers):
        listing = ", ".join(f"{paths.shown(f, project.root)} ({s or 'not a shard'})"
                            for f, s in splits.items())
        raise error(folders[0], f"these folders are not the shards of one build: {listing}",
                    hint="give every folder of one briefgen build --shard K/N split (the same "
                         "N, each K once)")
    count = int(counts.pop())
    if missing := sorted(set(range(1, count + 1)) - {int(n) for n in numbers}):
        raise error(folders[0], "shard " + ", ".join(f"{k}/{count}" for k in missing)
                    + " is missing", hint="give the folder of every shard with --from; a "
                    "bundle is made only from the whole build")
    merged: dict[str, dict] = {}
    for folder in folders:
        for file, entry in read_manifest(folder).items():
            if entry.get("audience") != audience or entry.get("area") == "":
                continue   # a shard has no index: the bundle makes it from the merged list
            other = merged.get(file)
            if other is None:
                merged[file] = {**entry, "_folder": folder}
            elif (other["sha256"], other.get("input_hash")) != (entry["sha256"],
                                                               entry.get("input_hash")):
                problems.append(Diagnostic(
                    Location(f"{paths.shown(folder, project.root)}/{file}"),
                    "built from different inputs than the same file in "
                    f"{paths.shown(other['_folder'], project.root)}",
                    "build every shard from the same commit of the sources",
                    handling="CLEAR"))
    return list(merged.values())


def audience_files(project: Project, out_dir: Path, audience: str,
                   shards: Sequence[Path] = ()) -> list[dict]:
    """The files the manifest lists for `audience` (or the manifests of `shards`, merged),
    each checked to be current: built from the sources as they are now, and unchanged
    since. Anything else is an error that says to build first. Each entry carries the
    folder that holds its file (`_folder`) or, for an index made here, its bytes
    (`_data`)."""
    from briefgen.book import BOOK
    from briefgen.build import book_input_hash
    from briefgen.build.cache import input_hash
    from briefgen.pack import assemble

    problems: list[Diagnostic] = []
    if shards:
        entries = sorted(_merged(project, list(shards), audience, problems),
                         key=lambda e: e["file"])
        shown = "shards"
        hint = ("build every shard of the split from these sources (briefgen build --shard "
                "K/N --out DIR) and give each folder with --from")
    else:
        entries = sorted(({**e, "_folder": out_dir} for e in read_manifest(out_dir).values()
                          if e.get("audience") == audience), key=lambda e: e["file"])
        shown = paths.shown(out_dir, project.root)
        hint = ("build first (briefgen build --audience NAME), or pass --build; a bundle is "
                "made only from output that matches the sources")
    aud = project.audiences[audience]
    areas = {a.slug: a for a in project.areas}
    for area in project.areas:
        if assemble(project, area, aud) is not None and not any(
                e["area"] == area.slug for e in entries):
            problems.append(Diagnostic(
                Location(f"{shown}/{audience}/{area.slug}.*"),
                "this pack is in none of the shards given" if shards
                else "this pack has not been built", hint, handling="CLEAR"))
    current: dict[str, str | None] = {}
    for entry in entries:
        area = entry["area"]
        if area == "":
            continue   # the audience's index: made from the manifest itself
        if area not in current:
            current[area] = (book_input_hash(project, aud) if area == BOOK else
                             input_hash(project, areas[area], aud) if area in areas else None)
        where = Location(f"{paths.shown(entry['_folder'], project.root)}/{entry['file']}")
        if current[area] is None:
            problems.append(Diagnostic(where, "the area of this file no longer exists or is "
                                       "withheld from this audience", hint, handling="CLEAR"))
        elif entry.get("input_hash") != current[area]:
            problems.append(Diagnostic(where, "built from older sources", hint,
                                       handling="CLEAR"))
        elif ((entry["_folder"] / entry["file"]).is_symlink()
              or sha256_of(entry["_folder"] / entry["file"]) != entry["sha256"]):
            problems.append(Diagnostic(where, "changed since the build wrote it", hint,
                                       handling="CLEAR"))
    if problems:
        # One remedy for all of them: said once, under the first, not once per file.
        raise BriefgenError([problems[0], *(dataclasses.replace(p, hint="") if p.hint == hint
                                            else p for p in problems[1:])])
    if not entries:
        raise error(f"{shown}/{audience}/", f"nothing was built for audience '{audience}'",
                    hint="build first: briefgen build --audience " + audience)
    if shards:   # the audience's index, as one full build would have written it
        from briefgen.formats import FORMATS
        from briefgen.formats.index import index_page

        files = {e["file"]: e for e in entries if e.get("format") in FORMATS}
        data = index_page(project, audience, files)
        entries.append({"audience": audience, "area": "", "format": "index",
                        "file": f"{audience}/index.html", "input_hash": "",
                        "sha256": hashlib.sha256(data).hexdigest(), "_data": data})
        entries.sort(key=lambda e: e["file"])
    return entries


def bundle(project: Project, out_dir: Path, audience: str,
           recipients: list[Recipient] | None = None, shards: Sequence[Path] = ()) -> Path:
    """Write `bundles/<audience>-<edition>.zip` and return its path; with `recipients`,
    write one numbered copy per recipient into `bundles/<audience>-<edition>/` with
    `register.csv` beside them, and return that folder. With `shards`, the packs come from
    those folders (the outputs of `build --shard K/N`), put back together."""
    entries = audience_files(project, out_dir, audience, shards)
    config = project.config
    marking = max((e.get("tlp") or "CLEAR" for e in entries), key=TLP_ORDER.__getitem__)
    if not recipients and TLP_ORDER[marking] >= TLP_ORDER[NEEDS_RECIPIENTS]:
        raise error(f"styles/{audience}/audience.yaml", f"audience '{audience}' receives "
                    f"TLP:{marking} material, which goes to named recipients only",
                    hint="make numbered copies: briefgen bundle --audience " + audience
                         + " --recipients FILE (a YAML list or a CSV with a 'name' column)")
    signer = load_signer(project)
    name = f"{audience}-{_safe(config.edition)}"
    files = {Path(e["file"]).name: e["_data"] if "_data" in e
             else (e["_folder"] / e["file"]).read_bytes() for e in entries}
    formats = {Path(e["file"]).name: e["format"] for e in entries}

    def signed(stamped: dict[str, bytes]) -> dict[str, bytes]:
        if signer is None:
            return stamped
        return {file: sign_pdf(data, signer, config.edition) if formats[file] == "pdf"
                else data for file, data in stamped.items()}

    if not recipients:
        data = _bundle_zip(project, audience, marking, name, entries, signed(files), None,
                           signer)
        path = out_dir / BUNDLES / f"{name}.zip"
        _refuse_link(path.parent, out_dir)
        atomic_write(path, data)
        _remember(out_dir, path, data)
        return path
    folder = out_dir / BUNDLES / name
    _refuse_link(folder, out_dir)
    width = max(2, len(str(len(recipients))))
    register = io.StringIO()
    rows = csv.writer(register, lineterminator="\n")
    rows.writerow(["copy", "recipient", "file", "sha256"])
    for number, recipient in enumerate(recipients, 1):
        line = copy_line(number, len(recipients), recipient.name)
        stamped = {file: STAMPERS[formats[file]](data, line) if formats[file] in STAMPERS
                   else data for file, data in files.items()}
        copy = f"{number:0{width}d}-{recipient_slug(recipient.name)}"
        data = _bundle_zip(project, audience, marking, copy, entries, signed(stamped),
                           (number, len(recipients), recipient.name), signer)
        path = folder / f"{copy}.zip"
        atomic_write(path, data)
        _remember(out_dir, path, data)
        rows.writerow([number, recipient.name, path.name, hashlib.sha256(data).hexdigest()])
    data = register.getvalue().encode()
    atomic_write(folder / REGISTER, data)
    _remember(out_dir, folder / REGISTER, data)
    return folder


def _refuse_link(folder: Path, out_dir: Path) -> None:
    for part in (folder, *folder.parents):
        if part == out_dir:
            return
        if part.is_symlink() or (part.exists() and not part.is_dir()):
            raise error(part, "is a link or not a folder",
                        hint="remove it; briefgen writes bundles only into real folders")


def _bundle_zip(project: Project, audience: str, marking: str, name: str,
                entries: list[dict], files: dict[str, bytes],
                copy: tuple[int, int, str] | None, signer: Signer | None) -> bytes:
    """The zip: `files`, SHA256SUMS, manifest.json and README.txt under one folder `name`,
    the same bytes for the same inputs."""
    config = project.config
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {file}\n"
                   for file, data in sorted(files.items()))
    record: dict[str, object] = {
        "generator": f"briefgen {__version__}", "title": config.title,
        "edition": config.edition, "as_of": config.as_of.isoformat(), "audience": audience,
        "clearance": f"TLP:{project.audiences[audience].config.clearance}",
        "marking": f"TLP:{marking}",
        "files": [{"file": Path(e["file"]).name, "area": e["area"], "format": e["format"],
                   "sha256": hashlib.sha256(files[Path(e["file"]).name]).hexdigest(),
                   "input_hash": e.get("input_hash", "")}
                  for e in entries],
    }
    if copy is not None:
        record |= {"copy": copy[0], "copies": copy[1], "recipient": copy[2]}
    if signer is not None:
        record["signer"] = {"name": signer.name,
                            "certificate_sha256": signer.certificate_sha256}
    extra = {"SHA256SUMS": sums.encode(),
             "manifest.json": (json.dumps(record, indent=2, ensure_ascii=False)
                               + "\n").encode(),
             "README.txt": _readme(project, audience, marking, sorted(files), copy).encode()}
    return _zip(name, {**files, **extra}, config.as_of)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "-" for c in text)


def _readme(project: Project, audience: str, marking: str, files: list[str],
            copy: tuple[int, int, str] | None = None) -> str:
    config = project.config
    listing = "\n".join(f"  {f}" for f in files)
    numbered = (f"Numbered copy {copy[0]} of {copy[1]}, for {copy[2]} only: every PDF page "
                "and each edition's title page says so.\n" if copy else "")
    return (f"{config.title}\n{config.issuer}, edition {config.edition}, information as of "
            f"{config.as_of.isoformat()}\nPrepared for: "
            f"{project.audiences[audience].config.title}\n{numbered}\n"
            f"Handling\n  {TLP_RULES[marking]}\n  Every page and file carries its own marking; "
            "follow the strictest one.\n\n"
            f"Inside\n{listing}\n  SHA256SUMS     the SHA-256 of every file above\n"
            "  manifest.json  edition, audience, and each file's hash and the hash of the "
            "sources it was built from\n\n"
            "How to check that nothing was changed\n"
            "  sha256sum -c SHA256SUMS        (in this folder; every line must say OK)\n"
            "  briefgen verify BUNDLE.zip     (checks the zip as it is)\n\n"
            "What the files are\n  .pdf for print, .html for any browser (works offline), "
            ".epub for e-readers.\n  Each pack's caveats section shows which statements are "
            "sourced, uncorroborated or disputed, and on what.\n")


def _zip(folder: str, files: dict[str, bytes], as_of: object) -> bytes:
    """A zip that is the same bytes for the same files: fixed order, dates and modes."""
    stamp = (max(1980, as_of.year), as_of.month, as_of.day, 0, 0, 0)  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _remember(out_dir: Path, path: Path, data: bytes) -> None:
    ledger = out_dir / BUNDLES / LEDGER
    try:
        known = json.loads(ledger.read_text("utf-8"))
    except (OSError, ValueError):
        known = {}
    known[path.relative_to(out_dir / BUNDLES).as_posix()] = hashlib.sha256(data).hexdigest()
    atomic_write(ledger, (json.dumps(known, indent=2, sort_keys=True) + "\n").encode())
