"""Pack -> one HTML string, through Jinja templates that an audience may override file by file.

Templates come from `styles/<audience>/templates/` first, then the package's own
(a ChoiceLoader, as MkDocs themes do). Autoescape is on; note text is passed in as data
(already-sanitised HTML from markup.render) and never compiled as a template.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePath
from urllib.parse import quote

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup, escape
from pydantic import BaseModel

from briefgen import __version__, i18n, markup, paths, qr
from briefgen.chart import claims_chart
from briefgen.citations import Styled, format_references, style_text
from briefgen.claims import (
    CREDIBILITY_WORDS,
    LIKELIHOOD_SCALE,
    RELIABILITY_WORDS,
    Grading,
    Status,
    origin,
)
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.pack import Pack, alt_text_problems, confined
from briefgen.schema import Reference

TLP_COLOURS = {  # FIRST TLP 2.0 / CISA colours, shown on black
    "CLEAR": "#FFFFFF", "GREEN": "#33FF00", "AMBER": "#FFC000", "AMBER+STRICT": "#FFC000",
    "RED": "#FF0033",
}


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, minus the two ways out it leaves open for briefgen's data.

    Paths (the project root, audience folders) have public methods that read and write
    files, so a template sees their name only. Pydantic models inherit public methods that
    load files or rebuild models (`parse_file`, `model_validate_json`); a template sees their
    fields and briefgen's own methods, nothing inherited from BaseModel.
    """

    _PATH_ATTRIBUTES = frozenset({"name", "stem", "suffix"})

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        if isinstance(obj, PurePath):
            return attr in self._PATH_ATTRIBUTES
        model = isinstance(obj, BaseModel) or (isinstance(obj, type) and issubclass(obj, BaseModel))
        if model and hasattr(BaseModel, attr):
            return False
        return super().is_safe_attribute(obj, attr, value)


class TemplateFolderLoader(jinja2.FileSystemLoader):
    """Templates from one audience's `templates/` folder, and nothing reached through it.

    `{% include %}`, `{% extends %}` and `{% import %}` go through this loader, so it decides
    what a template can print: a template file of the folder itself, never a symlink (one to a
    restricted note would print it in any pack), never `..`, and never a file whose real path
    is under the project's `sources/` (the folder and the two above it, `styles/<audience>/`,
    must not be links either: `environment` skips a layer whose folders are).
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), followlinks=False)
        self.folder = folder

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses ".." itself
        path = self.folder
        for piece in pieces:
            path = path / piece
            if path.is_symlink():
                raise SecurityError(f"template '{template}' is a symbolic link "
                                    f"({path.name}); templates must be plain files")
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        if not paths.inside(path, self.folder):
            raise SecurityError(f"template '{template}' is outside its templates folder")
        return super().get_source(environment, template)


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates, kept for the life of the process and shared by every pack's
    environment (each pack gets its own, with its audience's loaders). Jinja keys a template
    by its name and file and checks its source's checksum, so an edited template is compiled
    again; every environment has the same settings, so the compiled code is the same."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


def environment(layers: list[Path], language: i18n.Language | None = None) -> jinja2.Environment:
    """Templates from the most specific audience layer first, then the package's own, with
    gettext (`{% trans %}`, `_()`, `ngettext`) in `language` (English if None)."""
    loaders: list[jinja2.BaseLoader] = []
    for layer in reversed(layers):
        folder = layer / "templates"
        for path in (layer.parent, layer, folder):
            if path.is_symlink():
                shown = "/".join(folder.parts[-3:])
                raise BriefgenError(Diagnostic(
                    Location(shown), f"{path.name} is a symbolic link; an audience's templates "
                    "must be plain files in its own folder",
                    "replace the link with a copy of the templates"))
        if folder.is_dir():
            loaders.append(TemplateFolderLoader(folder))
    loaders.append(jinja2.FileSystemLoader(paths.TEMPLATES))
    # Sandboxed: an audience template (a shared style pack, say) may read the pack it is given
    # but cannot reach Python internals, call unsafe methods or change the data it renders.
    env = TemplateSandbox(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, bytecode_cache=COMPILED,
        extensions=["jinja2.ext.i18n"])
    # Whitespace inside {% trans %} is collapsed, so a message reads the same in the catalog
    # whatever the template's line breaks (babel.cfg extracts with `trimmed` too).
    env.policies["ext.i18n.trimmed"] = True
    language = language or i18n.language(None)
    env.install_gettext_translations(language.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["reference_entry"] = reference_entry
    # Jinja's own lower-cases all but the first letter, which would break German nouns
    # ("durch andere Quellen bestätigt"); the words briefgen capitalises are lower case.
    env.filters["capitalize"] = lambda text: str(text)[:1].upper() + str(text)[1:]
    return env


def language_name(code: str, lang: str = "en") -> str:
    """"Chinese" for zh, zh-CN, zh-Hans... in the language `lang` ("chinois" in French); the
    code itself when Babel has no name for it."""
    return i18n.language(lang).language_name(code)


def reference_entry(ref: Reference, lang: str = "en") -> Markup:
    """A bibliography entry in the pack's language `lang` (its words and dates; the source's
    own fields as written): authors, title (and the title as published, `original-title`,
    beside it), publisher, date, number, URL, the language of the source when it is not the
    pack's, and whose text a copy reproduces."""
    language = i18n.language(lang)
    _ = language.gettext
    parts: list[Markup] = []
    if ref.author:
        parts.append(escape("; ".join(a.display() for a in ref.author)) + Markup("."))
    title = Markup("<cite>") + escape(ref.title) + Markup("</cite>")
    if ref.original_title:
        # As published, in its own language (so the fonts and line breaking follow it).
        shown_lang = f' lang="{escape(ref.language)}"' if ref.language else ""
        title += Markup(f' <span class="original-title"{shown_lang}>(') + \
            escape(ref.original_title) + Markup(")</span>")
    parts.append(title + Markup("."))
    tail = [x for x in (ref.container_title, ref.publisher, ref.publisher_place) if x]
    if ref.volume:
        tail.append(_("vol. %(volume)s") % {"volume": ref.volume})
    if ref.issue:
        tail.append(_("no. %(issue)s") % {"issue": ref.issue})
    if ref.page:
        pages = "-" in str(ref.page) or "–" in str(ref.page)
        tail.append((_("pp. %(pages)s") if pages else _("p. %(pages)s")) % {"pages": ref.page})
    if ref.number:
        tail.append(ref.number)
    if ref.issued:
        tail.append(ref.issued.display(language))
    if tail:
        text = ", ".join(tail)
        parts.append(escape(text) + Markup("" if text.endswith(".") else "."))  # "n.d." once
    if ref.DOI:
        parts.append(Markup('<span class="url">doi:') + escape(ref.DOI) + Markup("</span>"))
    if ref.URL:
        parts.append(Markup('<span class="url">') + escape(ref.URL) + Markup("</span>"))
    if ref.accessed:
        parts.append(escape(_("(accessed %(date)s)") % {"date": ref.accessed.display(language)}))
    if ref.custom.copy_of:
        parts.append(escape(_("A copy of a text published by %(publisher)s.")
                            % {"publisher": ref.custom.copy_of}))
    if ref.language and ref.language.split("-")[0].lower() != lang.split("-")[0].lower():
        parts.append(escape(_("In %(language)s.") % {"language": language_name(ref.language,
                                                                                lang)}))
    return Markup(" ").join(parts)


# The space a writer leaves before a citation ("territory [@law]."): a footnote's call then
# sits against the word it follows ("territory⁵."), as footnote calls do.
FOOTNOTE_SPACE = re.compile(r"[ \t\n]+(<span class=\"footnote[ \"])")


class PackRenderer:
    """Renders a pack's Markdown with markers bound to that pack's claims and citations."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.language = i18n.language(pack.lang)
        self.uses: dict[str, list[str]] = {}   # claim id -> anchor ids of its markers
        self.styled = styled_references(pack)

    def not_in_pack(self, kind: str, ident: str) -> BriefgenError:
        """A text this pack shows names a claim or source the pack does not hold. The checks
        make that a located error before any rendering (`withheld-mention`, unknown ids), so
        this is a hole in them: fail the pack rather than print a trace of what is withheld."""
        return BriefgenError(Diagnostic(
            Location(self.pack.area.display),
            f"a text of this pack names {kind} '{ident}', which the pack for "
            f"'{self.pack.audience.name}' does not hold; the pack was not built",
            "this is a bug in briefgen's checks: please report it with the project"))

    def claim_marker(self, claim_id: str) -> str:
        grading = self.pack.gradings.get(claim_id)
        if grading is None:
            raise self.not_in_pack("claim", claim_id)
        uses = self.uses.setdefault(claim_id, [])
        anchor = f"use-{claim_id}-{len(uses) + 1}"
        uses.append(anchor)
        grade = ""
        if self.pack.audience.config.inline_grades and grading.status not in (
                Status.JUDGMENT, Status.ASSUMPTION):
            grade = f'<span class="grade">{escape(grading.grade)}</span>'
        return (f'<a class="claim-ref is-{grading.status.value}" id="{escape(anchor)}" '
                f'href="#claim-{escape(claim_id)}">{escape(claim_id)}{grade}'
                f'<span class="status-word">{escape(self.language.gettext(grading.status.word))}'
                "</span></a>")

    def citation(self, items: list[tuple[str, str]]) -> str:
        """Footnotes (one per source; after the first, a call carries a separator so that
        notes 8, 9, 10 read "8, 9, 10"), or an inline citation: numbered, or by the style."""
        if self.pack.audience.config.citations == "footnotes":
            return "".join(self.footnote(ref_id, locator, more=i > 0)
                           for i, (ref_id, locator) in enumerate(items))
        if self.styled is not None:
            for ref_id, _ in items:
                if ref_id not in self.pack.references:
                    raise self.not_in_pack("source", ref_id)
            text = self.styled.cite(items)
            return (f'<span class="cite styled"><a href="#ref-{escape(items[0][0])}">'
                    f"{text}</a></span>")
        inner = []
        for ref_id, locator in items:
            number = self.pack.citation_numbers.get(ref_id)
            if number is None:
                raise self.not_in_pack("source", ref_id)
            loc = f", {escape(locator)}" if locator else ""
            inner.append(f'<a href="#ref-{escape(ref_id)}">{number}</a>{loc}')
        return f'<span class="cite">[{"; ".join(inner)}]</span>'

    def footnote(self, ref_id: str, locator: str, more: bool = False) -> str:
        """A citation as a page footnote. Without a style: the title (a link to its entry),
        the locator, then the source's number in the list of sources and its grade, as
        "Title, art. 1 (source 3, A)." (the footnote's own number is the page's marker, so
        the source number is named, not bracketed). With a style: the style's citation and
        the grade."""
        number = self.pack.citation_numbers.get(ref_id)
        if number is None:
            raise self.not_in_pack("source", ref_id)
        ref = self.pack.references[ref_id]
        grade = escape(ref.custom.reliability)
        classes = "footnote footnote-more" if more else "footnote"
        if self.styled is not None:
            text = self.styled.cite([(ref_id, locator)])
            if not self.styled.note_style and text.startswith("(") and text.endswith(")"):
                text = Markup(text[1:-1])  # an author-date citation, as a note: no brackets
            return (f'<span class="{classes}">{text} <a class="note-grade" '
                    f'href="#ref-{escape(ref_id)}">({grade})</a></span>')
        loc = f", {escape(locator)}" if locator else ""
        return (f'<span class="{classes}"><a href="#ref-{escape(ref_id)}"><cite>'
                f'{escape(ref.title)}</cite></a>{loc} (source {number}, {grade}).</span>')

    def link(self, href: str) -> str | None:
        """Web, mail and in-pack anchors as they are; a link to another note of this pack
        (`20-other.md`, `../area/20-other.md#part`) goes to that note; anything else, such as
        a file path, a `file:` or `//host` URL or a note left out of this pack, is plain text."""
        if markup.web_or_anchor(href):
            return href
        return markup.note_anchor(href, self.pack.area.slug, {n.slug for n in self.pack.notes})

    def image(self, text_file: str) -> Callable[[str], str | None]:
        """Image files as URLs relative to the document's base (sources/); the loader has
        already refused every image that `images.locate` does not find."""
        sources = self.pack.project.root / "sources"
        located = {image.src: found.path for display, _, image, found in self.pack.area.images()
                   if display == text_file}

        def url(src: str) -> str | None:
            found = located.get(src)
            if found is None:
                return None
            return quote(Path(os.path.relpath(found, sources.resolve())).as_posix())
        return url

    def markdown(self, text: str, text_file: str, heading_shift: int = 2) -> Markup:
        html = Markup(FOOTNOTE_SPACE.sub(r"\1", markup.render(
            text, claim=self.claim_marker, cite=self.citation, heading_shift=heading_shift,
            link=self.link, image=self.image(text_file))))
        if html and content_lang(self.pack):
            # The author's text keeps its own language (hyphenation, fonts) in a pack whose
            # interface is in another.
            return Markup('<div lang="%s">') % self.pack.project.config.lang + html + \
                Markup("</div>")
        return html


def content_lang(pack: Pack) -> Markup:
    """` lang="en-GB"` for an element holding the author's text when the pack's interface is
    in another language than the project's (an audience's `lang`); empty otherwise."""
    own = pack.project.config.lang
    if own == pack.lang:
        return Markup("")
    return Markup(' lang="%s"') % own


def styled_references(pack: Pack) -> Styled | None:
    """The confined pack's references formatted by its audience's `citation_style`, if any."""
    name = pack.audience.config.citation_style
    if name is None:
        return None
    root = pack.project.root
    try:
        display = (pack.audience.directory / "audience.yaml").relative_to(root).as_posix()
    except ValueError:
        display = f"audience '{pack.audience.name}'"
    return format_references(style_text(name, root, display), name, pack.references)


def render_html(pack: Pack) -> str:
    """The pack as one HTML document (`pack.html.j2`), from which every edition is made."""
    env, context = _context(pack)
    return env.get_template("pack.html.j2").render(**context)


def render_fragment(pack: Pack, template: str, **extra: object) -> str:
    """Part of a larger document (a book's part) rendered from `pack` as render_html does."""
    env, context = _context(pack)
    return env.get_template(template).render(**context, **extra)


def _context(pack: Pack) -> tuple[jinja2.Environment, dict[str, object]]:
    if missing := alt_text_problems(pack):
        raise BriefgenError(missing)
    pack = confined(pack)  # templates see only what this audience may see
    language = i18n.language(pack.lang)
    _ = language.gettext
    env = environment(pack.audience.layers, language)
    renderer = PackRenderer(pack)
    # Render bodies first so every marker's anchor exists before the caveats list them.
    notes = [(note, renderer.markdown(note.body, note.display)) for note in pack.notes]
    scope = renderer.markdown(pack.area.scope, pack.area.display)
    source_summary = renderer.markdown(pack.area.meta.source_summary, pack.area.display)
    config = pack.project.config
    sections = set(pack.audience.config.sections)
    online = pack.audience.config.online_url
    online_address = qr.address(online, pack.area.slug) if online else ""

    def likelihood_range(text: str) -> str:
        low, high = (int(x) for x in text.rstrip("%").split("-"))
        return language.percent_range(low, high)

    def status_label(status: Status) -> str:
        return _(status.label)

    def grade_label(grading: Grading) -> str:
        return grading.label_in(language)

    def reason(grading: Grading) -> str:
        return grading.reason_in(language)

    def best_source(ids: tuple[str, ...]) -> str | None:
        """The most reliable of these sources this pack holds (A best; the first on a tie):
        what a compact caveats entry names for and against a claim."""
        held = [i for i in ids if i in pack.references]
        return min(held, key=lambda i: pack.references[i].custom.reliability, default=None)

    return env, dict(
        pack=pack, project=config, area=pack.area.meta, area_slug=pack.area.slug,
        audience=pack.audience.config, audience_name=pack.audience.name,
        notes=notes, scope=scope, source_summary=source_summary, uses=renderer.uses,
        styled_entries=renderer.styled.entries if renderer.styled else None,
        Status=Status, sections=sections,
        origins={c.id: origin(c.spec, pack.references) for c in pack.claims},
        chart=Markup(claims_chart(pack.gradings.values(), pack.audience.config.palette,
                                 max(11.0, pack.audience.config.base_font_size), language))
        if pack.audience.config.chart else "", tlp=pack.tlp, tlp_colour=TLP_COLOURS[pack.tlp],
        reliability_words={k: _(v) for k, v in RELIABILITY_WORDS.items()},
        credibility_words={k: _(v) for k, v in CREDIBILITY_WORDS.items()},
        likelihood_scale=tuple((_(term), likelihood_range(p)) for term, p in LIKELIHOOD_SCALE),
        version=__version__,
        online_address=online_address, qr=qr.qr_svg(online_address) if online else "",
        inline=lambda text: Markup(FOOTNOTE_SPACE.sub(r"\1", markup.render(
            text, claim=renderer.claim_marker, cite=renderer.citation, link=renderer.link,
            image=lambda _src: None))),
        lang=pack.lang, content_lang=content_lang(pack), date=language.date, number=language.number,
        status_label=status_label, status_word=lambda status: _(status.word),
        grade_label=grade_label, reason=reason, term=_,
        page_footer=Markup(page_footer(language)), best_source=best_source,
        # Translators: a page number in print after a cross-reference ("Evidence (p. 23)").
        xref_page=Markup(css_message(language.gettext("(p. %(page)s)"),
                                     page="target-counter(attr(href url), page)")),
    )


def page_footer(language: i18n.Language) -> str:
    """The running footer ("Page 3 of 12") as a CSS `content` value in the pack's language:
    the translated message with its two counters in place."""
    return css_message(language.gettext("Page %(page)s of %(pages)s"),
                       page="counter(page)", pages="counter(pages)")


def css_message(message: str, **values: str) -> str:
    """A translated message as a CSS `content` value: its text quoted (escaped so it cannot
    end the string or the style element), each `%(name)s` replaced by the CSS value given
    (a counter), in the order the translation puts them."""
    pieces = []
    for index, bit in enumerate(re.split(r"%\((\w+)\)s", message)):
        if index % 2:
            pieces.append(values[bit])
        elif bit:
            pieces.append('"' + bit.replace("\\", "\\\\").replace('"', '\\"')
                          .replace("<", "\\3C ") + '"')
    return " ".join(pieces)


def locate_template_error(exc: Exception,
                          project_root: Path) -> tuple[str | None, int | None, str]:
    """(file, line, message) for an error raised while a template renders; file is None when
    no template frame is involved.

    Jinja keeps template frames in the traceback with the template's file and line, so the
    innermost of them says where the template went wrong; a syntax error carries them itself.
    """
    where: tuple[str, int] | None = None
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = (exc.filename, exc.lineno)
    else:
        tb = exc.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if name.endswith(".j2"):
                where = (name, tb.tb_lineno)
            tb = tb.tb_next
    message = (exc.message if isinstance(exc, jinja2.TemplateSyntaxError) else str(exc)) \
        or type(exc).__name__
    if isinstance(exc, SecurityError):
        message += (" (templates run sandboxed: they may read the pack and call its plain "
                    "methods, nothing else)")
    elif not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}"
    if where is None:
        return None, None, message
    path = Path(where[0])
    for base, prefix in ((project_root, ""), (paths.PACKAGE_ROOT, "briefgen/")):
        if path.is_relative_to(base):
            return f"{prefix}{path.relative_to(base).as_posix()}", where[1], message
    return path.name, where[1], message


def template_error(exc: Exception, project_root: Path) -> str:
    """`file:line: what went wrong` for an error raised while a template renders."""
    file, line, message = locate_template_error(exc, project_root)
    return f"{file}:{line}: {message}" if file else message
