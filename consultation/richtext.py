"""Researcher-written text (introductions, consent texts, domain descriptions, help) may use a small
formatting subset: paragraphs, line breaks, emphasis, lists and links. Everything else is removed by
a maintained sanitiser (nh3, the Rust crate ammonia), when the text is stored and again when it is
shown. Plain text keeps working: without tags, it is escaped and its line breaks kept."""

from __future__ import annotations

import re
from collections.abc import Mapping

import nh3
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

TAGS = frozenset({"p", "br", "em", "strong", "ul", "ol", "li", "a"})
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"https", "http", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
BLOCK = re.compile(r"<(p|ul|ol)\b")


def sanitise(text: str) -> str:
    """The text with only the formatting subset left (links get rel=noopener noreferrer nofollow)."""
    if "<" not in text:  # plain text: escaped when shown (render), never here, or "&" would double
        return text
    return nh3.clean(
        text, tags=set(TAGS), attributes=ATTRIBUTES, url_schemes=set(URL_SCHEMES), link_rel=LINK_REL
    )


def sanitise_texts(texts: Mapping[str, str]) -> dict[str, str]:
    return {language: sanitise(text) for language, text in texts.items()}


def render(text: str) -> SafeString:
    """HTML for a page: the subset as written, or plain text escaped with its paragraphs and breaks."""
    if not text:
        return mark_safe("")
    if "<" not in text:
        return mark_safe(linebreaks(escape(text)))
    clean = sanitise(text)  # whatever was stored, cleaned again now
    if not BLOCK.search(clean):  # inline formatting only: its line breaks still count
        clean = linebreaks(clean, autoescape=False)
    return mark_safe(clean)


# (model, field) of the texts that may carry the formatting subset; the others are plain text.
RICH_FIELDS = frozenset(
    {
        ("questionnaire", "introduction"),
        ("questionnaire", "consent_text"),
        ("domain", "description"),
        ("question", "help"),
    }
)
