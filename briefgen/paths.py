"""Where briefgen's own files are, and the one test of whether a path stays inside a folder.

Every module asks here: the package's data folders (templates, fonts, built-in audiences, the
`init` skeleton, the preview's static files), and `inside`, which resolves symlinks and `..`
before it answers, so a link out of the project is outside however it is spelled.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_ROOT / "templates"
FONTS = PACKAGE_ROOT / "fonts"
AUDIENCES = PACKAGE_ROOT / "audiences"
SKELETON = PACKAGE_ROOT / "skeleton"
STATIC = PACKAGE_ROOT / "serve" / "static"
# The audiences that ship with briefgen (folders under AUDIENCES), in the order `init` offers.
BUILTIN_AUDIENCES = ("study-group", "analyst", "large-print", "print-mono")
# What a pack may load from briefgen itself: its data folders, never its Python code.
DATA_FOLDERS = (AUDIENCES, FONTS, TEMPLATES)


def inside(path: Path, folder: Path) -> bool:
    """True if `path`, after resolving symlinks and `..`, is `folder` or below it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def shown(path: Path, base: Path) -> str:
    """`path` as messages show it: relative to `base` (POSIX style) if it is below it, else
    the full path. Symlinks are not resolved: this names, it does not contain."""
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return str(path)
