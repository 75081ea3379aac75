"""Researcher-written text (introductions, consent texts, domain descriptions, help) may use a small
formatting subset: paragraphs, line breaks, emphasis, lists and links. Everything else is removed by
a maintained sanitiser (nh3, the Rust crate ammonia) whenever the text is shown: it is stored as its
author wrote it (so editing it again shows what they typed), and every page and email renders it
through here. Plain text keeps working: it is escaped and its line breaks kept."""

from __future__ import annotations

import html
import re

import nh3
from django.utils.html import escape, linebreaks, strip_tags
from django.utils.safestring import SafeString, mark_safe

TAGS = frozenset({"p", "br", "em", "strong", "ul", "ol", "li", "a"})
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"https", "http", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
BLOCK = re.compile(r"<(p|ul|ol)\b")
# A "<" that does not start something shaped like a tag ("1 <= 5", "<jane@example.org>") is text;
# whatever is shaped like a tag is left to the sanitiser, which keeps the subset and drops the rest.
STRAY_LESS_THAN = re.compile(r"<(?!/?[A-Za-z][A-Za-z0-9]*(?:\s|/?>)|!--)")


def sanitise(text: str) -> str:
    """The text as HTML with only the formatting subset left (links get rel=noopener noreferrer
    nofollow). A "<" that starts no tag is text ("1 <= 5", "Jane <jane@example.org>")."""
    if "<" not in text and "&" not in text:
        return text
    text = STRAY_LESS_THAN.sub("&lt;", text)
    return nh3.clean(
        text, tags=set(TAGS), attributes=ATTRIBUTES, url_schemes=set(URL_SCHEMES), link_rel=LINK_REL
    )


def render(text: str) -> SafeString:
    """HTML for a page. The text is kept as its author wrote it and sanitised here, every time it is
    shown: the formatting subset stays, the rest is removed or shown as text, line breaks count."""
    if not text:
        return mark_safe("")
    if "<" not in text and "&" not in text:
        return mark_safe(linebreaks(escape(text)))
    clean = sanitise(text)
    if not BLOCK.search(clean):  # inline formatting only: its line breaks still count
        clean = linebreaks(clean, autoescape=False)
    return mark_safe(clean)


def render_plain(text: str) -> str:
    """The same text for a plain-text email: no tags, no entities."""
    return html.unescape(strip_tags(str(render(text)))).strip()
