"""Numbered copies: "Copy N of M · RECIPIENT" on every page of every PDF, and on the title
page of the HTML and EPUB editions, made from the files a build wrote (nothing is laid out
again).

**PDF.** The copy line is set once per recipient by WeasyPrint, in briefgen's bundled Noto
Sans (embedded and subset, like every other text in a pack, so PDF/A and PDF/UA editions
keep their fonts embedded), as a strip one line high, centred at the foot of the page.
pikepdf then places that strip on every page as a form XObject, marked as a pagination
artifact (`/Artifact` with `/Footer`) so that a tagged PDF's structure is unchanged. The
document information records the copy in `/BriefgenCopy`. A name is only ever text inside
WeasyPrint's HTML (escaped), never PDF syntax, so no name can break out of a string or a
content stream.

**HTML and EPUB.** The line is inserted, escaped, as the first paragraph of the cover
section (`<section class="cover" id="cover">`), which every edition of a pack has. The EPUB
is re-zipped member by member in the same order with the same dates and compression, so the
same copy gives the same bytes.

A name must be drawable: a character the copy font lacks is a located error naming the
recipients file's line, not a blank box on a recipient's pages.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from briefgen.errors import BriefgenError, Collector, error

FONT = Path(__file__).resolve().parent.parent / "fonts" / "NotoSans-Regular.ttf"
FONT_SIZE = 7.5          # pt
BASELINE = 14.0          # pt from the page's foot (trim box) to the strip's foot: clear
                         # of the running footer above, and of a printer's unprintable edge
STRIP_HEIGHT = 12.0      # pt
SEPARATOR = " \u00b7 "
COVER = '<section class="cover" id="cover">'
XOBJECT = "/BriefgenCopy"


@dataclass(frozen=True)
class Recipient:
    name: str
    line: int | None


def copy_line(number: int, total: int, name: str) -> str:
    return f"Copy {number} of {total}{SEPARATOR}{name}"


def recipient_slug(name: str) -> str:
    """A file-name part for `name`: ASCII letters and digits (accents dropped), else
    'recipient'; the copy number in front keeps file names unique."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:40] or "recipient"


@lru_cache(maxsize=1)
def _drawable() -> frozenset[int]:
    from briefgen.glyphs import _cmap

    return frozenset(_cmap(FONT))


def read_recipients(path: Path, shown: str) -> list[Recipient]:
    """Recipients from a YAML list (names, or mappings with `name`) or a CSV file with a
    `name` column. Every problem is reported at once, each with its line."""
    from briefgen.yamlio import LocDict, LocList, load_yaml, read_text

    if not path.exists() and not path.is_symlink():
        raise error(shown, "no such file",
                    hint="name a YAML list of recipients or a CSV file with a 'name' column")
    text = read_text(path, shown)   # a plain file: no link, pipe or device; bounded size
    found: list[Recipient] = []
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        header = [h.strip().lower() for h in rows[0]] if rows else []
        if "name" not in header:
            raise error(shown, "no 'name' column", line=1,
                        hint="the first row names the columns, one of them 'name', e.g. "
                             "name,email")
        column = header.index("name")
        for number, row in enumerate(rows[1:], 2):
            if any(cell.strip() for cell in row):
                found.append(Recipient(row[column].strip() if column < len(row) else "",
                                       number))
    else:
        data = load_yaml(text, shown)
        if not isinstance(data, LocList):
            raise error(shown, "not a list of recipients", line=1,
                        hint="write one '- Name' per line, or '- name: Name'")
        for index, item in enumerate(data):
            line = data.item_lines[index] if index < len(data.item_lines) else None
            value = item.get("name") if isinstance(item, LocDict) else item
            found.append(Recipient(str(value).strip() if isinstance(value, str | int)
                                   else "", line))
    problems = Collector()
    seen: set[str] = set()
    for r in found:
        if not r.name:
            problems.add(shown, "a recipient without a name", line=r.line,
                         hint="give every recipient a non-empty name")
        elif unprintable := sorted({c for c in r.name if not c.isprintable()}):
            problems.add(shown, "the name holds control characters "
                         + ", ".join(f"U+{ord(c):04X}" for c in unprintable), line=r.line,
                         hint="write the name as plain text on one line")
        elif missing := sorted({c for c in r.name if ord(c) not in _drawable()}):
            problems.add(shown, "the copy line's font (Noto Sans) cannot draw "
                         + ", ".join(f"{c} (U+{ord(c):04X})" for c in missing[:8]),
                         line=r.line,
                         hint="write the name in Latin, Greek or Cyrillic script (a copy "
                              "line in other scripts is not supported yet)")
        elif r.name in seen:
            problems.add(shown, f"{r.name!r} is listed twice", line=r.line,
                         hint="each numbered copy goes to one recipient; list each once")
        seen.add(r.name)
    if not found:
        problems.add(shown, "no recipients", hint="list at least one name")
    if problems.diagnostics:
        raise BriefgenError(problems.diagnostics)
    return found


@lru_cache(maxsize=4)
def _strip_style(width: float) -> tuple[object, object]:
    """The strip's stylesheet and font configuration, made once per page width: loading the
    font is most of the cost of a strip, and it is the same for every copy."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(string=f"""
        @font-face {{ font-family: BriefgenCopy; src: url("{FONT.as_uri()}"); }}
        @page {{ size: {width:.2f}pt {STRIP_HEIGHT}pt; margin: 0; }}
        html, body {{ margin: 0; }}
        p {{ font: {FONT_SIZE}pt/{STRIP_HEIGHT}pt BriefgenCopy; color: #333;
             margin: 0; text-align: center; white-space: nowrap; }}""", font_config=fonts)
    return css, fonts


def _strip(line: str, width: float) -> bytes:
    """A one-page PDF `width` pt wide and one line high with `line` in Noto Sans."""
    from weasyprint import HTML

    css, fonts = _strip_style(width)
    document = f'<html lang="und"><title>copy</title><p>{html.escape(line)}</p></html>'
    return HTML(string=document).write_pdf(
        stylesheets=[css], font_config=fonts)


def stamp_pdf(data: bytes, line: str) -> bytes:
    """`data` (a PDF) with `line` at the foot of every page and in its document
    information. The same input gives the same bytes."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        widths = {round(float(p.trimbox[2]) - float(p.trimbox[0]), 2) for p in pdf.pages}
        forms = {}
        for width in sorted(widths):
            with pikepdf.open(io.BytesIO(_strip(line, width))) as strip:
                forms[width] = pdf.copy_foreign(strip.pages[0].as_form_xobject())
        for page in pdf.pages:
            x0, y0, x1, _ = (float(v) for v in page.trimbox)
            form = forms[round(x1 - x0, 2)]
            name = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name(XOBJECT))
            page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
            page.contents_add(pikepdf.Stream(pdf, (
                f"Q /Artifact <</Type /Pagination /Subtype /Footer>> BDC q 1 0 0 1 "
                f"{x0:.2f} {y0 + BASELINE:.2f} cm {name} Do Q EMC\n").encode()))
        pdf.docinfo[pikepdf.Name(XOBJECT)] = line
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _cover_line(text: str, line: str) -> str:
    if COVER not in text:
        raise error("edition", "the edition has no cover section to carry the copy line",
                    hint="keep <section class=\"cover\" id=\"cover\"> in the cover template")
    marked = f'{COVER}<p class="cover-copy"><strong>{html.escape(line)}</strong></p>'
    return text.replace(COVER, marked, 1)


def stamp_html(data: bytes, line: str) -> bytes:
    return _cover_line(data.decode("utf-8"), line).encode("utf-8")


def stamp_epub(data: bytes, line: str) -> bytes:
    """The EPUB with the copy line on its cover document, members in the same order with
    the same dates, modes and compression."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith(".xhtml") and COVER.encode() in content:
                content = _cover_line(content.decode("utf-8"), line).encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


STAMPERS = {"pdf": stamp_pdf, "html": stamp_html, "epub": stamp_epub}
