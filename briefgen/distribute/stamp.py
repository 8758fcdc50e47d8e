"""Numbered copies: "Copy N of M · RECIPIENT" stamped on every page of a rendered PDF.

The line is an overlay added with pikepdf (the pack is not laid out again): one content
stream appended to each page, drawn in the standard Helvetica font (WinAnsiEncoding), so a
recipient's name may hold Latin-1 characters only; anything else is a located error naming
the line of the recipients file. The name is written as a PDF literal string with `\\`,
`(` and `)` escaped and every byte outside printable ASCII as an octal escape, so it can
never end the string or the stream. The PDF's document information records the copy:
`/BriefgenCopy`, and the line appended to `/Keywords`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from briefgen.errors import Collector, error

FONT_SIZE = 7
SEPARATOR = " \u00b7 "


@dataclass(frozen=True)
class Recipient:
    name: str
    line: int | None


def _latin1_problem(name: str) -> str:
    bad = sorted({c for c in name if not (" " <= c <= "~" or "\u00a0" <= c <= "\u00ff")})
    if not bad:
        return ""
    return ", ".join(f"U+{ord(c):04X}" for c in bad)


def read_recipients(path: Path, shown: str) -> list[Recipient]:
    """A YAML list (names, or mappings with `name`) or a CSV with a `name` column."""
    from briefgen.yamlio import LocDict, LocList, load_yaml, read_text

    if path.is_symlink() or not path.is_file():
        raise error(shown, "not found, or not a plain file",
                    hint="name a YAML list or a CSV file with a 'name' column")
    text = read_text(path, shown)
    found: list[Recipient] = []
    problems = Collector()
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        header = [h.strip().lower() for h in rows[0]] if rows else []
        if "name" not in header:
            raise error(shown, "no 'name' column", line=1,
                        hint="the first row names the columns; one must be 'name'")
        column = header.index("name")
        for number, row in enumerate(rows[1:], 2):
            if any(cell.strip() for cell in row):
                found.append(Recipient(row[column].strip() if column < len(row) else "",
                                       number))
    else:
        data = load_yaml(text, shown)
        if not isinstance(data, LocList):
            raise error(shown, "not a list of recipients", line=1,
                        hint="write one '- name' per line (or '- {name: ...}')")
        for index, item in enumerate(data):
            line = data.item_lines[index] if index < len(data.item_lines) else None
            value = item.get("name") if isinstance(item, LocDict) else item
            found.append(Recipient(str(value).strip() if isinstance(value, str) else "",
                                   line))
    seen: set[str] = set()
    for r in found:
        if not r.name:
            problems.add(shown, "a recipient without a name", line=r.line,
                         hint="give every recipient a non-empty name")
        elif bad := _latin1_problem(r.name):
            problems.add(shown, f"the name holds characters the copy line cannot draw "
                         f"({bad})", line=r.line,
                         hint="copy lines use a standard PDF font: Latin-1 characters only; "
                              "write the name in Latin script")
        elif r.name in seen:
            problems.add(shown, f"{r.name!r} appears twice", line=r.line,
                         hint="each numbered copy goes to one recipient")
        seen.add(r.name)
    if not found:
        problems.add(shown, "no recipients", hint="list at least one name")
    if problems.diagnostics:
        from briefgen.errors import BriefgenError

        raise BriefgenError(problems.diagnostics)
    return found


def pdf_string(text: str) -> bytes:
    """`text` (Latin-1) as a PDF literal string, escaped."""
    out = bytearray(b"(")
    for byte in text.encode("latin-1"):
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif 0x20 <= byte <= 0x7E:
            out.append(byte)
        else:
            out += f"\\{byte:03o}".encode()
    return bytes(out + b")")


def copy_line(number: int, total: int, name: str) -> str:
    return f"Copy {number} of {total}{SEPARATOR}{name}"


def stamp(pdf_bytes: bytes, line: str) -> bytes:
    """`pdf_bytes` with `line` at the foot of every page and in the metadata; the same
    input gives the same bytes."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        font = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica, Encoding=pikepdf.Name.WinAnsiEncoding))
        text = pdf_string(line)
        for page in pdf.pages:
            box = [float(v) for v in page.trimbox]
            # A fixed name (add_resource's prefix adds a random suffix): same bytes twice.
            name = page.add_resource(font, pikepdf.Name.Font, pikepdf.Name("/BriefgenCopy"))
            x, y = box[0] + 36, box[1] + 12
            page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
            overlay = (b"Q q 0 g BT " + bytes(str(name), "ascii")
                       + f" {FONT_SIZE} Tf {x:.2f} {y:.2f} Td ".encode() + text
                       + b" Tj ET Q\n")
            page.contents_add(pikepdf.Stream(pdf, overlay))
        # The document information only (a rendered pack has no XMP; pikepdf's XMP editor
        # would rewrite the information dictionary from an empty XMP and lose it).
        keywords = str(pdf.docinfo.get("/Keywords", ""))
        pdf.docinfo[pikepdf.Name("/BriefgenCopy")] = line
        pdf.docinfo[pikepdf.Name.Keywords] = f"{keywords}, {line}" if keywords else line
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def recipient_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "recipient"
