"""Plain HTML for the colleagues' forms on the thank-you page, built in Python like the questions
(respondents/widgets.py): walked through template tags, the fieldsets, and a select of 250
countries in each, took longer than the rest of the page. Every text goes through `escape`."""

from functools import lru_cache

from django import template
from django.forms import BaseFormSet, BoundField, Select
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from respondents.forms import PlainChoices

register = template.Library()


@lru_cache(maxsize=32)
def _options(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in choices)


def select_options(field: BoundField) -> str:
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
        note = f' <span class="text-body-secondary">({escape(_("required for a suggestion"))})</span>'
    label = f'<label class="form-label" for="{field_id}">{escape(field.label)}{note}</label>'
    parts = [f'<div class="col-md-6">{label}']
    if errors:
        message = escape(" ".join(errors))
        parts.append(f'<p class="invalid-feedback d-block" id="{field_id}-error">{message}</p>')
    name = escape(field.html_name)
    if isinstance(field.field.widget, Select):
        parts.append(
            f'<select name="{name}" id="{field_id}" class="form-select{invalid}"{described}>'
            f"{select_options(field)}</select>"
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


@register.simple_tag
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
