"""Formats as builders: each takes the confined `Pack` and the HTML `render` made from it and
returns the bytes of one edition (Sphinx's builders over one doctree).

    pdf    WeasyPrint, through the one contained fetcher (briefgen.pdf)
    html   one self-contained file for screens: styles and images inline, no script needed
    epub   EPUB 3: XHTML from the same HTML, a navigation document from the same headings
           as the PDF's bookmarks, caveats, sources and keys as their own documents

Every builder reads resources only through `briefgen.pdf.contained_read` (project files and
briefgen's data, no links, no network), and sees only the confined pack, so every format
obeys the handling rule the same way (tests/test_formats.py runs the canaries over each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefgen.pack import Pack

FORMATS = ("pdf", "html", "epub")
EXTENSIONS = {"pdf": "pdf", "html": "html", "epub": "epub"}


@dataclass
class Context:
    """What a builder may use besides the pack and its HTML."""

    project_root: Path
    stylesheets: list[Path]
    embedded: list[tuple[str, bytes, str]]      # provenance files: (name, bytes, description)
    identifier: bytes                           # derived from what the reader sees
    variant: str | None = None
    tags: bool = False
    state: Any = None                           # the worker's state (its PDF renderer)


@dataclass
class Edition:
    data: bytes
    pages: int = 0
    blocked: list[str] = field(default_factory=list)   # resources the fetcher refused
    warnings: list[str] = field(default_factory=list)  # CSS the engine ignored


Builder = Callable[[Pack, str, Context], Edition]


def builder(name: str) -> Builder:
    """The builder of format `name` (imported when first needed: WeasyPrint is heavy)."""
    import importlib

    if name not in FORMATS:  # pragma: no cover - the schema and the command line allow only FORMATS
        raise ValueError(f"no format '{name}'")
    module = importlib.import_module(f"briefgen.formats.{name}")
    build: Builder = module.build
    return build
