"""Audiences: one source, several builds, each with its own page model, type and handling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdf
import pytest

from briefgen.build import BuildOptions, build
from briefgen.chart import claims_chart, counts
from briefgen.claims import grade
from briefgen.loading import load_project

REPO = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "basic"
BUILTIN = REPO / "briefgen" / "audiences"


def font_sizes(page: pypdf.PageObject) -> dict[float, int]:
    """Characters per rendered font size (pt) on a page."""
    sizes: dict[float, int] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            key = round(size * tm[0] * cm[0], 1)
            sizes[key] = sizes.get(key, 0) + len(text.strip())
    page.extract_text(visitor_text=visit)
    return sizes


@pytest.fixture(scope="module")
def four(tmp_path_factory) -> Path:
    """The fixture project with the four shipped audiences, built."""
    root = tmp_path_factory.mktemp("aud") / "p"
    shutil.copytree(FIXTURE, root)
    shutil.rmtree(root / "styles")
    shutil.copytree(BUILTIN, root / "styles")
    # Cover text as long as the sample's longest (title and subtitle on two lines each, a
    # 300-character summary), so the cover test below checks a realistic worst case.
    config = root / "briefgen.yaml"
    config.write_text(config.read_text().replace(
        'title: "Fixture briefing"',
        'title: "A fixture briefing with a title long enough to need two lines"\n'
        'subtitle: "And a subtitle long enough to need two lines on the cover page too"'))
    area = root / "sources/alpha/_area.md"
    summary = ("Fixture area with every status, and a summary as long as the longest one in "
               "the sample briefing, which names the records the area was checked against "
               "and the topics it covers, so that the cover has to hold several lines of it "
               "at the largest type size any shipped audience uses for it. ")
    longest = max(len(a.meta.summary or "") for a in load_project(REPO).areas)
    summary = (summary * 3)[: longest + 20].rsplit(" ", 1)[0] + "."
    area.write_text(area.read_text().replace(
        "summary: Fixture area with every status.", "summary: " + summary))
    results = build(load_project(root), root / "output", BuildOptions(areas=["alpha"], jobs=2))
    assert [r.status for r in results] == ["built"] * 4, [r.message for r in results]
    return root


def test_audience_extends_a_builtin_and_overrides_key_by_key(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    board = root / "styles/board"
    board.mkdir()
    (board / "audience.yaml").write_text("extends: analyst\ntitle: Board\nclearance: AMBER\n")
    (board / "style.css").write_text(":root { --accent: #00ff00; }\n")
    audience = load_project(root).audiences["board"]
    assert audience.config.title == "Board" and audience.config.clearance == "AMBER"
    assert audience.config.base_font_size == 9 and audience.config.inline_grades  # inherited
    from briefgen.build import stylesheets_for

    sheets = stylesheets_for(audience)
    assert [p.relative_to(p.parents[1]).as_posix() for p in sheets] == [
        "templates/base.css", "analyst/style.css", "board/style.css"]


def test_unknown_builtin_is_a_located_error(tmp_path):
    from briefgen.errors import BriefgenError

    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    (root / "styles/board").mkdir()
    (root / "styles/board/audience.yaml").write_text("title: Board\nextends: anlyst\n")
    with pytest.raises(BriefgenError) as info:
        load_project(root)
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("styles/board/audience.yaml:2: error: extends: no audience "
                              "'anlyst'")
    assert "did you mean 'analyst'?" in message


def test_audience_extends_a_project_audience_in_a_chain(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    for name, text, css in (
            ("house", "extends: analyst\ntitle: House\npage_size: A5\n", "--house: 1"),
            ("board", "extends: house\ntitle: Board\nclearance: AMBER\n", "--board: 1"),
            ("chair", "extends: board\ntitle: Chair\n", "--chair: 1")):
        (root / "styles" / name).mkdir()
        (root / "styles" / name / "audience.yaml").write_text(text)
        (root / "styles" / name / "style.css").write_text(f":root {{ {css}; }}\n")
    chair = load_project(root).audiences["chair"]
    assert chair.config.title == "Chair" and chair.config.clearance == "AMBER"  # from board
    assert chair.config.page_size == "A5" and chair.config.inline_grades  # house, analyst
    from briefgen.build import stylesheets_for

    assert [p.relative_to(p.parents[1]).as_posix() for p in stylesheets_for(chair)] == [
        "templates/base.css", "analyst/style.css", "house/style.css", "board/style.css",
        "chair/style.css"]


@pytest.mark.parametrize(("links", "cycle"), [
    ({"a": "b", "b": "a"}, "a -> b -> a"),
    ({"a": "b", "b": "c", "c": "a"}, "a -> b -> c -> a"),
    ({"x": "a", "a": "b", "b": "a"}, "a -> b -> a"),
])
def test_audiences_extending_each_other_in_a_cycle_are_refused(tmp_path, links, cycle):
    from briefgen.errors import BriefgenError

    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    for name, parent in links.items():
        (root / "styles" / name).mkdir()
        (root / "styles" / name / "audience.yaml").write_text(
            f"title: {name}\nextends: {parent}\n")
    with pytest.raises(BriefgenError) as info:
        load_project(root)
    (message,) = [d.format() for d in info.value.diagnostics]
    assert ":2: error: audiences extend each other in a cycle: " + cycle in message
    closing = cycle.split(" -> ")[-2]  # the extends line that closes the cycle
    assert message.startswith(f"styles/{closing}/audience.yaml:2:")


def test_repository_styles_extend_the_builtins():
    for name in ("study-group", "analyst", "large-print", "print-mono"):
        assert (REPO / "styles" / name / "audience.yaml").read_text().count(
            f"extends: {name}") == 1


def test_each_audience_gets_its_own_pdf_with_its_page_model(four):
    pages = {a: len(pypdf.PdfReader(four / f"output/{a}/alpha.pdf").pages)
             for a in ("study-group", "analyst", "large-print", "print-mono")}
    assert pages["large-print"] > pages["study-group"] >= pages["analyst"]
    # The page models differ in type size: the size most characters of the body are set in.
    body_size = {}
    for audience in pages:
        sizes: dict[float, int] = {}
        for page in pypdf.PdfReader(four / f"output/{audience}/alpha.pdf").pages[2:]:
            for size, count in font_sizes(page).items():
                sizes[size] = sizes.get(size, 0) + count
        body_size[audience] = max(sizes, key=sizes.get)
    assert body_size["large-print"] > body_size["study-group"] > body_size["analyst"], body_size


def test_large_print_is_tagged_pdf_ua_with_14pt_text(four):
    reader = pypdf.PdfReader(four / "output/large-print/alpha.pdf")
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    for number, page in enumerate(reader.pages, 1):
        small = {size: n for size, n in font_sizes(page).items() if size < 14}
        assert not small, (number, small)


def test_study_group_is_not_tagged_and_has_smaller_type(four):
    reader = pypdf.PdfReader(four / "output/study-group/alpha.pdf")
    assert "/StructTreeRoot" not in reader.trailer["/Root"]
    body = font_sizes(reader.pages[3])
    assert max(body, key=body.get) == 10.5


def test_inline_grades_only_for_analysts(four):
    def text(audience):
        pdf = pypdf.PdfReader(four / f"output/{audience}/alpha.pdf")
        return "".join(p.extract_text() for p in pdf.pages).replace(" ", "")
    assert "AL-01A2SOURCED" in text("analyst")
    assert "AL-01A2SOURCED" not in text("study-group")


def test_footnote_citations_for_study_group_inline_for_analysts(four):
    study = "".join(p.extract_text() for p in pypdf.PdfReader(
        four / "output/study-group/alpha.pdf").pages)
    analyst = "".join(p.extract_text() for p in pypdf.PdfReader(
        four / "output/analyst/alpha.pdf").pages)
    assert "1. Law Alpha, art. 1 (source 1, A)." in study  # a footnote at the page foot
    assert "[1]" not in study.split("Sources and grades")[0]  # no second number in a note
    assert "registration [1, art. 1]" in analyst          # an inline numbered citation


def test_greyscale_audience_uses_no_colour(four):
    """print-mono: every fill and stroke colour in the content streams is grey (r = g = b)."""
    import re

    reader = pypdf.PdfReader(four / "output/print-mono/alpha.pdf")
    coloured = []
    for page in reader.pages:
        stream = page.get_contents().get_data().decode("latin-1")
        for r, g, b in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG)\b", stream):
            if not (float(r) == float(g) == float(b)):
                coloured.append((r, g, b))
    # The TLP label keeps its FIRST colour on black; nothing else may be coloured.
    tlp_clear_white = {("1", "1", "1")}
    assert set(coloured) <= tlp_clear_white, set(coloured)


def test_claims_chart_counts_by_status_and_grade(basic_project):
    project = load_project(basic_project)
    gradings = [grade(c.spec, project.references) for c in project.areas[0].claims]
    table = counts(gradings)
    assert dict(table["sourced"]) == {"A": 2, "B": 1}
    assert dict(table["disputed"]) == {"F": 2}
    assert dict(table["uncorroborated"]) == {"C": 1, "F": 1}
    svg = claims_chart(gradings, "greyscale")
    assert svg.startswith("<svg") and "A 2" in svg and "F 2" in svg
    assert "#1d6b35" not in svg  # the colour palette is not used


def test_chart_is_on_the_caveats_page(four):
    reader = pypdf.PdfReader(four / "output/study-group/alpha.pdf")
    page = next(p for p in reader.pages if "Caveats: what stands on what\nEach" in p.extract_text())
    text = page.extract_text()
    assert "Claims by computed status" in text and "Sourced" in text


def test_missing_alt_text_fails_large_print_only(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(BUILTIN / "large-print", root / "styles/large-print")
    (root / "sources/beta/pic.png").write_bytes((REPO / "tests/fixtures/pixel.png").read_bytes())
    note = root / "sources/beta/10-only.md"
    note.write_text(note.read_text() + "\n![](pic.png \"A caption\")\n")
    project = load_project(root)
    assert any(w.code == "missing-alt-text" for w in project.warnings)
    results = {(r.audience, r.area): r for r in build(project, root / "output", BuildOptions(
        jobs=1))}
    failed = results[("large-print", "beta")]
    assert failed.status == "failed"
    assert "sources/beta/10-only.md:12" in failed.message and "alt text" in failed.message
    assert results[("study-group", "beta")].status == "built"
    assert results[("large-print", "alpha")].status == "built"


def test_figures_get_captions(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    (root / "sources/beta/pic.png").write_bytes((REPO / "tests/fixtures/pixel.png").read_bytes())
    note = root / "sources/beta/10-only.md"
    note.write_text(note.read_text() + "\n![A red square](pic.png \"Figure 1: a test image\")\n")
    build(load_project(root), root / "output", BuildOptions(
        areas=["beta"], audiences=["study-group"]))
    reader = pypdf.PdfReader(root / "output/study-group/beta.pdf")
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Figure 1: a test image" in text
    assert any("/XObject" in (p.get("/Resources") or {}) for p in reader.pages)


def test_audience_may_override_a_template(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    override = root / "styles/study-group/templates"
    override.mkdir()
    (override / "cover.html.j2").write_text(
        '<section class="cover" id="cover"><h1>OVERRIDDEN COVER {{ area.title }}</h1>'
        "</section>\n")
    build(load_project(root), root / "output", BuildOptions(
        areas=["beta"], audiences=["study-group"]))
    first = pypdf.PdfReader(root / "output/study-group/beta.pdf").pages[0].extract_text()
    assert "OVERRIDDEN COVER Beta area" in first


def test_templates_are_compiled_once_per_process_and_again_when_edited(tmp_path, monkeypatch):
    """Every pack gets its own template environment; the compiled templates are shared
    between them (render.COMPILED), and an edited template is compiled again, as the
    preview needs."""
    from briefgen import render
    from briefgen.pack import assemble

    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    override = root / "styles/study-group/templates"
    override.mkdir()
    cover = override / "cover.html.j2"
    cover.write_text('<section class="cover" id="cover"><h1>FIRST {{ area.title }}</h1>'
                     "</section>\n")
    monkeypatch.setattr(render, "COMPILED", render.CompiledTemplates())
    compiled: list[str] = []
    real = render.TemplateSandbox.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return real(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(render.TemplateSandbox, "compile", counting)

    def html() -> str:
        project = load_project(root)
        audience = project.audiences["study-group"]
        area = next(a for a in project.areas if a.slug == "beta")
        pack = assemble(project, area, audience)
        assert pack is not None
        return render.render_html(pack)

    assert "FIRST Beta area" in html()
    assert "cover.html.j2" in compiled and "pack.html.j2" in compiled
    compiled.clear()
    assert "FIRST Beta area" in html()
    assert compiled == []
    cover.write_text(cover.read_text().replace("FIRST", "EDITED"))
    assert "EDITED Beta area" in html()
    assert compiled == ["cover.html.j2"]


def test_the_cover_fits_on_one_page_in_every_audience(four):
    """Large print once pushed the handling notice onto a page of its own."""
    for pdf in sorted((four / "output").glob("*/alpha.pdf")):
        reader = pypdf.PdfReader(pdf)
        cover, second = (reader.pages[i].extract_text() for i in (0, 1))
        assert "Handling: TLP:" in cover, pdf.parent.name
        assert "Contents" in [line.strip() for line in second.splitlines()[:3]], \
            (pdf.parent.name, second[:120])
        assert "Handling: TLP:" not in second, pdf.parent.name


def test_key_tables_are_never_split_across_pages(four):
    """Large print once left the Admiralty table's last row alone on the next page."""
    tables = [("almost no chance", "almost certain"),
              ("Completely reliable", "Reliability cannot be judged"),
              ("Confirmed by other sources", "Truth cannot be judged")]
    for pdf in sorted((four / "output").glob("*/alpha.pdf")):
        pages = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(pdf).pages]
        for first, last in tables:
            where = [i for i, text in enumerate(pages) if first in text]
            assert where, (pdf.parent.name, first)
            assert last in pages[where[-1]], (pdf.parent.name, first, last)
