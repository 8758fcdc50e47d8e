"""The build: plan (areas x audiences), skip unchanged packs, render in workers, write atomically.

A pack is rebuilt only when its input hash changes: the files it reads (project config,
bibliography, its area folder, its audience folder), briefgen's templates and fonts, and the
versions of briefgen, WeasyPrint and pydyf. Hashing reads bytes only, so a no-op build never
imports WeasyPrint. The hash also seeds the PDF identifier, so the same inputs give
byte-identical PDFs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path

from briefgen import __version__
from briefgen.errors import BriefgenError, error
from briefgen.model import Area, Audience, Project
from briefgen.pack import Withheld, assemble
from briefgen.render import PACKAGE_TEMPLATES, render_html

MANIFEST = "manifest.json"
RECYCLE_AFTER = 8  # packs a worker renders before it is replaced


@dataclass
class Job:
    area: str
    audience: str
    output: Path
    input_hash: str
    html: str = ""
    stylesheets: list[Path] = field(default_factory=list)
    variant: str | None = None
    tags: bool = False
    withheld: list[Withheld] = field(default_factory=list)


@dataclass
class PackResult:
    area: str
    audience: str
    status: str                 # built | unchanged | failed | withheld
    output: str = ""
    pages: int = 0
    seconds: float = 0.0
    sha256: str = ""
    input_hash: str = ""
    message: str = ""
    withheld: list[Withheld] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def _versions() -> str:
    found = [f"briefgen={__version__}"]
    for dist in ("weasyprint", "pydyf", "jinja2", "markdown", "nh3"):
        try:
            found.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:  # pragma: no cover
            found.append(f"{dist}=missing")
    return ";".join(found)


def _tree_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def input_hash(project: Project, area: Area, audience: Audience) -> str:
    digest = hashlib.sha256(_versions().encode())
    root = project.root
    files = [root / "briefgen.yaml", root / "sources" / "references.yaml"]
    files += _tree_files(root / "sources" / area.slug)
    for layer in audience.layers:
        files += _tree_files(layer)
    files += _tree_files(PACKAGE_TEMPLATES) + _tree_files(PACKAGE_TEMPLATES.parent / "fonts")
    for path in files:
        digest.update(str(path.relative_to(path.anchor)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
    digest.update(f"{area.slug}\0{audience.name}".encode())
    return digest.hexdigest()


def stylesheets_for(audience: Audience) -> list[Path]:
    """base.css (or an audience's replacement), then each layer's style.css in order."""
    overrides = [p / "templates" / "base.css" for p in reversed(audience.layers)]
    base = next((p for p in overrides if p.is_file()), PACKAGE_TEMPLATES / "base.css")
    return [base, *(p / "style.css" for p in audience.layers if (p / "style.css").is_file())]


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written PDF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(out_dir: Path) -> dict[str, dict]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        return {f"{p['audience']}/{p['area']}": p for p in data.get("packs", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


# Per-worker renderer: WeasyPrint's fonts and parsed CSS are reused across packs.
_RENDERER = None


def render_job(job: Job, project_root: Path) -> PackResult:
    """Render one pack to PDF and write it; runs in a worker process (or in-process)."""
    global _RENDERER  # noqa: PLW0603 - one cache per worker process, by design
    from briefgen.pdf import Renderer

    started = time.perf_counter()
    result = PackResult(job.area, job.audience, "failed", str(job.output),
                        input_hash=job.input_hash)
    try:
        if _RENDERER is None:
            _RENDERER = Renderer()
        data, pages, blocked = _RENDERER.pdf(
            job.html, project_root=project_root, stylesheets=job.stylesheets,
            identifier=bytes.fromhex(job.input_hash[:32]), variant=job.variant, tags=job.tags)
        atomic_write(job.output, data)
        result.status, result.pages, result.blocked = "built", pages, blocked
        result.sha256 = hashlib.sha256(data).hexdigest()
    except RecursionError:
        result.message = "layout failed: the document is nested too deeply"
    except MemoryError:
        result.message = "layout failed: out of memory"
    except Exception as exc:  # noqa: BLE001 - one failing pack must not stop the others
        result.message = f"rendering failed: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def build(project: Project, out_dir: Path, *, areas: Iterable[str] | None = None,
          audiences: Iterable[str] | None = None, force: bool = False, jobs: int = 1,
          on_result: Callable[[PackResult], None] | None = None) -> list[PackResult]:
    """Build every selected (area, audience) pack; return one result per pack."""
    area_map = {a.slug: a for a in project.areas}
    wanted_areas = list(areas) if areas else list(area_map)
    for slug in wanted_areas:
        if slug not in area_map:
            raise error("sources/", f"no area '{slug}'",
                        hint=f"areas: {', '.join(area_map) or 'none'}")
    wanted_audiences = list(audiences) if audiences else sorted(project.audiences)
    for name in wanted_audiences:
        if name not in project.audiences:
            raise error("styles/", f"no audience '{name}'",
                        hint=f"audiences: {', '.join(sorted(project.audiences)) or 'none'}")
    out_dir = out_dir.resolve()
    manifest = read_manifest(out_dir)
    results: list[PackResult] = []
    pending: list[Job] = []

    def report(result: PackResult) -> None:
        results.append(result)
        if on_result:
            on_result(result)

    for audience_name in wanted_audiences:
        audience = project.audiences[audience_name]
        for slug in wanted_areas:
            area = area_map[slug]
            output = out_dir / audience_name / f"{slug}.pdf"
            pack = assemble(project, area, audience)
            if pack is None:
                # A pack built before the area was restricted must not linger.
                output.unlink(missing_ok=True)
                report(PackResult(slug, audience_name, "withheld", message=(
                    f"area marked TLP:{area.meta.handling}, above this audience's clearance "
                    f"TLP:{audience.config.clearance}")))
                continue
            digest = input_hash(project, area, audience)
            previous = manifest.get(f"{audience_name}/{slug}")
            if (not force and previous and previous.get("input_hash") == digest
                    and previous.get("sha256") == _sha256(output)):
                report(PackResult(slug, audience_name, "unchanged", str(output),
                                  previous.get("pages", 0), sha256=previous["sha256"],
                                  input_hash=digest, withheld=pack.withheld))
                continue
            try:
                html = render_html(pack)
            except BriefgenError as exc:  # e.g. an image without alt text for large print
                report(PackResult(slug, audience_name, "failed", str(output),
                                  message="; ".join(d.format() for d in exc.diagnostics)))
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a broken audience template
                report(PackResult(slug, audience_name, "failed", str(output),
                                  message=f"template failed: {type(exc).__name__}: {exc}"))
                continue
            cfg = audience.config
            pending.append(Job(slug, audience_name, output, digest, html,
                               stylesheets_for(audience), cfg.pdf_variant, cfg.pdf_tags,
                               pack.withheld))

    if jobs > 1 and len(pending) > 1:
        context = get_context("spawn")
        workers = min(jobs, len(pending))
        # Workers are recycled by giving each pool at most RECYCLE_AFTER packs per worker
        # (bounding memory). Not max_tasks_per_child: it deadlocks on Python 3.11-3.13
        # once a worker retires with tasks still queued (CPython gh-115634).
        batch = workers * RECYCLE_AFTER
        for start in range(0, len(pending), batch):
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                futures = {pool.submit(render_job, job, project.root): job
                           for job in pending[start:start + batch]}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        result = future.result()
                    except Exception as exc:  # noqa: BLE001 - a worker that died
                        result = PackResult(job.area, job.audience, "failed", str(job.output),
                                            message=f"worker process failed: {exc}")
                    result.withheld = job.withheld
                    report(result)
    else:
        for job in pending:
            result = render_job(job, project.root)
            result.withheld = job.withheld
            report(result)

    _write_manifest(out_dir, manifest, results)
    order = {(a, s): i for i, (a, s) in enumerate(
        (a, s) for a in wanted_audiences for s in wanted_areas)}
    results.sort(key=lambda r: order[(r.audience, r.area)])
    return results


def _write_manifest(out_dir: Path, previous: dict[str, dict], results: list[PackResult]) -> None:
    entries = dict(previous)
    for r in results:
        key = f"{r.audience}/{r.area}"
        if r.status in ("built", "unchanged"):
            entries[key] = {"audience": r.audience, "area": r.area,
                            "pdf": f"{r.audience}/{r.area}.pdf", "pages": r.pages,
                            "input_hash": r.input_hash, "sha256": r.sha256}
        elif r.status == "withheld":
            entries.pop(key, None)
    packs = [entries[k] for k in sorted(entries)]
    atomic_write(out_dir / MANIFEST, (json.dumps(
        {"generator": f"briefgen {__version__}", "packs": packs}, indent=2) + "\n").encode())


def result_dict(result: PackResult) -> dict:
    data = asdict(result)
    data["withheld"] = [asdict(w) for w in result.withheld]
    return data
