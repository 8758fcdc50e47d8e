"""The EPUB 3 edition: the HTML `render` made, as XHTML documents (the cover and document
control, the body, the caveats, the sources and the keys, each its own document), a
navigation document from the same headings as the PDF's bookmarks, one stylesheet (the
audience's, without print-only rules, then edition.css), the images the pack shows, and the
claims ledger as a file of its own. Reproducible: fixed dates (the project's as-of date),
fixed order, an identifier derived from what the reader sees. Checked with epubcheck in the
tests."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from html import escape
from urllib.parse import urljoin

import tinycss2

from briefgen.formats import Context, Edition
from briefgen.formats.html import EDITION_CSS, back_links, level_headings
from briefgen.i18n import N_, language
from briefgen.pack import Pack

XHTML = "http://www.w3.org/1999/xhtml"
SVG = "http://www.w3.org/2000/svg"
EPUB_NS = "http://www.idpf.org/2007/ops"
ET.register_namespace("", XHTML)
ET.register_namespace("svg", SVG)
ET.register_namespace("epub", EPUB_NS)

# Which document each top-level part of the pack goes into, by its class.
DOCUMENTS = (("cover", ("cover", "front-matter")), ("caveats", ("caveats",)),
             ("sources", ("sources", "evidence-appendix")), ("keys", ("keys",)))
BODY = "body"
ORDER = ("cover", BODY, "caveats", "sources", "keys")
TITLES = {"cover": N_("Cover and document control"), BODY: N_("Briefing"),
          "caveats": N_("Caveats"), "sources": N_("Sources"), "keys": N_("Keys")}
PRINT_ONLY_RULES = {"page", "font-face"}


def _tag(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _document_of(element: ET.Element) -> str:
    classes = set((element.get("class") or "").split())
    for name, marks in DOCUMENTS:
        if classes & set(marks):
            return name
    return BODY


def stylesheet_for_epub(texts: list[str]) -> str:
    """The stylesheets as one, without rules that only paged media understand, and with each
    `font:` shorthand written out as longhands (EPUBCheck 4 rejects a `font` shorthand whose
    size is in rem, a known false positive it dropped in version 5)."""
    kept: list[str] = []
    for text in texts:
        for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
            if rule.type == "at-rule" and rule.lower_at_keyword in PRINT_ONLY_RULES:
                continue
            if rule.type == "error":
                continue
            if rule.type == "qualified-rule":
                body = "; ".join(_longhands(d) for d in tinycss2.parse_declaration_list(
                    rule.content, skip_comments=True, skip_whitespace=True)
                    if d.type == "declaration")
                kept.append(f"{tinycss2.serialize(rule.prelude).strip()} {{ {body} }}")
            else:
                kept.append(tinycss2.serialize([rule]))
    return "\n".join(kept) + "\n"


def _longhands(declaration: tinycss2.ast.Declaration) -> str:
    value = tinycss2.serialize(declaration.value).strip()
    important = " !important" if declaration.important else ""
    if declaration.lower_name != "font":
        return f"{declaration.name}: {value}{important}"
    tokens = [t for t in declaration.value if t.type not in ("whitespace", "comment")]
    size = next((i for i, t in enumerate(tokens)
                 if t.type in ("dimension", "percentage")
                 or (t.type == "number" and t.value == 0)), None)
    if size is None:  # a system font keyword or a form not written out: kept as it is
        return f"font: {value}{important}"
    out = []
    for token in tokens[:size]:
        word = tinycss2.serialize([token])
        prop = "font-style" if word in ("italic", "oblique") else "font-weight"
        if word != "normal":
            out.append(f"{prop}: {word}")
    out.append(f"font-size: {tinycss2.serialize([tokens[size]])}")
    rest = tokens[size + 1:]
    if len(rest) >= 2 and rest[0].type == "literal" and rest[0].value == "/":
        out.append(f"line-height: {tinycss2.serialize([rest[1]])}")
        rest = rest[2:]
    family = ", ".join(tinycss2.serialize([t]) for t in rest
                       if not (t.type == "literal" and t.value == ","))
    if family:
        out.append(f"font-family: {family}")
    return "; ".join(f"{d}{important}" for d in out)


def build(pack: Pack, html: str, context: Context) -> Edition:
    import tinyhtml5  # type: ignore[import-untyped]  # WeasyPrint's own HTML parser

    from briefgen.pdf import BlockedResource, allowed_roots, contained_read

    roots = allowed_roots(context.project_root)
    blocked: list[str] = []
    root = tinyhtml5.parse(level_headings(back_links(html, pack.lang)))
    body = root.find(f"{{{XHTML}}}body")
    assert body is not None

    # Images: copied into the book under a name of their own, by content type.
    media: dict[str, tuple[str, bytes, str]] = {}   # src -> (name in the book, bytes, type)
    base = (context.project_root.resolve() / "sources").as_uri() + "/"
    for image in body.iter(f"{{{XHTML}}}img"):
        src = image.get("src") or ""
        if src not in media:
            try:
                _, data, mime = contained_read(urljoin(base, src), roots)
            except BlockedResource as exc:
                blocked.append(f"{src} ({exc})")
                image.attrib.pop("src", None)
                continue
            extension = mime.rpartition("/")[2].replace("svg+xml", "svg").replace("jpeg", "jpg")
            media[src] = (f"images/image-{len(media) + 1}.{extension}", data, mime)
        image.set("src", media[src][0])

    # The parser keeps an inline SVG's xmlns attributes as attributes: XML declares them.
    for element in body.iter():
        for key in [k for k in element.attrib if k == "xmlns" or k.startswith(
                ("xmlns:", "{http://www.w3.org/2000/xmlns/}"))]:
            del element.attrib[key]

    # The parts of the pack, each into its document, in reading order.
    parts: dict[str, list[ET.Element]] = {name: [] for name in ORDER}
    for child in list(body):
        parts[_document_of(child)].append(child)
    documents = [name for name in ORDER if parts[name]]
    where = {element.get("id"): name for name in documents for part in parts[name]
             for element in part.iter() if element.get("id")}
    for name in documents:
        for part in parts[name]:
            for link in part.iter(f"{{{XHTML}}}a"):
                href = link.get("href") or ""
                target = where.get(href[1:]) if href.startswith("#") else None
                if target is not None and target != name:
                    link.set("href", f"{target}.xhtml{href}")

    # The navigation: the same headings as the PDF's bookmarks (h2, then h3).
    toc: list[tuple[int, str, str]] = []
    counter = 0
    for name in documents:
        for part in parts[name]:
            for heading in part.iter():
                level = {"h2": 1, "h3": 2}.get(_tag(heading))
                if level is None:
                    continue
                if not heading.get("id"):
                    counter += 1
                    heading.set("id", f"heading-{counter}")
                text = " ".join("".join(heading.itertext()).split())
                toc.append((level, f"{name}.xhtml#{heading.get('id')}", text))

    config = pack.project.config
    lang = pack.lang
    _ = language(lang).gettext
    title = f"{config.title}: {pack.area.meta.title}"
    marking = f"TLP:{pack.tlp}"
    files: list[tuple[str, bytes]] = []
    has_svg: set[str] = set()
    for name in documents:
        inner = "".join(ET.tostring(part, encoding="unicode") for part in parts[name])
        if f"{{{SVG}}}" in "".join(str(e.tag) for p in parts[name] for e in p.iter()):
            has_svg.add(name)
        files.append((f"{name}.xhtml", _xhtml(lang, f"{_(TITLES[name])}: {title}", inner, marking)))
    css_texts = [contained_read(p.as_uri(), roots)[1].decode("utf-8", "replace")
                 for p in context.stylesheets]
    css_texts.append(EDITION_CSS.read_text("utf-8"))
    # No root font size: an e-reader's own setting decides.
    css_texts.append(f":root {{ --tlp-colour: {_tlp_colour(pack)}; font-size: 100%; }}")
    files.append(("style.css", stylesheet_for_epub(css_texts).encode()))
    files.append(("nav.xhtml", _nav(lang, title, toc, marking, _("Section"))))
    files += [(name, data) for name, data, _ in media.values()]
    ledger = next((data for name, data, _ in context.embedded
                   if name == "claims-ledger.json"), None)
    if ledger is not None:
        files.append(("claims-ledger.json", ledger))

    identifier = f"urn:uuid:{uuid.UUID(bytes=context.identifier[:16])}"
    opf = _package(config, title, lang, identifier, documents, has_svg,
                   [(n, m) for n, _, m in media.values()], ledger is not None)
    return Edition(_zip(opf, files, config.as_of), blocked=blocked)


def _tlp_colour(pack: Pack) -> str:
    from briefgen.render import TLP_COLOURS

    return TLP_COLOURS[pack.tlp]


def _xhtml(lang: str, title: str, body: str, marking: str, nav: bool = False) -> bytes:
    epub = f' xmlns:epub="{EPUB_NS}"' if nav else ""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="{XHTML}"{epub} lang="{escape(lang)}" xml:lang="{escape(lang)}">'
            f'<head><meta charset="utf-8"/><title>{escape(title)}</title>'
            '<link rel="stylesheet" type="text/css" href="style.css"/></head><body>'
            f'<p class="edition-tlp">{escape(marking)}</p>{_strip_ns(body)}'
            "</body></html>\n").encode()


def _strip_ns(text: str) -> str:
    """Each part was serialised on its own, so each repeats the XHTML namespace: keep it on
    the <html> element only."""
    return text.replace(f' xmlns="{XHTML}"', "")


def _nav(lang: str, title: str, toc: list[tuple[int, str, str]], marking: str,
         untitled: str = "Section") -> bytes:
    items: list[str] = []
    depth = 0
    for wanted, href, text in toc:
        level = min(wanted, depth + 1)   # a list opens one level at a time
        if level > depth:
            items.append("<ol>" * (level - depth))
        else:
            items.append("</li>" + "</ol></li>" * (depth - level))
        depth = level
        items.append(f'<li><a href="{escape(href)}">{escape(text) or escape(untitled)}</a>')
    items.append("</li>" + "</ol></li>" * (depth - 1) + "</ol>" if depth else "")
    body = (f'<nav epub:type="toc" id="toc" role="doc-toc"><h1>{escape(title)}</h1>'
            f"{''.join(items)}</nav>")
    return _xhtml(lang, title, body, marking, nav=True)


def _package(config: object, title: str, lang: str, identifier: str, documents: list[str],
             has_svg: set[str], media: list[tuple[str, str]], ledger: bool) -> bytes:
    as_of = config.as_of  # type: ignore[attr-defined]
    issuer = config.issuer  # type: ignore[attr-defined]
    items = ['<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
             'properties="nav"/>',
             '<item id="css" href="style.css" media-type="text/css"/>']
    items += [f'<item id="doc-{name}" href="{name}.xhtml" media-type="application/xhtml+xml"'
              + (' properties="svg"' if name in has_svg else "") + "/>" for name in documents]
    items += [f'<item id="media-{i}" href="{escape(href)}" media-type="{escape(mime)}"/>'
              for i, (href, mime) in enumerate(media, 1)]
    if ledger:
        items.append('<item id="ledger" href="claims-ledger.json" '
                     'media-type="application/json"/>')
    spine = "".join(f'<itemref idref="doc-{name}"/>' for name in documents)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            f'unique-identifier="uid" xml:lang="{escape(lang)}">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="uid">{escape(identifier)}</dc:identifier>'
            f"<dc:title>{escape(title)}</dc:title><dc:language>{escape(lang)}</dc:language>"
            f"<dc:creator>{escape(issuer)}</dc:creator><dc:date>{as_of.isoformat()}</dc:date>"
            f'<meta property="dcterms:modified">{as_of.isoformat()}T00:00:00Z</meta>'
            f'</metadata><manifest>{"".join(items)}</manifest>'
            f"<spine>{spine}</spine></package>\n").encode()


CONTAINER = (b'<?xml version="1.0" encoding="utf-8"?>\n'
             b'<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
             b'<rootfiles><rootfile full-path="EPUB/package.opf" '
             b'media-type="application/oebps-package+xml"/></rootfiles></container>\n')


def _zip(opf: bytes, files: list[tuple[str, bytes]], as_of: object) -> bytes:
    """The EPUB container: `mimetype` first and stored, then the rest in a fixed order with
    fixed dates, so the same pack gives the same bytes."""
    stamp = (max(1980, as_of.year), as_of.month, as_of.day, 0, 0, 0)  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        def add(name: str, data: bytes, compress: int = zipfile.ZIP_DEFLATED) -> None:
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            book.writestr(info, data)
        add("mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
        add("META-INF/container.xml", CONTAINER)
        add("EPUB/package.opf", opf)
        for name, data in files:
            add(f"EPUB/{name}", data)
    return buffer.getvalue()


