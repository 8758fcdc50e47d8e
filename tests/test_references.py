"""References: CSL date strings, citation styles, `import-refs`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from briefgen.citations import CSL_DIR as CSL
from briefgen.citations import SHIPPED, format_references, style_text
from briefgen.errors import BriefgenError
from briefgen.loading import load_project
from briefgen.schema import Reference

FIXTURES = Path(__file__).parent / "fixtures"

REFS = "sources/references.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems(root: Path) -> list[str]:
    with pytest.raises(BriefgenError) as info:
        load_project(root)
    return [d.format() for d in info.value.diagnostics]


@pytest.mark.parametrize(("written", "parts"), [
    ("2020-01-02", [2020, 1, 2]),        # YAML reads this as a date
    ("'2020-01-02'", [2020, 1, 2]),      # a quoted string
    ("2020-01", [2020, 1]),
    ("'2020-1'", [2020, 1]),
    ("2020", [2020]),                    # YAML reads this as a whole number
    ("{date-parts: [[2020, 1, 2]]}", [2020, 1, 2]),
])
def test_csl_date_strings_are_accepted_beside_date_parts(basic_project, written, parts):
    edit(basic_project / REFS, "  issued: {date-parts: [[2020, 1, 2]]}\n",
         f"  issued: {written}\n")
    project = load_project(basic_project)
    ref = next(r for r in project.references.values() if r.issued and r.issued.date_parts
               and r.issued.date_parts[0][0] == 2020)
    assert ref.issued is not None and ref.issued.date_parts == [parts]


@pytest.mark.parametrize("written", ["2020-13", "'2020-02-30'", "next spring", "[2020]",
                                     "{date-parts: [[2020, 2, 30]]}"])
def test_a_malformed_date_is_located_with_a_true_hint(basic_project, written):
    edit(basic_project / REFS, "  issued: {date-parts: [[2020, 1, 2]]}\n",
         f"  issued: {written}\n")
    (msg,) = problems(basic_project)
    assert msg.startswith(f"{REFS}:5: error: ")
    assert "is not a date" in msg or "a date is YYYY-MM-DD" in msg  # [2020]: not a string
    assert "YYYY-MM-DD, YYYY-MM or YYYY" in msg
    assert "DateParts" not in msg and "key: value" not in msg


def test_accessed_takes_the_same_forms(basic_project):
    edit(basic_project / REFS, "  issued: {date-parts: [[2020, 1, 2]]}\n",
         "  issued: 2020-01-02\n  accessed: 2024-05\n")
    project = load_project(basic_project)
    assert any(r.accessed and r.accessed.date_parts == [[2024, 5]]
               for r in project.references.values())


# Citation styles -----------------------------------------------------------------------------

def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", "build", *args], check=False,
                          cwd=root,
                          capture_output=True, text=True, timeout=600)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture(scope="module")
def styled(tmp_path_factory) -> Path:
    """The fixture project with three audiences: APA inline, Chicago notes in footnotes
    (cleared for the AMBER memo), and a project .csl file."""
    root = tmp_path_factory.mktemp("styles") / "p"
    shutil.copytree(FIXTURES / "basic", root)
    for name, text in {
        "apa": "title: APA\nextends: analyst\ncitation_style: apa\n",
        "notes": "title: Notes\nextends: study-group\nclearance: AMBER\ncitations: footnotes\n"
                 "citation_style: chicago-notes-bibliography\n",
        "own": "title: Own\ncitation_style: styles/own/mine.csl\n",
    }.items():
        (root / "styles" / name).mkdir()
        (root / "styles" / name / "audience.yaml").write_text(text)
    shutil.copy(CSL / "apa.csl", root / "styles/own/mine.csl")
    proc = build(root, "--audience", "apa", "--audience", "notes", "--audience", "own",
                 "--area", "alpha")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def test_apa_formats_entries_and_in_text_citations_with_the_grade(styled):
    text = pdf_text(styled / "output/apa/alpha.pdf")
    flat = " ".join(text.split())
    assert "registration (Law Alpha, 2020, art. 1)." in flat  # in-text, author-date
    sources = flat.split("Sources and grades")[-1]
    assert "C Doe, J. (2019). Paper Charlie. Fairly reliable." in sources  # APA, with grade
    assert "A Law Alpha (2020). Completely reliable; primary record." in sources
    assert "[1," not in flat                                # no numbered citations left
    assert "CANARY-REF-7781" not in flat                    # withheld: never formatted


def test_chicago_notes_in_footnotes_with_separated_calls(styled):
    flat = " ".join(pdf_text(styled / "output/notes/alpha.pdf").split())
    assert "1. Law Alpha (2020), art. 1. (A)" in flat   # a note, then its grade
    assert "C Doe, J. Paper Charlie. May 2019." in flat.split("Sources and grades")[-1]
    assert "CANARY-REF-7781" in flat                              # cleared for AMBER
    assert "[1]" not in flat.split("Sources and grades")[0]


def test_a_project_csl_file_is_used_and_must_stay_inside(styled, tmp_path):
    flat = " ".join(pdf_text(styled / "output/own/alpha.pdf").split())
    assert "(Law Alpha, 2020, art. 1)" in flat
    root = tmp_path / "p"
    shutil.copytree(styled, root, ignore=shutil.ignore_patterns("output", ".briefgen*"))
    outside = tmp_path / "outside.csl"
    shutil.copy(CSL / "apa.csl", outside)
    (root / "styles/own/mine.csl").unlink()
    (root / "styles/own/mine.csl").symlink_to(outside)
    proc = build(root, "--audience", "own", "--area", "alpha")
    assert proc.returncode != 0
    assert "mine.csl" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    (root / "styles/own/mine.csl").unlink()
    (root / "styles/own/mine.csl").write_text(
        '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<style xmlns="http://purl.org/net/xbiblio/csl">&x;</style>')
    proc = build(root, "--audience", "own", "--area", "alpha")
    assert proc.returncode != 0 and "DOCTYPE" in proc.stdout + proc.stderr
    assert "root:" not in proc.stdout + proc.stderr


def test_shipped_styles_keep_their_licence():
    for name in SHIPPED:
        text = (CSL / f"{name}.csl").read_text()
        assert 'license="http://creativecommons.org/licenses/by-sa/3.0/"' in text
        assert "<author>" in text and "<id>http://www.zotero.org/styles/" in text


def test_style_text_is_escaped_not_markup():
    ref = Reference.model_validate({
        "id": "x", "type": "book", "title": "A <b>bold</b> & odd title",
        "author": [{"family": "O<i>x"}], "issued": 2020,
        "custom": {"reliability": "B", "descriptor": "d"}})
    for name in SHIPPED:
        styled = format_references(style_text(name, Path("."), "a"), name, {"x": ref})
        html = styled.entries["x"] or styled.cite([("x", "p. 3")])
        assert "A &lt;b&gt;bold&lt;/b&gt; &amp; " in html and "<b>" not in html
        assert "O&lt;i&gt;x" in html


# import-refs ---------------------------------------------------------------------------------

BIBTEX = r"""@article{kim2021,
  author = {Kim, Soo-jin and M{\"u}ller, Anna},
  title = {Border checks at scale},
  journal = {Journal of Border Studies},
  year = {2021}, month = mar, volume = {12}, number = {3}, pages = {45--67},
  doi = {10.5555/jbs.2021.12}
}
@techreport{again,
  author = {{Audit Office}},
  title = {Report Bravo copy},
  institution = {Audit Office}, year = {2021},
  doi = {10.5555/JBS.2021.12}
}
@misc{report-b, title = {Same id as the fixture's}, year = {2020}}
"""

CSL_JSON = """[
  {"id": "http://zotero.org/users/1/items/ABCD", "type": "webpage",
   "title": "Immigration statistics 2023",
   "author": [{"family": "Berg", "given": "Lena", "non-dropping-particle": "van den"}],
   "issued": {"date-parts": [["2023", 4]]}, "accessed": {"raw": "2024-01-05"},
   "URL": "https://stats.example.org/immigration/2023/", "container-title": "Stats portal"},
  {"id": "dup-url", "type": "webpage", "title": "Same page",
   "URL": "http://www.stats.example.org/immigration/2023"}
]
"""

RIS = """TY  - RPRT
AU  - Okafor, Chinedu
TI  - Annual report on customs cooperation
PY  - 2022///
PB  - Customs Council
UR  - https://customs.example.net/report-2022
ER  -

TY  - NEWS
TI  - A story without an author
DA  - 2019/06/01/
T2  - The Daily Example
ER  -
"""


def import_refs(root: Path, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", "import-refs", str(file)],
                          cwd=root, capture_output=True, text=True, timeout=120, check=False)


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", "check"], cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)


def imported(basic_project: Path, name: str, text: str) -> tuple[str, str, str]:
    refs = basic_project / REFS
    before = refs.read_bytes()
    source = basic_project.parent / name
    source.write_text(text)
    proc = import_refs(basic_project, source)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = refs.read_bytes()
    assert after.startswith(before)                     # the file kept byte for byte
    added = after[len(before):].decode()
    checked = check(basic_project)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # still a valid project
    return proc.stdout, added, checked.stdout + checked.stderr


def test_import_bibtex(basic_project):
    out, added, checked = imported(basic_project, "refs.bib", BIBTEX)
    assert "added 1 reference(s) to sources/references.yaml: kim2021" in out
    assert "refs.bib:8: 'again' left out: same DOI as 'kim2021'" in out
    assert "refs.bib:14: 'report-b' left out: same id as 'report-b' (sources/references.yaml:7)" \
        in out
    project = load_project(basic_project)
    ref = project.references["kim2021"]
    assert [a.display() for a in ref.author] == ["Kim, Soo-jin", "Müller, Anna"]
    assert ref.issued is not None and ref.issued.date_parts == [[2021, 3]]
    assert (ref.type, ref.container_title, ref.page, ref.issue, ref.DOI) == (
        "article-journal", "Journal of Border Studies", "45–67", "3", "10.5555/jbs.2021.12")
    assert ref.custom.reliability == "F" and ref.custom.graded is False
    assert "graded: false" in added
    assert "warning: reference 'kim2021' is not graded yet" in checked
    assert "[ungraded-source]" in checked or "ungraded-source" in checked


def test_import_csl_json(basic_project):
    out, added, checked = imported(basic_project, "zotero.json", CSL_JSON)
    assert "'dup-url' left out: same URL as 'van-den-berg-2023-immigration'" in out
    ref = load_project(basic_project).references["van-den-berg-2023-immigration"]
    assert "issued: 2023-04" in added
    assert [a.display() for a in ref.author] == ["van den Berg, Lena"]
    assert ref.issued is not None and ref.issued.date_parts == [[2023, 4]]
    assert ref.accessed is not None and ref.accessed.date_parts == [[2024, 1, 5]]
    assert "ungraded-source" in checked


def test_import_ris(basic_project):
    out, _, checked = imported(basic_project, "export.ris", RIS)
    assert "ungraded-source" in checked
    assert "added 2 reference(s)" in out
    refs = load_project(basic_project).references
    report = refs["okafor-2022-annual"]
    assert (report.type, report.publisher, report.URL) == (
        "report", "Customs Council", "https://customs.example.net/report-2022")
    assert report.issued is not None and report.issued.date_parts == [[2022]]
    story = refs["2019-story"]
    assert story.type == "article-newspaper" and story.container_title == "The Daily Example"
    assert story.issued is not None and story.issued.date_parts == [[2019, 6, 1]]


@pytest.mark.parametrize(("name", "text", "where"), [
    ("bad.bib", "@article{ok, title = {Fine}, year = {2020}}\n\n@book{broken,\n  title = {Oops\n",
     "bad.bib:3: error: this BibTeX entry cannot be read"),
    ("bad.json", '[{"id": "a", "title": "x"},\n {"id": "b" "title": "y"}]',
     "bad.json:2: error: not JSON"),
    ("bad.ris", "TY  - JOUR\nTI  - never closed\n", "bad.ris:1: error: a RIS record is not closed"),
    ("bad.txt", "anything", "bad.txt: error: cannot tell the format"),
    ("untitled.bib", "@misc{nameless, year = {2020}}\n",
     "untitled.bib:1: error: entry 'nameless': missing required key 'title'"),
])
def test_unreadable_input_is_a_located_error_and_nothing_is_written(basic_project, name, text,
                                                                     where):
    refs = basic_project / REFS
    before = refs.read_bytes()
    source = basic_project.parent / name
    source.write_text(text)
    proc = import_refs(basic_project, source)
    assert proc.returncode == 1
    assert where in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert refs.read_bytes() == before


def test_a_duplicate_of_a_withheld_reference_does_not_print_its_id(basic_project):
    source = basic_project.parent / "memo.bib"
    source.write_text("@report{secret-memo, title = {Anything}, year = {2020}}\n")
    out = import_refs(basic_project, source).stdout
    assert "memo.bib:1: an entry left out: same id as a reference (id withheld: TLP:AMBER) " \
        "(sources/references.yaml:29)" in out
    assert "secret-memo" not in out
    assert "CANARY" not in out


def test_an_unknown_style_name_is_a_located_error_of_check(basic_project):
    audience = basic_project / "styles/study-group/audience.yaml"
    audience.write_text(audience.read_text() + "citation_style: chicago\n")
    (msg,) = problems(basic_project)
    assert msg.startswith("styles/study-group/audience.yaml:3: error: citation_style: ")
    assert "'chicago' is neither a shipped citation style (apa, chicago-notes-bibliography)" \
        in msg


def test_an_entry_the_style_leaves_out_is_printed_in_its_note_form():
    """Chicago leaves unpublished documents out of the bibliography; a briefing lists every
    source it cites with its grade, so the entry is the style's note instead."""
    ref = Reference.model_validate({
        "id": "plan", "type": "document", "title": "Institutional Reform Plan",
        "author": [{"literal": "State Council"}], "issued": "2018-03-17",
        "custom": {"reliability": "C", "descriptor": "d"}})
    name = "chicago-notes-bibliography"
    styled = format_references(style_text(name, Path("."), "a"), name, {"plan": ref})
    assert styled.entries["plan"] == ("State Council, \u201cInstitutional Reform Plan\u201d, "
                                      "March 17, 2018.")


@pytest.mark.parametrize(("content", "expected"), [
    (None, "styles/own/mine.csl"),                                  # missing
    ("<style>not closed", "styles/own/mine.csl: error: not a CSL style"),
    ('<!DOCTYPE s [<!ENTITY x "y">]><style/>', "may not declare a DOCTYPE"),
    ("apa", ""),                                                     # a good one: ok
])
def test_check_finds_what_the_build_would_refuse_in_a_project_style(basic_project, content,
                                                                     expected):
    folder = basic_project / "styles/own"
    folder.mkdir()
    (folder / "audience.yaml").write_text("title: Own\ncitation_style: styles/own/mine.csl\n")
    if content == "apa":
        shutil.copy(CSL / "apa.csl", folder / "mine.csl")
    elif content is not None:
        (folder / "mine.csl").write_text(content)
    proc = check(basic_project)
    output = proc.stdout + proc.stderr
    if expected:
        assert proc.returncode == 1 and expected in output, output
        assert "Traceback" not in output
    else:
        assert proc.returncode == 0, output


def test_styled_addresses_break_at_the_margin_like_briefgen_own():
    ref = Reference.model_validate({
        "id": "w", "type": "webpage", "title": "Page", "issued": 2020,
        "URL": "https://example.org/a/very/long/path?x=1&y=2",
        "custom": {"reliability": "B", "descriptor": "d"}})
    for name in SHIPPED:
        styled = format_references(style_text(name, Path("."), "a"), name, {"w": ref})
        assert '<span class="url">https://example.org/a/very/long/path?x=1&amp;y=2</span>' \
            in styled.entries["w"] + styled.cite([("w", "")])


def test_a_statute_number_that_is_not_a_us_public_law_goes_after_the_title():
    from briefgen.citations import csl_item
    from briefgen.schema import Reference

    def item(number: str) -> dict:
        return csl_item(Reference.model_validate({
            "id": "law", "type": "legislation", "title": "People's Police Law",
            "number": number, "custom": {"reliability": "A", "descriptor": "d"}}), "law")

    order = item("Order of the President No. 40")
    assert "number" not in order
    assert order["title"] == "People's Police Law (Order of the President No. 40)"
    public_law = item("114-94")
    assert public_law["number"] == "114-94" and public_law["title"] == "People's Police Law"
