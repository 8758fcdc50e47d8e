"""Images in notes: where their files are, and whether a pack may use them.

An image path is read the way people expect: from the folder of the note that shows it
(`![map](map.png)` next to the note). The form briefgen 1.0 documented, a path from
`sources/` (`![map](border/map.png)`), keeps working: it is tried second. A file must be a
regular, non-hidden file inside the project, and a raster image may have at most
`MAX_PIXELS` pixels (a 20000 x 20000 PNG of a few kilobytes decodes to 1.6 GB). Every
problem is an error at the line of the note that shows the image, in `check` and `build`.
"""

from __future__ import annotations

import posixpath
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.markup import Image

MAX_PIXELS = 50_000_000  # 50 megapixels: an A4 page at 600 dpi is 35 megapixels
RASTER = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Located:
    path: Path | None      # the file, when it was found and may be used
    problem: str = ""      # why not, for the error message
    hint: str = ""


def locate_all(root: Path, text_file: str, text: str) -> tuple[tuple[Image, Located], ...]:
    """Every image `text` (the Markdown of `text_file`) shows, with where its file is."""
    from briefgen.markup import find_images

    return tuple((image, locate(root, text_file, image.src)) for image in find_images(text))


def locate(root: Path, text_file: str, src: str) -> Located:
    """The file `src` names in the text `text_file` (a project-relative path)."""
    if not src:
        return Located(None, "image without a file name", "write ![what it shows](file.png)")
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith("//"):
        return Located(None, f"image '{src}' is not a file in the project",
                       "briefgen never loads anything from the network or outside the "
                       "project: save the image next to the note and write its file name")
    relative = unquote(parts.path)
    if "\0" in relative or relative.startswith("/"):
        return Located(None, f"image '{src}' is not a relative path",
                       "write the path from the note's folder, like map.png")
    root = root.resolve()
    folder = posixpath.dirname(text_file)
    candidates = [posixpath.normpath(posixpath.join(folder, relative)),
                  posixpath.normpath(posixpath.join("sources", relative))]
    for candidate in dict.fromkeys(candidates):
        path = root / candidate
        if not path.exists() and not path.is_symlink():
            continue
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return Located(None, f"image '{src}' is a broken link", "")
        if not real.is_relative_to(root):
            return Located(None, f"image '{src}' is outside the project",
                           "copy the image into the project")
        if any(p.startswith(".") for p in real.relative_to(root).parts):
            return Located(None, f"image '{src}' is in a hidden file or folder",
                           "move it out of the hidden folder")
        if not stat.S_ISREG(real.stat().st_mode):
            return Located(None, f"image '{src}' is not a regular file", "")
        problem = _too_large(real)
        if problem:
            return Located(None, f"image '{src}' {problem}",
                           f"scale it down to at most {MAX_PIXELS // 1_000_000} megapixels")
        return Located(real)
    return Located(None, f"image '{src}' not found",
                   f"looked for {' and '.join(dict.fromkeys(candidates))}; image paths start "
                   "from the note's folder (or from sources/)")


def _too_large(path: Path) -> str:
    """Why a raster image may not be used ('' if it may): read from its header only."""
    if path.suffix.lower() not in RASTER:
        return ""
    from PIL import Image  # WeasyPrint's own dependency; imported only when there are images

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return "has more pixels than any image may have"
    except (OSError, ValueError, SyntaxError) as exc:
        return f"cannot be read as an image ({exc})"
    if width * height > MAX_PIXELS:
        return (f"has {width} x {height} pixels ({width * height / 1e6:.0f} megapixels, "
                f"the limit is {MAX_PIXELS // 1_000_000})")
    return ""
