"""A bundle: one audience's editions in one reproducible zip, with what a recipient needs to
check them (SHA256SUMS, manifest.json) and to handle them (README.txt)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from briefgen import __version__, paths
from briefgen.build.cache import read_manifest, sha256_of
from briefgen.build.output import atomic_write
from briefgen.errors import TLP_ORDER, BriefgenError, Diagnostic, Location, error
from briefgen.model import Project

BUNDLES = "bundles"
LEDGER = ".bundles.json"   # the bundles briefgen wrote, with their hashes (for `clean`)
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


def audience_files(project: Project, out_dir: Path, audience: str) -> list[dict]:
    """The files the manifest lists for `audience`, each checked to be current: built from
    the sources as they are now, and unchanged since. Anything else is an error that says
    to build first."""
    from briefgen.book import BOOK
    from briefgen.build import book_input_hash
    from briefgen.build.cache import input_hash
    from briefgen.pack import assemble

    manifest = read_manifest(out_dir)
    entries = sorted((e for e in manifest.values() if e.get("audience") == audience),
                     key=lambda e: e["file"])
    shown = paths.shown(out_dir, project.root)
    problems: list[Diagnostic] = []
    hint = ("build first (briefgen build --audience NAME), or pass --build; a bundle is made "
            "only from output that matches the sources")
    aud = project.audiences[audience]
    areas = {a.slug: a for a in project.areas}
    for area in project.areas:
        if assemble(project, area, aud) is not None and not any(
                e["area"] == area.slug for e in entries):
            problems.append(Diagnostic(Location(f"{shown}/{audience}/{area.slug}.*"),
                                       "this pack has not been built", hint, handling="CLEAR"))
    current: dict[str, str | None] = {}
    for entry in entries:
        area = entry["area"]
        if area == "":
            continue   # the audience's index: made from the manifest itself
        if area not in current:
            current[area] = (book_input_hash(project, aud) if area == BOOK else
                             input_hash(project, areas[area], aud) if area in areas else None)
        where = Location(f"{shown}/{entry['file']}")
        if current[area] is None:
            problems.append(Diagnostic(where, "the area of this file no longer exists or is "
                                       "withheld from this audience", hint, handling="CLEAR"))
        elif entry.get("input_hash") != current[area]:
            problems.append(Diagnostic(where, "built from older sources", hint,
                                       handling="CLEAR"))
        elif ((out_dir / entry["file"]).is_symlink()
              or sha256_of(out_dir / entry["file"]) != entry["sha256"]):
            problems.append(Diagnostic(where, "changed since the build wrote it", hint,
                                       handling="CLEAR"))
    if problems:
        raise BriefgenError(problems)
    if not entries:
        raise error(f"{shown}/{audience}/", f"nothing was built for audience '{audience}'",
                    hint="build first: briefgen build --audience " + audience)
    return entries


def bundle(project: Project, out_dir: Path, audience: str) -> Path:
    """Write `bundles/<audience>-<edition>.zip` and return its path."""
    entries = audience_files(project, out_dir, audience)
    config = project.config
    marking = max((e.get("tlp") or "CLEAR" for e in entries), key=TLP_ORDER.__getitem__)
    if TLP_ORDER[marking] >= TLP_ORDER[NEEDS_RECIPIENTS]:
        raise error(f"styles/{audience}/audience.yaml", f"audience '{audience}' receives "
                    f"TLP:{marking} material, which goes to named recipients only",
                    hint="numbered copies for named recipients are not available yet; hand "
                         "the files out individually under TLP:" + marking + " rules")
    name = f"{audience}-{_safe(config.edition)}"
    files = {Path(e["file"]).name: (out_dir / e["file"]).read_bytes() for e in entries}
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {file}\n"
                   for file, data in sorted(files.items()))
    record = {
        "generator": f"briefgen {__version__}", "title": config.title,
        "edition": config.edition, "as_of": config.as_of.isoformat(), "audience": audience,
        "clearance": f"TLP:{project.audiences[audience].config.clearance}",
        "marking": f"TLP:{marking}",
        "files": [{"file": Path(e["file"]).name, "area": e["area"], "format": e["format"],
                   "sha256": e["sha256"], "input_hash": e.get("input_hash", "")}
                  for e in entries],
    }
    extra = {"SHA256SUMS": sums.encode(),
             "manifest.json": (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode(),
             "README.txt": _readme(project, audience, marking, sorted(files)).encode()}
    data = _zip(name, {**files, **extra}, config.as_of)
    path = out_dir / BUNDLES / f"{name}.zip"
    atomic_write(path, data)
    _remember(out_dir, path, data)
    return path


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "-" for c in text)


def _readme(project: Project, audience: str, marking: str, files: list[str]) -> str:
    config = project.config
    listing = "\n".join(f"  {f}" for f in files)
    return (f"{config.title}\n{config.issuer}, edition {config.edition}, information as of "
            f"{config.as_of.isoformat()}\nPrepared for: "
            f"{project.audiences[audience].config.title}\n\n"
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
    known[path.name] = hashlib.sha256(data).hexdigest()
    atomic_write(ledger, (json.dumps(known, indent=2, sort_keys=True) + "\n").encode())
