from django import template

from consultation.richtext import render, render_plain

register = template.Library()


@register.filter
def richtext(text: str):
    """Researcher-written text with its small formatting subset, sanitised (consultation/richtext.py)."""
    return render(text or "")


@register.filter
def richtext_plain(text: str) -> str:
    """The same text for plain-text email: no tags, no entities."""
    return render_plain(text or "")
