"""The PDF edition: WeasyPrint through briefgen.pdf.Renderer (one per worker, kept between
packs: fonts and parsed stylesheets are reused)."""

from __future__ import annotations

from briefgen.formats import Context, Edition
from briefgen.pack import Pack


def build(pack: Pack, html: str, context: Context) -> Edition:
    from briefgen.pdf import Renderer

    state = context.state
    if state.renderer is None:
        state.renderer = Renderer()
    data, pages, blocked = state.renderer.pdf(
        html, project_root=context.project_root, stylesheets=context.stylesheets,
        identifier=context.identifier, variant=context.variant, tags=context.tags,
        embedded=context.embedded)
    return Edition(data, pages, blocked, list(state.renderer.warnings))
