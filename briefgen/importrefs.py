"""`briefgen import-refs FILE`: BibTeX, CSL-JSON (Zotero's export) or RIS as CSL-YAML entries
appended to sources/references.yaml, each with grading placeholders.

The existing file is kept byte for byte: the new entries are one block after it, written
atomically (a temporary file renamed over the old one). Each entry is validated against
`schema.Reference` before anything is written; an entry whose id, DOI or URL the project (or
an earlier entry of the same file) already has is reported and left out. An imported entry
is `reliability: F` with `graded: false` until someone grades it: lint `ungraded-source`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from briefgen import paths, yamlio
from briefgen.errors import BriefgenError, Collector, error
from briefgen.model import REFERENCES_FILE
from briefgen.schema import ID_PATTERN, Reference, csl_date, normalise_tlp, validate

FORMATS = {".bib": "bibtex", ".bibtex": "bibtex", ".json": "csl-json", ".ris": "ris"}
FIELDS = {(f.alias or name) for name, f in Reference.model_fields.items()} - {"custom"}

BIBTEX_TYPES = {
    "article": "article-journal", "book": "book", "booklet": "pamphlet", "inbook": "chapter",
    "incollection": "chapter", "inproceedings": "paper-conference",
    "conference": "paper-conference", "manual": "report", "mastersthesis": "thesis",
    "phdthesis": "thesis", "techreport": "report", "report": "report", "online": "webpage",
    "electronic": "webpage", "www": "webpage", "misc": "document", "unpublished": "manuscript",
    "legislation": "legislation", "law": "legislation", "newspaper": "article-newspaper",
}
RIS_TYPES = {
    "JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal",
    "MGZN": "article-magazine", "NEWS": "article-newspaper", "BOOK": "book", "EBOOK": "book",
    "CHAP": "chapter", "ECHAP": "chapter", "RPRT": "report", "GOVDOC": "report",
    "CONF": "paper-conference", "CPAPER": "paper-conference", "THES": "thesis",
    "ELEC": "webpage", "WEB": "webpage", "BLOG": "post-weblog", "STAT": "legislation",
    "BILL": "bill", "CASE": "legal_case", "DATA": "dataset", "MAP": "map",
}
MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


@dataclass
class Candidate:
    """One entry read from the import file: CSL fields and where it was."""

    data: dict[str, Any]
    line: int | None = None


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)   # one sentence per entry left out


# Reading the three formats ---------------------------------------------------------------

def read_candidates(path: Path, display: str) -> list[Candidate]:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise error(display, f"cannot tell the format of '{path.name}'",
                    hint="name the file .bib (BibTeX), .json (CSL-JSON, Zotero's export) "
                    "or .ris (RIS)")
    text = yamlio.read_text(path, display)
    if kind == "bibtex":
        return _bibtex(text, display)
    if kind == "ris":
        return _ris(text, display)
    return _csl_json(text, display)


def _bibtex(text: str, display: str) -> list[Candidate]:
    import bibtexparser
    from bibtexparser import middlewares

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # failures reported below
    library = bibtexparser.parse_string(text, append_middleware=[
        middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors(),
        middlewares.SplitNameParts()])
    sink = Collector()
    for block in library.failed_blocks:
        sink.add(display, "this BibTeX entry cannot be read", line=(block.start_line or 0) + 1,
                 hint="check its braces and quotes and the commas between fields")
    sink.raise_if_errors()
    out = []
    for entry in library.entries:
        fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
        data: dict[str, Any] = {"id": entry.key,
                                "type": BIBTEX_TYPES.get(entry.entry_type.lower(), "document")}
        for name in ("author", "editor"):
            if isinstance(fields.get(name), list):
                data[name] = [_bibtex_name(n) for n in fields[name]]
        simple = {"title": "title", "publisher": "publisher", "address": "publisher-place",
                  "volume": "volume", "doi": "DOI", "url": "URL", "note": "note",
                  "language": "language", "isbn": None, "pages": "page"}
        for key, csl in simple.items():
            if csl and isinstance(fields.get(key), str):
                data[csl] = fields[key]
        container = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle")
        if isinstance(container, str):
            data["container-title"] = container
        issuer = fields.get("institution") or fields.get("school") or fields.get("organization")
        if isinstance(issuer, str) and "publisher" not in data:
            data["publisher"] = issuer
        if isinstance(fields.get("number"), str):
            data["issue" if data["type"].startswith("article") else "number"] = fields["number"]
        date = fields.get("date") or fields.get("year")
        if isinstance(date, str):
            month = fields.get("month")
            if isinstance(month, str) and "date" not in fields and date.strip().isdigit():
                number = MONTHS.get(month.strip().lower()[:3]) or (
                    int(month) if month.strip().isdigit() else None)
                date = f"{date.strip()}-{number:02d}" if number else date
            data["issued"] = date.strip()
        if isinstance(fields.get("urldate"), str):
            data["accessed"] = fields["urldate"].strip()
        out.append(Candidate(data, (entry.start_line or 0) + 1))
    return out


def _bibtex_name(name: Any) -> dict[str, str]:  # noqa: ANN401
    family = " ".join([*name.von, *name.last]).strip()
    given = " ".join(name.first).strip()
    if not given and " " in family:  # a corporate author in braces: {Audit Office}
        return {"literal": family}
    out = {"family": family} if family else {"literal": given}
    if given and family:
        out["given"] = given
    return out


def _ris(text: str, display: str) -> list[Candidate]:
    import rispy

    starts = [i for i, line in enumerate(text.splitlines(), 1) if line.startswith("TY  -")]
    ends = [i for i, line in enumerate(text.splitlines(), 1) if line.startswith("ER  -")]
    try:
        records = rispy.loads(text)
    except Exception as exc:  # noqa: BLE001 - rispy raises plain exceptions on bad tags
        raise error(display, f"not a RIS file: {exc}",
                    hint="each record starts 'TY  - ' and ends 'ER  - '") from None
    if not records or len(starts) != len(ends) or len(records) != len(starts):
        unclosed = next((s for s, e in zip(starts, [*ends, None], strict=False)
                         if e is None or e < s), starts[0] if starts else 1)
        raise error(display, "a RIS record is not closed, or there is none", line=unclosed,
                    hint="each record starts 'TY  - ' and ends with an 'ER  - ' line")
    out = []
    for record, line in zip(records, starts, strict=True):
        data: dict[str, Any] = {"type": RIS_TYPES.get(record.get("type_of_reference", ""),
                                                      "document")}
        if record.get("id"):
            data["id"] = record["id"]
        title = record.get("title") or record.get("primary_title")
        if title:
            data["title"] = title
        names = record.get("authors") or record.get("first_authors") or []
        if names:
            data["author"] = [_ris_name(n) for n in names]
        container = (record.get("journal_name") or record.get("secondary_title")
                     or record.get("alternate_title3"))
        if container:
            data["container-title"] = container
        for key, csl in (("publisher", "publisher"), ("place_published", "publisher-place"),
                         ("volume", "volume"), ("number", "issue"), ("doi", "DOI"),
                         ("language", "language")):
            if record.get(key):
                data[csl] = record[key]
        if record.get("start_page"):
            data["page"] = "–".join(p for p in (record["start_page"], record.get("end_page"))
                                    if p)
        if record.get("urls"):
            data["URL"] = record["urls"][0]
        date = record.get("date") or record.get("publication_year") or record.get("year")
        if date:
            data["issued"] = _ris_date(str(date))
        if record.get("notes"):
            data["note"] = " ".join(record["notes"])
        out.append(Candidate(data, line))
    return out


def _ris_name(name: str) -> dict[str, str]:
    family, _, given = name.partition(",")
    if not given.strip():
        return {"literal": name.strip()}
    return {"family": family.strip(), "given": given.strip()}


def _ris_date(value: str) -> str:
    """RIS writes `2020/05/01/`, `2020///` or `2020-05-01`: the filled parts, as YYYY-MM-DD."""
    parts = [p for p in re.split(r"[/-]", value.strip()) if p.strip()]
    return "-".join(parts[:3]) if parts and all(p.isdigit() for p in parts[:3]) else value


def _csl_json(text: str, display: str) -> list[Candidate]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(display, f"not JSON: {exc.msg}", line=exc.lineno,
                    hint="export CSL-JSON (Zotero: Export Collection… > CSL JSON)") from None
    items = data if isinstance(data, list) else [data]
    out = []
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise error(display, f"entry {index} is not a CSL-JSON object",
                        hint="CSL-JSON is a list of objects with id, type, title...")
        out.append(Candidate({k: v for k, v in item.items() if k in FIELDS}, None))
    return out


# Ids, duplicates, writing ----------------------------------------------------------------

def _date(value: Any) -> Any:  # noqa: ANN401
    """A date as briefgen reads it: CSL's date-parts or literal, or a YYYY[-MM[-DD]] string;
    anything else (Zotero's `raw`, `2020/2021`) kept as a literal."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if parts:
            try:  # Zotero writes [["2023", 4]]: as "2023-04"
                return "-".join(f"{int(p):02d}" if i else str(int(p))
                                for i, p in enumerate(parts[0]))
            except (TypeError, ValueError, IndexError, KeyError):
                return {"date-parts": parts}
        value = value.get("literal") or value.get("raw") or ""
        if not value:
            return None
    try:
        csl_date(value)
    except ValueError:
        return {"literal": str(value)}
    return str(value).strip()


def _names(value: Any) -> Any:  # noqa: ANN401
    if not isinstance(value, list):
        return value
    out = []
    for name in value:
        if not isinstance(name, dict):
            out.append({"literal": str(name)})
            continue
        family = " ".join(str(name[k]) for k in ("non-dropping-particle", "family") if name.get(k))
        given = " ".join(str(name[k]) for k in ("given", "dropping-particle") if name.get(k))
        if name.get("literal") or not family:
            out.append({"literal": str(name.get("literal") or given or "?")})
        else:
            out.append({"family": family, **({"given": given} if given else {})})
    return out


def normalised(data: dict[str, Any]) -> dict[str, Any]:
    """The forms briefgen's schema takes, from what exporters write."""
    out = {k: v for k, v in data.items() if v not in (None, "", [])}
    for key in ("issued", "accessed"):
        if key in out and (date := _date(out[key])) is not None:
            out[key] = date
        elif key in out:
            del out[key]
    for key in ("author", "editor"):
        if key in out:
            out[key] = _names(out[key])
    if out.get("DOI"):
        out["DOI"] = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", str(out["DOI"]),
                            flags=re.IGNORECASE).strip()
    return out


def clean_id(raw: object, data: dict[str, Any], taken: set[str]) -> str:
    """The entry's id if it is a valid briefgen id, else one made from author, year, title."""
    text = str(raw or "").strip()
    if "://" in text:  # Zotero's item URIs: an id made from the entry reads better
        text = ""
    if not re.match(ID_PATTERN, text):
        text = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._")
    if not text:
        names = data.get("author") or [{}]
        who = names[0].get("family") or names[0].get("literal") or ""
        year = str(data.get("issued", ""))[:4]
        word = next((w for w in re.findall(r"[A-Za-z0-9]+", str(data.get("title", "")))
                     if len(w) > 3), "")
        text = re.sub(r"[^A-Za-z0-9-]+", "-", f"{who}-{year}-{word}".lower()).strip("-")
        text = re.sub(r"-+", "-", text) or "ref"
    base, n = text, 2
    while text in taken:
        text, n = f"{base}-{n}", n + 1
    return text


def _norm_url(url: object) -> str:
    text = str(url or "").strip().lower()
    text = re.sub(r"^https?://(www\.)?", "", text)
    return text.rstrip("/")


def _existing(path: Path) -> tuple[str, dict[str, tuple[str, int | None]]]:
    """The references file's text and its keys: id, doi:..., url:... -> (id, line). The id of
    a reference handled above TLP:CLEAR is not kept: a report names only its line."""
    if not path.exists():
        return "", {}
    text = yamlio.read_text(path, REFERENCES_FILE)
    data = yamlio.load_yaml(text, REFERENCES_FILE) or []
    keys: dict[str, tuple[str, int | None]] = {}
    if isinstance(data, list):
        for index, item in enumerate(data):
            if not isinstance(item, dict):
                continue
            line = data.item_lines[index] if isinstance(data, yamlio.LocList) else None
            ref_id = str(item.get("id", ""))
            custom = item.get("custom")
            tlp = normalise_tlp(custom.get("tlp", "CLEAR")) if isinstance(custom, dict) else ""
            shown = ref_id if tlp in ("CLEAR", "") else f"(id withheld: TLP:{tlp})"
            keys[f"id:{ref_id}"] = (shown, line)
            if item.get("DOI"):
                keys[f"doi:{str(item['DOI']).lower()}"] = (shown, line)
            if item.get("URL"):
                keys[f"url:{_norm_url(item['URL'])}"] = (shown, line)
    return text, keys


def import_references(root: Path, source: Path, display: str) -> ImportResult:
    """Append `source`'s entries to the project's references.yaml (see the module)."""
    target = root / REFERENCES_FILE
    if target.exists() and (problem := paths.link_problem(target, root)):
        raise error(REFERENCES_FILE, problem, hint="make it a plain file of the project")
    candidates = read_candidates(source, display)
    old_text, known = _existing(target)
    result = ImportResult()
    sink = Collector()
    entries: list[dict[str, Any]] = []
    taken = {key[3:] for key in known if key.startswith("id:")}
    for candidate in candidates:
        data = normalised(candidate.data)
        raw_id = data.pop("id", None)
        label = f"'{raw_id}'" if raw_id else f"'{data.get('title', '?')}'"
        where = f"{display}:{candidate.line}" if candidate.line else display
        same = None
        if raw_id and f"id:{raw_id}" in known:
            same = ("id", known[f"id:{raw_id}"])
        elif data.get("DOI") and f"doi:{str(data['DOI']).lower()}" in known:
            same = ("DOI", known[f"doi:{str(data['DOI']).lower()}"])
        elif data.get("URL") and f"url:{_norm_url(data['URL'])}" in known:
            same = ("URL", known[f"url:{_norm_url(data['URL'])}"])
        if same:
            what, (other, line) = same
            at = f" ({REFERENCES_FILE}:{line})" if line else ""
            if other.startswith("("):  # withheld: neither id is printed
                result.duplicates.append(f"{where}: an entry left out: same {what} as a "
                                         f"reference {other}{at}")
            else:
                result.duplicates.append(f"{where}: {label} left out: same {what} as "
                                         f"'{other}'{at}")
            continue
        ref_id = clean_id(raw_id, data, taken)
        entry = {"id": ref_id, **data, "custom": {
            "reliability": "F", "descriptor": f"Not graded yet: imported from {source.name}.",
            "graded": False}}
        problems = Collector()
        if validate(Reference, entry, display, problems, what=f"entry {label}") is None:
            for diag in problems.diagnostics:
                sink.add(display, f"entry {label}: {diag.message}", line=candidate.line,
                         hint=f"{diag.hint}; fix the entry in {source.name}, or remove it")
            continue
        taken.add(ref_id)
        known[f"id:{ref_id}"] = (ref_id, None)
        if data.get("DOI"):
            known[f"doi:{str(data['DOI']).lower()}"] = (ref_id, None)
        if data.get("URL"):
            known[f"url:{_norm_url(data['URL'])}"] = (ref_id, None)
        entries.append(entry)
        result.added.append(ref_id)
    if sink.errors:
        raise BriefgenError(sink.errors)
    if entries:
        _append(target, old_text, entries, source.name)
    return result


def _append(target: Path, old_text: str, entries: list[dict[str, Any]], name: str) -> None:
    from briefgen.build.output import atomic_write

    block = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=96,
                           default_flow_style=False)
    header = (f"# Imported from {name} by briefgen import-refs: grade each entry "
              "(custom.reliability, descriptor), then delete 'graded: false'.\n")
    glue = "" if not old_text or old_text.endswith("\n") else "\n"
    gap = "\n" if old_text else ""
    new = old_text + glue + gap + header + block
    yamlio.load_yaml(new, REFERENCES_FILE)  # what is written must read back
    atomic_write(target, new.encode("utf-8"))
