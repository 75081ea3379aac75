from django import template

from consultation.richtext import render

register = template.Library()


@register.filter
def richtext(text: str):
    """Researcher-written text with its small formatting subset, sanitised (consultation/richtext.py)."""
    return render(text or "")
