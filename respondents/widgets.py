"""HTML for each question of a respondent page, built in Python.

Respondent pages are the hottest path of the platform: the template engine spent more time walking
per-option tags than the rest of the request took. Every text goes through `escape`; the markup is
the same accessible structure (fieldset, legend, labels, described-by) the templates had.
"""

from __future__ import annotations

import html
from functools import lru_cache

from django.forms import BaseFormSet, BoundField, Select
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consultation.richtext import render as richtext

from .forms import PlainChoices, peer_formset
from .presenters import QuestionView, country_choices

CHOICE_TYPES = {"single_choice", "likert", "yes_no_dk"}


def escape(value: object) -> str:
    """Django's `escape` without its check for lazy text (a page escapes about a hundred strings):
    the same characters become the same entities."""
    return html.escape(str(value))


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


# --- The colleagues' rows on the thank-you page ----------------------------------------------------
# Walked through template tags, these fieldsets (and a select of 250 countries in each) took longer
# than the rest of the page.


@lru_cache(maxsize=32)
def _options(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in choices)


def _select_options(field: BoundField) -> str:
    """The <option>s of a choice field, its current value selected."""
    choices = field.field.choices
    if isinstance(choices, PlainChoices):
        choices = choices.choices
    else:
        choices = tuple((str(value), str(label)) for value, label in choices)
    html = _options(choices)
    value = field.value()
    if value is not None:
        tag = f'<option value="{escape(value)}">'
        html = html.replace(tag, f'<option value="{escape(value)}" selected>', 1)
    return html


def _field(field: BoundField) -> str:
    field_id = escape(field.id_for_label)
    errors = field.errors
    invalid = " is-invalid" if errors else ""
    described = f' aria-describedby="{field_id}-error"' if errors else ""
    note = ""
    if field.name == "email":
        required = _("required for a suggestion")  # outside the f-string, where makemessages finds it
        note = f' <span class="text-body-secondary">({escape(required)})</span>'
    label = f'<label class="form-label" for="{field_id}">{escape(field.label)}{note}</label>'
    parts = [f'<div class="col-md-6">{label}']
    if errors:
        message = escape(" ".join(errors))
        parts.append(f'<p class="invalid-feedback d-block" id="{field_id}-error">{message}</p>')
    name = escape(field.html_name)
    if isinstance(field.field.widget, Select):
        parts.append(
            f'<select name="{name}" id="{field_id}" class="form-select{invalid}"{described}>'
            f"{_select_options(field)}</select>"
        )
    else:
        value = field.value()
        email = ' autocomplete="off" inputmode="email"' if field.name == "email" else ""
        parts.append(
            f'<input type="{field.field.widget.input_type}" name="{name}" id="{field_id}"'
            f' value="{escape("" if value is None else value)}" class="form-control{invalid}"'
            f' maxlength="{field.field.max_length}"{email}{described}>'
        )
    parts.append("</div>")
    return "".join(parts)


def peer_fieldsets(formset: BaseFormSet) -> SafeString:
    """The formset's hidden management fields, then one fieldset per colleague."""
    parts = [
        f'<input type="hidden" name="{escape(field.html_name)}" value="{escape(field.value())}"'
        f' id="{escape(field.auto_id)}">'
        for field in formset.management_form
    ]
    for number, form in enumerate(formset, start=1):
        legend = _("Colleague %(number)s") % {"number": number}
        parts.append(
            '<fieldset class="border rounded p-3 mb-3">'
            f'<legend class="h6 float-none w-auto px-1">{escape(legend)}</legend><div class="row g-2">'
        )
        parts.extend(_field(field) for field in form if field.name != "may_name_nominator")
        consent = form["may_name_nominator"]
        consent_id = escape(consent.id_for_label)
        checked = " checked" if consent.value() else ""
        parts.append(
            '<div class="col-12 form-check ms-2">'
            f'<input type="checkbox" class="form-check-input" name="{escape(consent.html_name)}"'
            f' id="{consent_id}"{checked}>'
            f'<label class="form-check-label" for="{consent_id}">{escape(consent.label)}</label>'
            "</div></div></fieldset>"
        )
    return mark_safe("".join(parts))


@lru_cache(maxsize=64)
def blank_peer_fieldsets(left: int, languages: tuple[tuple[str, str], ...], language: str) -> SafeString:
    """The rows as every respondent first sees them: the same for everyone with this many
    nominations left, in this language, so built once."""
    with translation.override(language):
        formset = peer_formset(
            left, languages=languages, countries=country_choices(language), default_language=language
        )
        return peer_fieldsets(formset)
