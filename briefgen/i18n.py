"""The language of every word briefgen itself writes into a pack: gettext catalogs, Babel
dates and numbers.

`lang:` (briefgen.yaml, overridable per audience) is a BCP 47 tag such as `fr`, `en-GB` or
`zh-Hans`. It is written as given into `<html lang>` (so WeasyPrint hyphenates for it and
the PDF's /Lang says it) and selects one of the shipped catalogs: `en-GB` and `en-US` use
`en`, `fr-CA` uses `fr`, `zh`, `zh-CN` and `zh-Hans-CN` use `zh-Hans`. A tag no catalog
serves is a located error (`loading`) listing the shipped ones.

Catalogs are `briefgen/locale/<lang>/LC_MESSAGES/briefgen.po`, read with Babel and compiled
in memory when a pack first needs them (nothing compiled is committed or installed, so a
fresh `pip install -e .` works). A message with no translation falls back to English; `check`
warns once per language with the count (`untranslated`), and a unit test fails when a
shipped catalog is incomplete. README, "Adding a language", has the pybabel workflow.

Author content (titles, notes, claims, reasons an author wrote) is never translated.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from briefgen import paths

DOMAIN = "briefgen"
LOCALE_DIR = paths.PACKAGE_ROOT / "locale"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
SHIPPED = ("en", "fr", "de", "es", "zh-Hans")
DEFAULT = "en"


def N_(message: str) -> str:  # gettext's name for "mark, translate later"
    """Mark a string for extraction; it is translated where it is printed."""
    return message


def catalog_for(tag: str) -> str | None:
    """The shipped catalog that serves the BCP 47 tag `tag`, or None.

    Chinese is served in simplified characters only: `zh`, `zh-Hans` (with any region),
    `zh-CN`, `zh-SG`, `zh-MY`; `zh-Hant`, `zh-TW`, `zh-HK` and `zh-MO` are not (no catalog
    in traditional characters is shipped).
    """
    parts = tag.replace("_", "-").split("-")
    primary = parts[0].lower()
    if primary == "zh":
        script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
        region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
        if script == "Hans" or (script is None and region in (None, "CN", "SG", "MY")):
            return "zh-Hans"
        return None
    return primary if primary in SHIPPED else None


def po_path(catalog: str) -> Path:
    return LOCALE_DIR / catalog.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path) -> object:
    """A .po file as a Babel Catalog."""
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, domain=DOMAIN)


@lru_cache(maxsize=16)
def translations(catalog: str) -> gettext.NullTranslations:
    """The compiled catalog (English for every string it lacks). Fuzzy and empty entries
    are left out, so they fall back to English too."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(po_path(catalog)), use_fuzzy=False)  # type: ignore[arg-type]
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    compiled.add_fallback(gettext.NullTranslations())
    return compiled


@lru_cache(maxsize=16)
def untranslated(catalog: str) -> int:
    """How many messages of the template (briefgen.pot) `catalog` has no translation for."""
    from babel.messages.catalog import Catalog

    template = read_catalog(TEMPLATE)
    path = po_path(catalog)
    own = read_catalog(path) if path.is_file() else Catalog()
    assert isinstance(template, Catalog) and isinstance(own, Catalog)
    missing = 0
    for message in template:
        if not message.id:
            continue
        found = own.get(message.id)
        strings = found.string if found is not None else ""
        values = strings if isinstance(strings, (list, tuple)) else [strings]
        if found is None or found.fuzzy or not all(values):
            missing += 1
    return missing


@dataclass(frozen=True)
class Language:
    """The language a pack is written in: its tag as the project wrote it, the catalog that
    serves it, and Babel's locale for dates and numbers."""

    tag: str
    catalog: str

    @property
    def translations(self) -> gettext.NullTranslations:
        return translations(self.catalog)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    @property
    def locale(self) -> object:
        return babel_locale(self.tag, self.catalog)

    def date(self, value: dt.date, form: str = "long") -> str:
        """A date as this language writes it ("24 November 2026", "24 novembre 2026",
        "2026年11月24日")."""
        from babel.dates import format_date

        return format_date(value, format=form, locale=self.locale)  # type: ignore[arg-type]

    def year_month(self, year: int, month: int) -> str:
        from babel.dates import format_skeleton

        return format_skeleton("yMMMM", dt.date(year, month, 1),
                               locale=self.locale)  # type: ignore[arg-type]

    def number(self, value: int | float) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.locale)  # type: ignore[arg-type]

    def percent_range(self, low: int, high: int) -> str:
        """"55-80%" as this language writes a range of percentages ("55-80 %" in French)."""
        from babel.numbers import format_percent

        high_text = format_percent(high / 100, locale=self.locale)  # type: ignore[arg-type]
        number = self.number(high)
        return high_text.replace(number, f"{self.number(low)}–{number}", 1)

    def language_name(self, code: str) -> str:
        """The name of the language `code` in this language ("Chinese", "chinois", "中文")."""
        from babel import Locale, UnknownLocaleError

        try:
            name = Locale.parse(code.replace("-", "_").split("_")[0]).get_display_name(
                self.locale)  # type: ignore[arg-type]
        except (ValueError, UnknownLocaleError):
            return code
        return name or code


@lru_cache(maxsize=32)
def babel_locale(tag: str, catalog: str) -> object:
    """Babel's locale for `tag` (`en-GB` writes dates the British way), or the catalog's own
    when Babel has no data for the tag."""
    from babel import Locale, UnknownLocaleError

    if tag.lower() == "en":
        # briefgen's English is British ("organisation", "24 November 2026"); en-US is American.
        tag = "en-GB"
    for candidate in (tag, catalog):
        try:
            return Locale.parse(candidate, sep="-")
        except (ValueError, UnknownLocaleError):
            continue
    return Locale.parse("en")


def language(tag: str | None) -> Language:
    """The Language for `tag`; the loader has already refused a tag no catalog serves, so an
    unknown one here falls back to English rather than fail a pack."""
    tag = tag or DEFAULT
    return Language(tag, catalog_for(tag) or DEFAULT)


def shipped_list() -> str:
    return ", ".join(SHIPPED)
