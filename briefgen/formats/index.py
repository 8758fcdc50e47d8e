"""`<audience>/index.html`: one page listing every pack and edition built for an audience,
made from the manifest (only files that are there), self-contained like the HTML edition."""

from __future__ import annotations

from html import escape
from pathlib import Path

from briefgen import paths
from briefgen.model import Project

LABELS = {"pdf": "PDF (print)", "html": "HTML (screen)", "epub": "EPUB (e-reader)"}


def index_page(project: Project, audience: str, files: dict[str, dict]) -> bytes:
    config = project.config
    title = f"{config.title}: {project.audiences[audience].config.title}"
    rows = []
    parts = [("book", "The whole briefing in one volume"),
             *((a.slug, a.meta.title) for a in project.areas)]
    for slug, name in parts:
        mine = sorted((e for e in files.values() if e["area"] == slug),
                      key=lambda e: list(LABELS).index(e["format"]))
        if not mine:
            continue
        links = " · ".join(
            f'<a href="{escape(Path(e["file"]).name)}">{escape(LABELS[e["format"]])}</a>'
            + (f" ({e['pages']} pages)" if e.get("pages") else "") for e in mine)
        rows.append(f"<li><p class=\"index-area\">{escape(name)}</p>"
                    f"<p class=\"index-files\">{links}</p></li>")
    css = (paths.TEMPLATES / "edition.css").read_text("utf-8")
    return (f'<!DOCTYPE html>\n<html lang="{escape(config.lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>"
            f"<style>{css}:root {{ --accent: #1f3a5f; }} .index-area {{ font-weight: bold; "
            "margin: 1em 0 0.2em; } .index-files { margin: 0; }</style></head><body><main>"
            f"<h1>{escape(title)}</h1><p>{escape(config.issuer)} · edition "
            f"{escape(config.edition)} · information as of {config.as_of.isoformat()}</p>"
            f'<ul class="index">{"".join(rows)}</ul></main></body></html>\n').encode()
