"""The French catalog is complete and its compiled .mo matches the .po (a stale .mo fails here)."""

import re
from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PAIR = re.compile(r'^msgid "(.+)"\nmsgstr "(.*)"$(?!\n")', re.MULTILINE)


def unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n")


def test_every_single_line_message_is_translated_and_compiled():
    pairs = PAIR.findall(PO.read_text(encoding="utf-8"))
    assert len(pairs) > 40
    with translation.override("fr"):
        for english, french in pairs:
            english, french = unescape(english), unescape(french)
            assert french, f"untranslated: {english}"
            if "%" not in english and "{{" not in english:
                assert translation.gettext(english) == french, english


def test_no_fuzzy_entries():
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")


def catalog() -> dict[str, str]:
    """Every entry of the French .po (a plural by its singular), messages over several lines included."""
    entries = {}
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        found = re.search(
            r'^msgid ((?:".*"\n)+)(?:msgid_plural (?:".*"\n)+)?msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M
        )
        if found:
            english, french = ("".join(re.findall(r'"(.*)"', part)) for part in found.groups())
            entries[unescape(english)] = unescape(french)
    return entries


def test_every_message_is_translated_however_many_lines_it_takes():
    untranslated = [english for english, french in catalog().items() if english and not french]
    assert untranslated == []


JINJA_TEXT = re.compile(r"""\{\{ _\((?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\)""")


def test_the_respondents_jinja_templates_text_is_in_the_catalog():
    """Respondents' pages are Jinja templates whose text makemessages finds as `{{ _("…") }}`: each
    such text is in the French catalog, translated (a template wording that makemessages cannot
    read would fail here)."""
    templates = Path(__file__).resolve().parents[2] / "templates" / "jinja2"
    entries = catalog()
    texts = {
        double or single
        for path in templates.rglob("*.html")
        for double, single in JINJA_TEXT.findall(path.read_text(encoding="utf-8"))
    }
    assert len(texts) > 50
    assert sorted(text for text in texts if not entries.get(text)) == []
