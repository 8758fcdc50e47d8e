"""`briefgen bundle`: one audience's packs, as a build wrote them, in a reproducible zip.

Reads only the output folder, its manifest and the project's config (edition, as_of,
audiences); the input hash of each pack is recomputed to refuse a stale output, but no
content is read from `sources/`. A bundle holds one audience's files only, `SHA256SUMS`
(sha256sum format), `manifest.json` and `README.txt`; none of them names withheld material.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import textwrap
import zipfile
from pathlib import Path

from briefgen import __version__, paths
from briefgen.build.cache import input_hash, sha256_of
from briefgen.build.output import atomic_write
from briefgen.distribute.clean import _plain_file
from briefgen.distribute.manifest import Entry, read_entries
from briefgen.distribute.stamp import Recipient, recipient_slug
from briefgen.errors import TLP_ORDER, error
from briefgen.model import Project

BUNDLES = "bundles"
BUNDLE_RECORD = ".briefgen-bundles.json"  # what `clean` may remove from bundles/
# FIRST TLP 2.0 (https://www.first.org/tlp/), what each label lets a recipient do.
TLP_MEANING = {
    "CLEAR": "Recipients can spread this to the world; there is no limit on disclosure "
             "(subject to standard copyright rules).",
    "GREEN": "Limited disclosure: recipients can spread this within their community, but "
             "not via publicly accessible channels.",
    "AMBER": "Limited disclosure: recipients can only spread this on a need-to-know basis "
             "within their organization and its clients.",
    "AMBER+STRICT": "Limited disclosure: recipients can only spread this on a need-to-know "
                    "basis within their organization only.",
    "RED": "For the eyes and ears of individual recipients only, no further disclosure.",
}
NEEDS_RECIPIENTS = "AMBER"  # from this level up, only numbered copies may leave


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


def fixed_time(project: Project) -> tuple[int, int, int, int, int, int]:
    """Every member's timestamp: SOURCE_DATE_EPOCH if set, else the project's as_of date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        when = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        when = dt.datetime.combine(project.config.as_of, dt.time(), dt.UTC)
    when = max(when, dt.datetime(1980, 1, 1, tzinfo=dt.UTC))  # zip's first date
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def audience_entries(project: Project, out_dir: Path, audience: str,
                     shown: str = "output") -> list[Entry]:
    """The audience's files in the manifest, each checked: in its own folder, a plain file
    with the recorded bytes, built from the inputs as they are now."""
    if audience not in project.audiences:
        raise error("briefgen.yaml", f"no audience named {audience!r}",
                    hint="one of: " + ", ".join(sorted(project.audiences)))
    where = f"{shown}/manifest.json"
    entries = [e for e in read_entries(out_dir, shown) if e.audience == audience]
    if not entries:
        raise error(where, f"no pack of audience {audience} has been built",
                    hint=f"build first ('briefgen build --audience {audience}'), or pass "
                         "--build")
    areas = {a.slug: a for a in project.areas}
    for entry in entries:
        path = out_dir / entry.file
        if not entry.file.startswith(f"{audience}/"):
            raise error(where, f"{entry.file} is not in the folder of audience {audience}",
                        hint="build again: 'briefgen build --force'")
        if not _plain_file(path, out_dir):
            raise error(f"{shown}/{entry.file}", "missing, or not a plain file",
                        hint="build first, or pass --build")
        if sha256_of(path) != entry.sha256:
            raise error(f"{shown}/{entry.file}", "changed since briefgen wrote it "
                        "(its sha256 is not the one the manifest records)",
                        hint="build again: 'briefgen build --force', or pass --build")
        area = areas.get(entry.area)
        if area is None or input_hash(project, area,
                                      project.audiences[audience]) != entry.input_hash:
            raise error(f"{shown}/{entry.file}", "older than the sources (its inputs "
                        "changed since it was built)", hint="build first, or pass --build")
    return sorted(entries, key=lambda e: e.file)


def bundle_bytes(project: Project, out_dir: Path, audience: str, entries: list[Entry],
                 copy: tuple[int, int, str] | None = None,
                 originals: dict[str, bytes] | None = None) -> bytes:
    """The zip: the audience's files, SHA256SUMS, manifest.json, README.txt, in sorted
    order, with fixed timestamps and permissions (the same inputs give the same bytes).
    With `copy` (number, total, recipient) every PDF is stamped with its copy line."""
    from briefgen.distribute.stamp import copy_line, stamp

    clearance = project.audiences[audience].config.clearance
    members: dict[str, bytes] = {}
    for entry in entries:
        data = (originals or {}).get(entry.file) or (out_dir / entry.file).read_bytes()
        if copy is not None and entry.format == "pdf":
            data = stamp(data, copy_line(*copy))
        members[entry.file.split("/", 1)[1]] = data
    files = [{"file": name, "format": e.format, "area": e.area, "pages": e.pages,
              "sha256": hashlib.sha256(members[name]).hexdigest(),
              "input_hash": e.input_hash}
             for name, e in zip(sorted(members), entries, strict=True)]
    manifest: dict[str, object] = {
        "generator": f"briefgen {__version__}", "edition": project.config.edition,
        "as_of": project.config.as_of.isoformat(), "audience": audience,
        "clearance": f"TLP:{clearance}", "files": files}
    if copy is not None:
        manifest |= {"copy": copy[0], "copies": copy[1], "recipient": copy[2]}
    members["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    members["README.txt"] = readme(project, audience, clearance, sorted(members),
                                   copy).encode()
    sums = "".join(f"{hashlib.sha256(members[n]).hexdigest()}  {n}\n"
                   for n in sorted(members))
    members["SHA256SUMS"] = sums.encode()
    when = fixed_time(project)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # Unix, whatever machine made it
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


def readme(project: Project, audience: str, clearance: str, names: list[str],
           copy: tuple[int, int, str] | None = None) -> str:
    c = project.config
    numbered = (f"Numbered copy {copy[0]} of {copy[1]}, for {copy[2]} only: every page says "
                "so.\n" if copy else "")
    inside = "\n".join(f"  {n}" for n in [*names, "SHA256SUMS"] if n != "README.txt")
    handling = textwrap.fill(
        f"These packs were made for readers cleared for TLP:{clearance}. Each page carries "
        f"its own TLP label; handle each pack as marked. TLP:{clearance} (FIRST TLP 2.0, "
        f"https://www.first.org/tlp/): {TLP_MEANING[clearance]}", width=78)
    return f"""{c.title}
Edition {c.edition}, as of {c.as_of.isoformat()}, for audience {audience}.
{numbered}
What is inside
{inside}
  README.txt

Handling
{handling}

How to check that nothing was changed
  sha256sum -c SHA256SUMS      (in the folder the zip was unpacked into)
  briefgen verify THIS.zip     (the zip itself, or the unpacked folder)
"""


def write_bundle(project: Project, out_dir: Path, audience: str,
                 shown: str = "output", recipients: list[Recipient] | None = None) -> Path:
    """The bundle zip, or with `recipients` the folder of numbered copies (one zip per
    recipient) and its `register.csv`."""
    if audience not in project.audiences:
        raise error("briefgen.yaml", f"no audience named {audience!r}",
                    hint="one of: " + ", ".join(sorted(project.audiences)))
    spec = project.audiences[audience]
    clearance = spec.config.clearance
    if not recipients and TLP_ORDER[clearance] >= TLP_ORDER[NEEDS_RECIPIENTS]:
        raise error(paths.shown(spec.directory / "audience.yaml", project.root),
                    f"audience {audience} is cleared for TLP:{clearance}; its packs leave "
                    "only as numbered copies for named recipients",
                    hint="pass --recipients FILE (a YAML list or a CSV with a 'name' "
                         "column)")
    entries = audience_entries(project, out_dir, audience, shown)
    folder = out_dir / BUNDLES
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise error(f"{shown}/{BUNDLES}", "is a link or not a folder",
                    hint="remove it; briefgen writes bundles only into a real folder")
    base = f"{slug(audience)}-{slug(project.config.edition)}"
    if recipients:
        return _write_copies(project, out_dir, audience, entries, recipients, folder, base,
                             shown)
    data = bundle_bytes(project, out_dir, audience, entries)
    target = folder / f"{base}.zip"
    atomic_write(target, data)
    record_bundle(folder, target.name, hashlib.sha256(data).hexdigest())
    return target


def _write_copies(project: Project, out_dir: Path, audience: str, entries: list[Entry],
                  recipients: list[Recipient], folder: Path, base: str,
                  shown: str) -> Path:
    copies = folder / base
    if copies.is_symlink() or (copies.exists() and not copies.is_dir()):
        raise error(f"{shown}/{BUNDLES}/{base}", "is a link or not a folder",
                    hint="remove it; briefgen writes copies only into a real folder")
    originals = {e.file: (out_dir / e.file).read_bytes() for e in entries}
    total = len(recipients)
    width = max(2, len(str(total)))
    register = io.StringIO()
    writer = csv.writer(register, lineterminator="\n")
    writer.writerow(["copy", "recipient", "file", "sha256"])
    for number, recipient in enumerate(recipients, 1):
        data = bundle_bytes(project, out_dir, audience, entries,
                            (number, total, recipient.name), originals)
        name = f"{number:0{width}d}-{recipient_slug(recipient.name)}.zip"
        atomic_write(copies / name, data)
        digest = hashlib.sha256(data).hexdigest()
        record_bundle(folder, f"{base}/{name}", digest)
        writer.writerow([number, recipient.name, name, digest])
    atomic_write(copies / "register.csv", register.getvalue().encode())
    record_bundle(folder, f"{base}/register.csv",
                  hashlib.sha256(register.getvalue().encode()).hexdigest())
    return copies


def read_bundle_record(folder: Path) -> dict[str, str]:
    path = folder / BUNDLE_RECORD
    try:
        if path.is_symlink():
            return {}
        data = json.loads(path.read_text("utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record_bundle(folder: Path, name: str, sha256: str) -> None:
    record = read_bundle_record(folder) | {name: sha256}
    atomic_write(folder / BUNDLE_RECORD,
                 (json.dumps(dict(sorted(record.items())), indent=2) + "\n").encode())
