"""`<audience>/index.html`: one page listing every pack and edition built for an audience,
made from the manifest (only files that are there), self-contained like the HTML edition."""

from __future__ import annotations

from html import escape
from pathlib import Path

from briefgen import paths
from briefgen.i18n import N_, language
from briefgen.model import Project

LABELS = {"pdf": N_("PDF (print)"), "html": N_("HTML (screen)"), "epub": N_("EPUB (e-reader)")}


def index_page(project: Project, audience: str, files: dict[str, dict]) -> bytes:
    config = project.config
    who = project.audiences[audience].config
    lang = who.lang or config.lang
    tr = language(lang)
    _ = tr.gettext
    title = f"{config.title}: {who.title}"
    rows = []
    parts = [("book", _("The whole briefing in one volume")),
             *((a.slug, a.meta.title) for a in project.areas)]
    for slug, name in parts:
        mine = sorted((e for e in files.values() if e["area"] == slug),
                      key=lambda e: list(LABELS).index(e["format"]))
        if not mine:
            continue
        links = " · ".join(
            f'<a href="{escape(Path(e["file"]).name)}">{escape(_(LABELS[e["format"]]))}</a>'
            + (" (" + escape(tr.ngettext("%(n)s page", "%(n)s pages", e["pages"])
                             % {"n": e["pages"]}) + ")" if e.get("pages") else "")
            for e in mine)
        rows.append(f"<li><p class=\"index-area\">{escape(name)}</p>"
                    f"<p class=\"index-files\">{links}</p></li>")
    css = (paths.TEMPLATES / "edition.css").read_text("utf-8")
    facts = _("%(issuer)s · edition %(edition)s · information as of %(date)s") % {
        "issuer": config.issuer, "edition": config.edition, "date": tr.date(config.as_of)}
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>"
            f"<style>{css}:root {{ --accent: #1f3a5f; }} .index-area {{ font-weight: bold; "
            "margin: 1em 0 0.2em; } .index-files { margin: 0; }</style></head><body><main>"
            f"<h1>{escape(title)}</h1><p>{escape(facts)}</p>"
            f'<ul class="index">{"".join(rows)}</ul></main></body></html>\n').encode()
