"""Packs in the reader's language (#21): the catalogs, `lang`, and packs built in each
shipped language, read back from the PDF."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pypdf
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from briefgen import i18n
from briefgen.build import BuildOptions, build
from briefgen.errors import BriefgenError
from briefgen.loading import load_project

REPO = Path(__file__).parent.parent


def extracted() -> dict[str | tuple[str, ...], bool]:
    """Every message briefgen's code and templates hold (pybabel extract, babel.cfg's map):
    message id -> whether it is python-format."""
    method_map = [("**.py", "python"), ("templates/**.j2", "jinja2")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true",
                                   "newstyle_gettext": "true"}}
    found: dict[str | tuple[str, ...], bool] = {}
    for _, _, message, _, _ in extract_from_dir(str(REPO / "briefgen"), method_map, options):
        key = message if isinstance(message, str) else tuple(message)
        found[key] = "%(" in "".join(key if isinstance(key, tuple) else (key,))
    return found


def catalog(name: str) -> Catalog:
    with i18n.po_path(name).open("rb") as handle:
        return read_po(handle)


def test_babel_cfg_maps_what_the_test_extracts():
    text = (REPO / "babel.cfg").read_text()
    assert "[python: **.py]" in text and "[jinja2: templates/**.j2]" in text
    assert "trimmed = true" in text and "newstyle_gettext = true" in text


def test_the_template_holds_every_message_of_the_code():
    """briefgen.pot is what `check` counts against: it must be the code's messages."""
    with i18n.TEMPLATE.open("rb") as handle:
        pot = read_po(handle)
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in pot if m.id}
    assert ids == set(extracted()), "run pybabel extract (README, 'Adding a language')"


@pytest.mark.parametrize("name", i18n.SHIPPED)
def test_every_shipped_catalog_is_complete(name):
    """Every message extracted from the code has a translation, not fuzzy, with every plural
    form, and the same %(placeholders)s as the English."""
    messages = extracted()
    own = catalog(name)
    missing, bad = [], []
    for key in messages:
        message = own.get(key[0] if isinstance(key, tuple) else key)
        strings = message.string if message is not None else ""
        forms = list(strings) if isinstance(strings, (list, tuple)) else [strings]
        if message is None or message.fuzzy or not all(forms) or \
                (isinstance(key, tuple) and len(forms) != own.num_plurals):
            missing.append(key)
            continue
        wanted = set(re.findall(r"%\(\w+\)s", "".join(key if isinstance(key, tuple) else [key])))
        for form in forms:
            if set(re.findall(r"%\(\w+\)s", form)) - wanted or (
                    not isinstance(key, tuple) and set(re.findall(r"%\(\w+\)s", form)) != wanted):
                bad.append((key, form))
    assert missing == [], f"{name}: untranslated {missing}"
    assert bad == [], f"{name}: placeholders differ {bad}"
    assert i18n.untranslated(name) == 0


def test_tags_select_the_shipped_catalogs():
    assert [i18n.catalog_for(t) for t in ("en", "en-GB", "EN-us", "fr-CA", "de-AT", "es-419",
                                          "zh", "zh-Hans", "zh-CN", "zh-Hans-CN", "zh_SG")] == [
        "en", "en", "en", "fr", "de", "es", "zh-Hans", "zh-Hans", "zh-Hans", "zh-Hans", "zh-Hans"]
    assert [i18n.catalog_for(t) for t in ("zh-Hant", "zh-TW", "ja", "pt-BR")] == [None] * 4


def test_plural_forms_follow_the_language():
    en, fr, de = (i18n.language(t) for t in ("en", "fr", "de"))
    singular, plural = "%(n)s page", "%(n)s pages"
    assert en.ngettext(singular, plural, 1) == "%(n)s page"
    assert en.ngettext(singular, plural, 2) == "%(n)s pages"
    assert fr.ngettext(singular, plural, 0) == "%(n)s page"     # French: 0 is singular
    assert de.ngettext(singular, plural, 0) == "%(n)s Seiten"


def test_an_unknown_lang_is_a_located_error_naming_the_shipped_ones(basic_project):
    config = basic_project / "briefgen.yaml"
    config.write_text(config.read_text().replace("lang: en", "lang: pt-BR"))
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("briefgen.yaml:5: error: lang 'pt-BR': briefgen has no catalog")
    assert "en, fr, de, es, zh-Hans" in message
    config.write_text(config.read_text().replace("lang: pt-BR", "lang: en"))
    audience = basic_project / "styles/study-group/audience.yaml"
    audience.write_text(audience.read_text() + "lang: zh-TW\n")
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("styles/study-group/audience.yaml:3: error: lang 'zh-TW'")


def test_check_warns_once_per_language_with_the_count(basic_project, tmp_path, monkeypatch):
    """A catalog missing strings: they print in English, and `check` says how many, once for
    the language however many audiences use it."""
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    po = locale / "de" / "LC_MESSAGES" / "briefgen.po"
    text = po.read_text()
    text = text.replace('msgstr "Inhalt"', 'msgstr ""', 1)
    text = text.replace('msgstr "Datum"', 'msgstr ""', 1)
    po.write_text(text)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    monkeypatch.setattr(i18n, "TEMPLATE", locale / "briefgen.pot")
    i18n.untranslated.cache_clear()
    i18n.translations.cache_clear()
    try:
        for name in ("study-group", "restricted"):
            audience = basic_project / "styles" / name / "audience.yaml"
            audience.write_text(audience.read_text() + "lang: de\n")
        warnings = [d.format() for d in load_project(basic_project).warnings
                    if d.code == "untranslated"]
        assert len(warnings) == 1
        assert "lang 'de': 2 of briefgen's strings have no translation" in warnings[0]
        assert i18n.language("de").gettext("Contents") == "Contents"   # English fallback
    finally:
        i18n.untranslated.cache_clear()
        i18n.translations.cache_clear()


# English interface words that must not appear on the cover, contents or caveats of a pack
# in another language (the fixture's own text has none of them).
ENGLISH = ("Contents", "Edition", "Information as of", "Prepared for", "Claims graded",
           "Handling:", "Every statement", "Key judgments", "Scope note", "Revision history",
           "Caveats: what stands", "Sourced fact", "Uncorroborated", "Disputed claims",
           "Source summary statement", "Why sourced", "Why disputed", "best supporting source",
           "Counts for this pack", "sourced,", "Supports", "Contradicts",
           "independent reliable", "March")
TRANSLATED = {
    "fr": ("Sommaire", "Préparé pour", "Faits sourcés", "Affirmations contestées",
           "Page 1 sur", "1 mars 2025", "Pourquoi « sourcée » :", "Réserves : ce qui repose"),
    "de": ("Inhalt", "Erstellt für", "Belegte Tatsachen", "Umstrittene Aussagen",
           "Seite 1 von", "1. März 2025", "Warum „belegt“:", "Vorbehalte: was worauf"),
    "es": ("Índice", "Preparado para", "Hechos documentados", "Afirmaciones en disputa",
           "Página 1 de", "1 de marzo de 2025", "Por qué «documentada»:", "Salvedades:"),
    "zh-Hans": ("目录", "编写对象", "有据事实", "有争议的论断", "第 1 页，共", "2025年3月1日",
                "为何“有据”：", "说明与保留：各项论断的依据"),
}


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> dict[str, list[str]]:
    """One pack (the fixture's alpha area) per shipped language other than English, each
    from an audience that sets `lang`, with Chinese text in a note: page texts."""
    root = tmp_path_factory.mktemp("i18n") / "basic"
    shutil.copytree(REPO / "tests" / "fixtures" / "basic", root)
    note = root / "sources" / "alpha" / "10-facts.md"
    note.write_text(note.read_text() + "\n公安部负责出入境管理和边防检查，并管理国家移民管理局。\n")
    for tag in TRANSLATED:
        folder = root / "styles" / f"readers-{tag.lower()}"
        folder.mkdir()
        (folder / "audience.yaml").write_text(f"title: Readers\nlang: {tag}\n")
    project = load_project(root)
    audiences = [f"readers-{tag.lower()}" for tag in TRANSLATED]
    results = build(project, root / "output", BuildOptions(
        audiences=audiences, areas=["alpha"], jobs=2))
    assert all(r.status == "built" for r in results), [r.message for r in results]
    # French sets no-break spaces before its colons and inside guillemets: read them as spaces.
    return {tag: [page.extract_text().replace("\u00a0", " ").replace("\u202f", " ")
                  for page in pypdf.PdfReader(
        root / "output" / f"readers-{tag.lower()}" / "alpha.pdf").pages] for tag in TRANSLATED}


@pytest.mark.parametrize("tag", list(TRANSLATED))
def test_cover_contents_and_caveats_have_no_english_interface_words(packs, tag):
    pages = packs[tag]
    caveats = [i for i, text in enumerate(pages) if TRANSLATED[tag][7] in text]
    assert caveats, f"no caveats page found in the {tag} pack"
    shown = [pages[0], pages[1], *pages[caveats[0]:caveats[0] + 3]]
    text = "\n".join(shown)
    found = [word for word in ENGLISH if word in text]
    found += re.findall(r"Page \d+ of \d+", text)   # the running footer
    assert found == [], f"{tag}: English interface words {found}"
    missing = [word for word in TRANSLATED[tag] if word not in "\n".join(pages)]
    assert missing == [], f"{tag}: translated words missing {missing}"


def test_chinese_text_extracts_back_exactly(packs):
    """In the zh-Hans pack (and in every pack: the French one here) Chinese text is set in a
    font that has it, broken between characters, and reads back character for character."""
    from briefgen import glyphs

    assert glyphs.named_system_fonts(), \
        "Noto CJK is not installed: scripts/setup.sh installs it (apt-get install fonts-noto-cjk)"
    sentence = "公安部负责出入境管理和边防检查，并管理国家移民管理局。"
    for tag in ("zh-Hans", "fr"):
        text = re.sub(r"\s+", "", "".join(packs[tag]))
        assert sentence in text, tag
