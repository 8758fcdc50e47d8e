"""The file formats a user writes, as validated schemas with defaults.

Validation errors are turned into `file:line: message` diagnostics by `validate`, which walks
the located YAML (see yamlio) along pydantic's error path to find the line.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from briefgen.errors import TLP_ORDER as TLP_ORDER  # re-exported: the schema's levels
from briefgen.errors import Collector, tlp_spelling
from briefgen.suggest import did_you_mean
from briefgen.yamlio import LocDict, LocList

if TYPE_CHECKING:  # pragma: no cover
    from briefgen.i18n import Language


def normalise_tlp(value: Any) -> Any:  # noqa: ANN401
    """Accept FIRST's own spelling (`TLP:RED`, `tlp:amber+strict`) as well as the bare level."""
    if isinstance(value, str) and (level := tlp_spelling(value)) is not None:
        return level
    return value


TLP = Annotated[Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"],
                BeforeValidator(normalise_tlp)]
Reliability = Literal["A", "B", "C", "D", "E", "F"]
Likelihood = Literal["almost no chance", "very unlikely", "unlikely", "roughly even chance",
                     "likely", "very likely", "almost certain"]
Confidence = Literal["low", "moderate", "high"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
LANG_PATTERN = r"^[a-zA-Z]{2,3}(-[A-Za-z0-9]+)*$"
SHIPPED_STYLES = ("apa", "chicago-notes-bibliography")  # briefgen/csl/<name>.csl
SECTIONS = ("cover", "contents", "key_judgments", "scope", "body", "caveats", "sources", "keys",
            "revisions")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              str_strip_whitespace=True)


class Revision(Strict):
    edition: str
    date: dt.date
    summary: str


class Thresholds(Strict):
    """The caveats rule's knobs; defaults follow the Admiralty/ICD 206 reading in DESIGN.md."""

    corroborating_sources: int = Field(2, ge=1, le=10)
    supporting_reliability: Reliability = "C"
    contradicting_reliability: Reliability = "D"
    sourced_max_credibility: int = Field(2, ge=1, le=6)


class LintConfig(Strict):
    """`lint: {ignore: [code, ...]}`: warnings the project has decided to live with."""

    ignore: list[str] = []


class Signing(Strict):
    """`signing:`: bundles sign their PDFs (pyHanko) with this key and certificate."""

    pkcs12: str = Field(min_length=1)  # a .p12/.pfx file: relative to the project, or absolute
    password_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")  # holds its password
    signer: str = ""  # the name in the signature's reason; default: the certificate's name


class ProjectConfig(Strict):
    title: str = Field(min_length=1)
    subtitle: str = ""
    issuer: str = Field(min_length=1)
    edition: str = Field(min_length=1)
    as_of: dt.date
    # The language of every word briefgen writes (i18n.py): a BCP 47 tag a shipped catalog
    # serves (en, fr, de, es, zh-Hans; en-GB, fr-CA, zh-CN...); the loader names them.
    lang: str = Field("en", pattern=LANG_PATTERN)
    default_audience: str = "study-group"
    keywords: list[str] = []
    handling: TLP = "CLEAR"
    # The editions every pack is built in (briefgen build --to overrides it).
    formats: list[Literal["pdf", "html", "epub"]] = Field(["pdf"], min_length=1)
    book: bool = False  # also one volume of every area per audience (build --book)
    thresholds: Thresholds = Thresholds()
    lint: LintConfig = LintConfig()
    revisions: list[Revision] = []
    signing: Signing | None = None




class AudienceConfig(Strict):
    # An audience's name: the project's own (styles/NAME) or a built-in one; the loader
    # resolves it (loading._resolve_audience), never as a path.
    extends: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    page_size: Literal["A4", "A5", "letter", "legal", "B5"] = "A4"
    base_font_size: float = Field(10.5, ge=6, le=32)
    clearance: TLP = "CLEAR"
    sections: list[Literal[SECTIONS]] = list(SECTIONS)  # type: ignore[valid-type]
    inline_grades: bool = False
    explain_grades: bool = True
    # How the caveats list each claim (#23): `compact` gives its status, grade, reason and
    # best supporting and contradicting source in a few lines, the full evidence in an
    # "Evidence by claim" appendix (linked both ways); `full` prints it all in the caveats.
    caveats: Literal["compact", "full"] = "compact"
    citations: Literal["inline", "footnotes"] = "inline"
    # A CSL style for entries, citations and footnotes: a shipped style's name
    # (citations.SHIPPED) or a .csl file of the project; none keeps briefgen's own entries.
    citation_style: str | None = None
    palette: Literal["colour", "greyscale"] = "colour"
    chart: bool = True
    require_alt_text: bool = False
    provenance: bool = True  # embed the claims ledger and source notes in each PDF
    # A "For discussion" section after the caveats: the area's questions and further reading.
    discussion: bool = False
    # This audience's editions, instead of the project's `formats` (--to overrides both).
    formats: list[Literal["pdf", "html", "epub"]] | None = Field(None, min_length=1)
    pdf_variant: Literal["pdf/a-2b", "pdf/a-3b", "pdf/a-3u", "pdf/a-3a", "pdf/ua-1",
                         "pdf/ua-2"] | None = None
    pdf_tags: bool = False
    # This audience's language, instead of the project's `lang` (i18n.py).
    lang: str | None = Field(None, pattern=LANG_PATTERN)
    # Where this audience's packs are published; `{area}` stands for the area's name. The
    # cover then carries a QR code of the pack's address (and the address in print).
    online_url: str | None = Field(None, pattern=r"^https?://[^\s<>\"]+$")

    @field_validator("online_url")
    @classmethod
    def _one_placeholder(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(area="area")
            except (KeyError, IndexError, ValueError):
                raise ValueError("the only placeholder an online_url may hold is {area}, "
                                 "e.g. https://example.org/briefing/{area}.html") from None
        return value

    @field_validator("citation_style")
    @classmethod
    def _known_style(cls, value: str | None) -> str | None:
        if value is not None and value not in SHIPPED_STYLES and not value.endswith(".csl"):
            raise ValueError(f"'{value}' is neither a shipped citation style "
                             f"({', '.join(SHIPPED_STYLES)}) nor a .csl file of the project")
        return value


class Name(Strict):
    literal: str | None = None
    family: str | None = None
    given: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Name:
        if not (self.literal or self.family):
            raise ValueError("a name needs 'literal' or 'family'")
        return self

    def display(self) -> str:
        if self.literal:
            return self.literal
        return ", ".join(p for p in (self.family, self.given) if p)


_CSL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
CSL_DATE_HINT = ("write the date as YYYY-MM-DD, YYYY-MM or YYYY (like 2025-04-01), or as "
                 "{date-parts: [[YYYY, M, D]]}; for an undated source write {literal: n.d.}")


def csl_date(value: Any) -> Any:  # noqa: ANN401
    """CSL-YAML tools write `issued: 2025-04-01`, `2025-04` or `2025` (YAML reads these as a
    date, a string and an int): normalise them to `{date-parts: [[...]]}`."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return {"date-parts": [[value.year, value.month, value.day]]}
    if isinstance(value, bool):
        raise PydanticCustomError("csl_date", "'{value}' is not a date",
                                  {"value": str(value).lower()})
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        match = _CSL_DATE.match(value.strip())
        if not match:
            raise PydanticCustomError(
                "csl_date", "'{value}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)",
                {"value": value})
        parts = [int(p) for p in match.groups() if p is not None]
        try:
            dt.date(parts[0], *(parts[1:] + [1, 1][: 3 - len(parts)]))
        except ValueError as exc:
            raise PydanticCustomError("csl_date", "'{value}' is not a date: {reason}",
                                      {"value": value, "reason": str(exc)}) from None
        return {"date-parts": [parts]}
    if isinstance(value, dict):
        return value
    raise PydanticCustomError(
        "csl_date", "a date is YYYY-MM-DD, YYYY-MM, YYYY or {date-parts: [[YYYY, M, D]]}", {})


class DateParts(Strict):
    date_parts: list[list[int]] | None = Field(None, alias="date-parts")
    literal: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _csl_string(cls, value: Any) -> Any:  # noqa: ANN401
        return csl_date(value)

    @field_validator("date_parts")
    @classmethod
    def _shape(cls, value: list[list[int]] | None) -> list[list[int]] | None:
        if value is not None and (len(value) != 1 or not 1 <= len(value[0]) <= 3):
            raise ValueError("date-parts is [[year]], [[year, month]] or [[year, month, day]]")
        if value is not None:
            try:
                dt.date(value[0][0], *(value[0][1:] + [1, 1][: 3 - len(value[0])]))
            except ValueError:
                raise ValueError(f"{value[0]} is not a date") from None
        return value

    def display(self, language: Language | None = None) -> str:
        """The date as printed: in `language` (Babel) when given, else "24 November 2026"."""
        if self.literal:
            return self.literal
        assert self.date_parts is not None
        parts = self.date_parts[0]
        if language is not None and len(parts) == 3:
            return language.date(dt.date(*parts))
        if language is not None and len(parts) == 2:
            return language.year_month(parts[0], parts[1])
        if len(parts) == 3:
            return dt.date(*parts).strftime("%-d %B %Y")
        if len(parts) == 2:
            return dt.date(parts[0], parts[1], 1).strftime("%B %Y")
        return str(parts[0])


class ReferenceGrading(Strict):
    reliability: Reliability
    descriptor: str = Field(min_length=1)
    primary: bool = False
    derived_from: str | None = None
    tlp: TLP = "CLEAR"
    # How the cited text was read: in the original, or only through a summary or a quotation
    # by someone else (then the grade is that of the summary's issuer; see lint
    # summary-graded-as-original).
    read: Literal["original", "summary", "quotation"] = "original"
    # The text the briefing checks: a claim citing it was drawn from it, and that evidence
    # entry is the claim's origin (its `quote` is printed under the claim; see claims.origin).
    origin: bool = False
    # A local plain-text copy of the source (a path inside the project, e.g.
    # sources/copies/ID.txt): `check` verifies every quote citing this reference against it.
    local_copy: str | None = Field(None, alias="copy")
    # This reference is a copy (mirror, reproduction) of another publisher's text: name the
    # original publisher or its address. Printed in the bibliography.
    copy_of: str | None = None
    # false: a reference imported (`briefgen import-refs`) and not graded yet; its
    # `reliability: F` is a placeholder and lint `ungraded-source` says so until it is graded.
    graded: bool = True


class Reference(Strict):
    id: str = Field(pattern=ID_PATTERN)
    type: str = "document"
    title: str = Field(min_length=1)
    # CSL's title in the original language, kept in the exports and the embedded files but
    # not printed (it may be in a script the fonts lack: see glyphs.py).
    original_title: str | None = Field(None, alias="original-title")
    author: list[Name] = []
    editor: list[Name] = []
    issued: DateParts | None = None
    publisher: str | None = None
    publisher_place: str | None = Field(None, alias="publisher-place")
    URL: str | None = None
    accessed: DateParts | None = None
    container_title: str | None = Field(None, alias="container-title")
    # CSL-JSON's locating fields for journal articles and books: volume, issue, pages, DOI.
    volume: str | int | None = None
    issue: str | int | None = None
    page: str | int | None = None
    DOI: str | None = Field(None, pattern=r"^10\.\d{4,9}/\S+$")
    number: str | None = None
    note: str | None = None
    language: str | None = None
    custom: ReferenceGrading


class Evidence(Strict):
    ref: str = Field(pattern=ID_PATTERN)
    # context: cited and shown with the claim, never counted in its grade or status.
    stance: Literal["supports", "contradicts", "context"]
    locator: str = ""
    note: str = ""
    # The source's own words at the locator, verbatim (checked against a reference's `copy`).
    quote: str = ""


class ClaimSpec(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    kind: Literal["information", "assumption", "judgment"] = "information"
    credibility: int = Field(6, ge=1, le=6)
    rationale: str = ""
    evidence: list[Evidence] = []
    handling: TLP = "CLEAR"
    likelihood: Likelihood | None = None
    confidence: Confidence | None = None


class KeyJudgment(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    likelihood: Likelihood
    confidence: Confidence
    basis: str = ""


class EditorialItem(Strict):
    excerpt: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class FurtherReading(Strict):
    ref: str = Field(min_length=1)       # a reference id; graded and handled like any other
    reason: str = Field(min_length=1)    # one line: why read it


class AreaMeta(Strict):
    title: str = Field(min_length=1)
    order: int = 0
    summary: str = ""
    key_judgments: list[KeyJudgment] = []
    source_summary: str = ""
    editorial: list[EditorialItem] = []
    questions: list[str] = []                       # for a study group's discussion
    further_reading: list[FurtherReading] = []
    handling: TLP = "CLEAR"


class NoteMeta(Strict):
    title: str = Field(min_length=1)
    order: int = 0
    handling: TLP = "CLEAR"
    claims: list[ClaimSpec] = []


M = TypeVar("M", bound=BaseModel)


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:  # noqa: ANN401
    """Follow a pydantic error path through located YAML to the deepest known line."""
    line = getattr(data, "line", None) or None
    node = data
    for step in loc:
        if isinstance(node, LocDict) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LocList) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def validate(model: type[M], data: Any, display: str, sink: Collector,  # noqa: ANN401
             what: str = "") -> M | None:
    """Validate `data` against `model`; add located diagnostics to `sink` on failure."""
    if not isinstance(data, dict):
        sink.add(display, f"{what or 'file'} must be a YAML mapping (key: value lines)",
                 line=getattr(data, "line", None) or 1)
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(s for s in err["loc"] if not (isinstance(s, str) and "[" in s))
            where = _path(loc)
            line = line_of(data, loc)
            kind = err["type"]
            if kind == "extra_forbidden":
                parent = _model_at(model, loc[:-1])
                allowed = ", ".join(sorted(
                    (f.alias or n) for n, f in parent.model_fields.items())) if parent else ""
                keys = [(f.alias or n) for n, f in parent.model_fields.items()] if parent else []
                sink.add(display, f"unknown key '{where}'", line=line,
                         hint=did_you_mean(str(loc[-1]) if loc else "", keys,
                                           f"allowed keys here: {allowed}" if allowed
                                           else "remove it"))
            elif kind == "missing":
                sink.add(display, f"missing required key '{where}'",
                         line=line_of(data, loc[:-1]), hint="add it")
            elif str(loc[-1]) == "DOI" and kind.startswith("string_pattern"):
                sink.add(display, f"{where}: '{err['input']}' is not a DOI", line=line,
                         hint="write the DOI alone, like 10.1234/abc.2021.3 (a doi.org link "
                         "goes in URL)")
            elif kind in ("value_error", "model_type") and {"issued", "accessed"} & set(loc):
                message = (str(err["msg"]).removeprefix("Value error, ")
                           if kind == "value_error" else "this is not a date")
                sink.add(display, f"{where}: {message}", line=line, hint=CSL_DATE_HINT)
            else:
                sink.add(display, f"{where or what or 'value'}: {err['msg']}", line=line,
                         hint=_value_hint(kind))
        return None


_VALUE_HINTS = (  # pydantic error type prefix -> what to write instead
    ("csl_date", CSL_DATE_HINT),
    ("int", "write a whole number, like 3"), ("float", "write a number, like 10.5"),
    ("bool", "write true or false"), ("date", "write the date as YYYY-MM-DD"),
    ("literal", "use one of the values listed"), ("enum", "use one of the values listed"),
    ("string_too_short", "it must not be empty"),
    ("string_pattern", "use letters, digits and the characters the message allows"),
    ("string", "write text; put it in quotes if YAML reads it as a number or a date"),
    ("list", "write a list: one '- item' per line, or [a, b]"),
    ("dict", "write 'key: value' lines, indented under this key"),
    ("model", "write 'key: value' lines, indented under this key"),
    ("greater", "use a value in the range the message gives"),
    ("less", "use a value in the range the message gives"),
)


def _value_hint(kind: str) -> str:
    return next((hint for prefix, hint in _VALUE_HINTS if kind.startswith(prefix)),
                "fix the value on this line")


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema class reached by following `loc`, for listing allowed keys."""
    import typing

    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        field = None
        for name, f in current.model_fields.items():
            if step in (name, f.alias):
                field = f
        if field is None:
            return None
        ann = field.annotation
        for candidate in (ann, *typing.get_args(ann)):
            inner = typing.get_args(candidate) or (candidate,)
            found = [c for c in inner if isinstance(c, type) and issubclass(c, BaseModel)]
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found = [candidate]
            if found:
                current = found[0]
                break
        else:
            return None
    return current
