"""HTML for each question of a respondent page, built in Python.

Respondent pages are the hottest path of the platform: the template engine spent more time walking
per-option tags than the rest of the request took. Every text goes through `escape`; the markup is
the same accessible structure (fieldset, legend, labels, described-by) the templates had.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consultation.richtext import render as richtext

from .presenters import QuestionView, country_choices

CHOICE_TYPES = {"single_choice", "likert", "yes_no_dk"}


def _described_by(view: QuestionView) -> str:
    ids = []
    if view.help:
        ids.append(f"h-{view.code}")
    if view.error:
        ids.append(f"e-{view.code}")
    return f' aria-describedby="{" ".join(ids)}"' if ids else ""


def render_question(view: QuestionView) -> SafeString:
    code = escape(view.code)
    hidden = "" if view.visible else " hidden"
    error_class = ' class="has-error"' if view.error else ""
    parts = [
        f'<div class="question mb-4" id="q-{code}" data-code="{code}"{hidden}>',
        f"<fieldset{error_class}>",
        f'<legend id="l-{code}" class="question-text">{escape(view.text)}',
    ]
    if view.required:
        required = _("required")
        parts.append(f' <span class="required">({escape(required)})</span>')
    parts.append("</legend>")
    if view.help:
        parts.append(f'<div class="form-text rich-text" id="h-{code}">{richtext(view.help)}</div>')
    if view.error:
        prefix = _("Error:")
        parts.append(
            f'<p class="error-message" id="e-{code}"><span class="visually-hidden">{escape(prefix)} </span>'
            f"{escape(view.error)}</p>"
        )
    parts.append(_WIDGETS[view.type](view))
    parts.append("</fieldset></div>")
    return mark_safe("".join(parts))


def _choices(view: QuestionView, input_type: str) -> str:
    code, described = escape(view.code), _described_by(view)
    scale = " choices-scale" if view.type == "likert" else ""
    rows = [f'<div class="choices{scale}">']
    for index, option in enumerate(view.options):
        field_id = f"id_{code}_{index}"
        rows.append(
            f'<div class="form-check"><input class="form-check-input" type="{input_type}" name="{code}" '
            f'id="{field_id}" value="{escape(option.code)}"{" checked" if option.checked else ""}{described}>'
            f'<label class="form-check-label" for="{field_id}">{escape(option.label)}</label></div>'
        )
    rows.append("</div>")
    if view.other_code:
        specify = _("If other, please specify")
        rows.append(
            f'<div class="other-text mt-2"><label class="form-label" for="id_{code}.other">'
            f'{escape(specify)}</label><input class="form-control" type="text" '
            f'name="{code}.other" id="id_{code}.other" value="{escape(view.other_text)}" maxlength="500"></div>'
        )
    return "".join(rows)


def _single(view: QuestionView) -> str:
    return _choices(view, "radio")


def _multiple(view: QuestionView) -> str:
    return _choices(view, "checkbox")


def _short_text(view: QuestionView) -> str:
    code = escape(view.code)
    return (
        f'<input class="form-control" type="text" name="{code}" id="id_{code}" value="{escape(view.text_value)}" '
        f'maxlength="{view.max_length}" aria-labelledby="l-{code}"{_described_by(view)}>'
    )


def _long_text(view: QuestionView) -> str:
    code = escape(view.code)
    return (
        f'<textarea class="form-control" name="{code}" id="id_{code}" rows="5" maxlength="{view.max_length}" '
        f'aria-labelledby="l-{code}"{_described_by(view)}>{escape(view.text_value)}</textarea>'
    )


def _number(view: QuestionView) -> str:
    code = escape(view.code)
    mode = "numeric" if view.integer_only else "decimal"
    html = (
        f'<input class="form-control number-input" type="text" inputmode="{mode}" name="{code}" id="id_{code}" '
        f'value="{escape(view.text_value)}" aria-labelledby="l-{code}"{_described_by(view)}>'
    )
    if view.min_value is not None and view.max_value is not None:
        text = _("A number from %(low)s to %(high)s.") % {"low": view.min_value, "high": view.max_value}
        html += f'<p class="form-text">{escape(text)}</p>'
    return html


@lru_cache(maxsize=16)
def _country_options(language: str) -> str:
    """The 250 options, built once per language; the chosen one is marked per page."""
    return "".join(
        f'<option value="{code}">{escape(name)}</option>' for code, name in country_choices(language)
    )


def _country(view: QuestionView) -> str:
    code = escape(view.code)
    options = _country_options(translation.get_language())
    chosen = next((option.code for option in view.options if option.checked), "")
    if chosen:
        options = options.replace(f'<option value="{chosen}">', f'<option value="{chosen}" selected>', 1)
    prompt = _("Choose a country")
    return (
        f'<select class="form-select" name="{code}" id="id_{code}" aria-labelledby="l-{code}"{_described_by(view)}>'
        f'<option value="">{escape(prompt)}</option>{options}</select>'
    )


def _ranking(view: QuestionView) -> str:
    described = _described_by(view)
    hint, rank_label = _("Give each item a different rank, 1 being the first."), _("Rank")
    rows = [
        f'<p class="form-text">{escape(hint)}</p>',
        '<div class="ranking">',
    ]
    for item in view.items:
        name = escape(item.field_name)
        ranks = "".join(
            f'<option value="{rank}"{" selected" if item.selected == str(rank) else ""}>{rank}</option>'
            for rank in view.ranks
        )
        rows.append(
            f'<div class="ranking-item d-flex align-items-center gap-2 mb-2">'
            f'<select class="form-select rank-select" name="{name}" id="id_{name}"{described}>'
            f'<option value="">{escape(rank_label)}</option>{ranks}</select>'
            f'<label for="id_{name}">{escape(item.label)}</label></div>'
        )
    rows.append("</div>")
    return "".join(rows)


def _matrix(view: QuestionView) -> str:
    described = _described_by(view)
    rows = ['<div class="matrix">']
    for item in view.items:
        name = escape(item.field_name)
        rows.append(
            f'<fieldset class="matrix-row"><legend class="matrix-item">{escape(item.label)}</legend>'
            '<div class="matrix-choices">'
        )
        for index, option in enumerate(view.options):
            field_id = f"id_{name}" if index == 0 else f"id_{name}_{index}"
            checked = " checked" if item.selected == option.code else ""
            rows.append(
                f'<div class="form-check form-check-inline"><input class="form-check-input" type="radio" '
                f'name="{name}" id="{field_id}" value="{escape(option.code)}"{checked}{described}>'
                f'<label class="form-check-label" for="{field_id}">{escape(option.label)}</label></div>'
            )
        rows.append("</div></fieldset>")
    rows.append("</div>")
    return "".join(rows)


_WIDGETS = {
    "single_choice": _single,
    "likert": _single,
    "yes_no_dk": _single,
    "multiple_choice": _multiple,
    "short_text": _short_text,
    "long_text": _long_text,
    "number": _number,
    "country": _country,
    "ranking": _ranking,
    "matrix": _matrix,
}
