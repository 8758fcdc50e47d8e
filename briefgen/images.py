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
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from briefgen import paths

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.markup import Image

MAX_PIXELS = 50_000_000  # 50 megapixels: an A4 page at 600 dpi is 35 megapixels


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
        if candidate.startswith("../") or candidate == "..":
            return Located(None, f"image '{src}' is outside the project",
                           "copy the image into the project")
        if any(p.startswith(".") for p in path.relative_to(root).parts):
            return Located(None, f"image '{src}' is in a hidden file or folder",
                           "move it out of the hidden folder")
        link = paths.link_problem(path, root)
        if link:
            return Located(None, f"image '{src}' {link}",
                           "copy the image here; briefgen uses only plain files of the project")
        problem, hint = content_problem(path)
        if problem:
            return Located(None, f"image '{src}' {problem}", hint)
        return Located(path)
    return Located(None, f"image '{src}' not found",
                   f"looked for {' and '.join(dict.fromkeys(candidates))}; image paths start "
                   "from the note's folder (or from sources/)")


# An SVG document: an XML declaration, comments and a doctype (with an internal subset) may
# come before the <svg> root element.
SVG_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>\s*)*"
                       rb"<svg[\s>]", re.DOTALL | re.IGNORECASE)


# An image's type is read from its first bytes, never from its name (a PNG called .svg must
# not be parsed as SVG, nor an SVG called .png dropped).
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"BM", "image/bmp"),
          (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))


def sniffed_type(data: bytes) -> str | None:
    """The MIME type of an image from its first bytes; None if they are no image's."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if SVG_START.match(data[:4096].removeprefix(b"\xef\xbb\xbf")):
        return "image/svg+xml"
    return None


def content_problem(path: Path) -> tuple[str, str]:
    """Why the image at `path` may not be used, and what to do ('', '' if it may), judged
    from its content, never from its name: Pillow identifies raster images from their header
    (the pixel cap applies to every one, whatever it is called) and anything else must be an
    SVG document."""
    from PIL import Image, UnidentifiedImageError  # WeasyPrint's own dependency

    with path.open("rb") as handle:
        kind = sniffed_type(handle.read(4096))
    if kind == "image/svg+xml":
        return "", ""
    if kind is None:
        return ("is not an image briefgen can read (PNG, JPEG, GIF, WebP, TIFF, BMP or SVG, "
                "recognised by content, not by name)",
                "save it in one of those formats from an image editor")
    cut = _png_cut_short(path) if kind == "image/png" else ""
    if cut:
        return f"is corrupt or cut short (PNG: {cut})", _RESAVE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height <= MAX_PIXELS:
                    image.verify()  # the file's structure and checksums, without decoding
    except Image.DecompressionBombError:
        return "has more pixels than any image may have", _SCALE
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        return (f"is corrupt or cut short ({kind.removeprefix('image/').upper()}: "
                f"{exc or type(exc).__name__})",
                _RESAVE)
    if width * height > MAX_PIXELS:
        return (f"has {width} x {height} pixels ({width * height / 1e6:.0f} megapixels, "
                f"the limit is {MAX_PIXELS // 1_000_000})", _SCALE)
    return "", ""


def _png_cut_short(path: Path) -> str:
    """Why a PNG cannot hold the pixels its header claims ('' if it may): deflate packs at
    most 1032 bytes into one, and each row holds a filter byte and at least a bit a pixel,
    so a file much smaller than that is corrupt or cut short, not too big (a flipped bit in
    the header's size must not be answered with "scale it down")."""
    with path.open("rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[12:16] != b"IHDR":
        return ""
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    least = height * (1 + (width + 7) // 8) // _DEFLATE_MAX_RATIO
    size = path.stat().st_size
    if size >= least:
        return ""
    return (f"its header claims {width} x {height} pixels, which {size:,} bytes cannot "
            "hold")


_DEFLATE_MAX_RATIO = 1032
_RESAVE = "open it in an image editor and save it again, or export it anew"
_SCALE = f"scale it down to at most {MAX_PIXELS // 1_000_000} megapixels"
