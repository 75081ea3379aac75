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
