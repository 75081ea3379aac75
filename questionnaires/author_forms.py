"""Forms of the authoring pages. Texts get one field per language of the questionnaire
(`title__en`, `title__fr`); conditions are built from rows that name questions by code and text."""

from __future__ import annotations

import json
import zoneinfo
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.forms import formset_factory
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify

from .authoring import CHOICE_VALUE_LIMIT, ChoiceInput, DomainInput, QuestionInput, SettingsInput
from .definition_format import MAX_NOMINATION_QUOTA, strict_json_loads
from .engine.checks import LANGUAGE_PATTERN
from .engine.conditions import GROUP_KEYS, VALUELESS_OPS, Op
from .engine.definition import CODE_PATTERN, CODE_RULE, Breakdown, QuestionDef, QuestionType, pick_text
from .models import Questionnaire

code_field_validator = RegexValidator(CODE_PATTERN, f"Use {CODE_RULE}.")
slug_validator = RegexValidator(r"^[a-z0-9]+(-[a-z0-9]+)*$", "Use lower-case letters, digits and hyphens.")
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German", "nl": "Dutch"}
CONDITION_ROWS = 4
# Help texts are HTML in Django's forms: the tag names are escaped to be read, not run.
RICH_HELP = escape(
    "Plain text, or a little HTML: <p>, <br>, <em>, <strong>, <ul>, <ol>, <li> and <a href>; "
    "anything else is removed."
)
OP_LABELS = {
    Op.EQUALS: "is",
    Op.NOT_EQUALS: "is not",
    Op.ONE_OF: "is one of",
    Op.INCLUDES: "includes (multiple choice)",
    Op.GT: "is more than",
    Op.GTE: "is at least",
    Op.LT: "is less than",
    Op.LTE: "is at most",
    Op.ANSWERED: "is answered",
    Op.NOT_ANSWERED: "is not answered",
}


def language_label(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


class TextsMixin:
    """Adds one field per language for each translatable text and reads them back as a dict."""

    def add_texts(
        self,
        name: str,
        label: str,
        languages: list[str],
        *,
        long: bool = False,
        initial=None,
        first_required=False,
        rich=False,
    ) -> None:
        initial = initial or {}
        for index, language in enumerate(languages):
            widget = forms.Textarea(attrs={"rows": 3}) if long else forms.TextInput()
            widget.attrs["lang"] = language
            self.fields[f"{name}__{language}"] = forms.CharField(
                label=f"{label} · {language_label(language)}",
                required=first_required and index == 0,
                widget=widget,
                initial=initial.get(language, ""),
                max_length=20_000,
                strip=True,
                help_text=RICH_HELP if rich else "",
            )
        self.text_groups = [*getattr(self, "text_groups", []), (name, label, languages)]

    def texts(self, name: str) -> dict[str, str]:
        languages = next(group[2] for group in self.text_groups if group[0] == name)
        return {
            language: self.cleaned_data.get(f"{name}__{language}", "")
            for language in languages
            if self.cleaned_data.get(f"{name}__{language}")
        }

    def text_fields(self, name: str) -> list[forms.BoundField]:
        languages = next(group[2] for group in self.text_groups if group[0] == name)
        return [self[f"{name}__{language}"] for language in languages]


def parse_languages(raw: str) -> list[str]:
    languages = [part.strip().lower() for part in raw.replace(";", ",").split(",") if part.strip()]
    if not languages:
        raise forms.ValidationError("List at least one language code, such as en, fr.")
    bad = [language for language in languages if not LANGUAGE_PATTERN.match(language)]
    if bad:
        raise forms.ValidationError(f"Not a language code such as 'en' or 'fr': {', '.join(bad)}.")
    if len(set(languages)) != len(languages):
        raise forms.ValidationError("A language is listed twice.")
    return languages


# --- Creating --------------------------------------------------------------------------------


class BlankQuestionnaireForm(forms.Form):
    title = forms.CharField(max_length=300, help_text="In the first language; translate it later.")
    slug = forms.CharField(
        max_length=80,
        validators=[slug_validator],
        label="Address",
        help_text="Lower-case letters, digits and hyphens: its pages are under /q/<address>/.",
    )
    languages = forms.CharField(initial="en, fr", help_text="Language codes, the first one the default.")

    def clean_languages(self):
        return parse_languages(self.cleaned_data["languages"])


class ImportQuestionnaireForm(forms.Form):
    file = forms.FileField(
        label="Definition file (JSON)", help_text="As downloaded from another questionnaire."
    )
    slug = forms.CharField(
        max_length=80,
        required=False,
        validators=[slug_validator],
        label="Address",
        help_text="Leave empty to use the file's own.",
    )


class CopyQuestionnaireForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Questionnaire.objects.none(), label="Questionnaire to copy")
    slug = forms.CharField(max_length=80, validators=[slug_validator], label="Address of the copy")

    def __init__(self, *args, sources=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sources is not None:
            self.fields["source"].queryset = sources


def suggested_copy_slug(slug: str) -> str:
    taken = set(Questionnaire.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
    for number in range(2, 1000):
        candidate = slugify(f"{slug[:70]}-v{number}")
        if candidate not in taken:
            return candidate
    return slugify(f"{slug[:60]}-copy-{timezone.now():%Y%m%d%H%M%S}")


# --- Settings --------------------------------------------------------------------------------


class SettingsForm(TextsMixin, forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput)
    languages = forms.CharField(help_text="Language codes, the first one the default. Fixed after launch.")
    opens_at = forms.DateTimeField(
        required=False,
        label="Opens",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the questionnaire's time zone; empty: as soon as it is opened.",
    )
    closes_at = forms.DateTimeField(
        required=False,
        label="Closes",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    time_zone = forms.CharField(max_length=64, help_text="For example Europe/Paris or America/Toronto.")
    nomination_quota = forms.IntegerField(
        min_value=0,
        max_value=MAX_NOMINATION_QUOTA,
        label="Peers each respondent may nominate",
        help_text="0 turns nominations off.",
    )

    def __init__(self, *args, questionnaire: Questionnaire, fingerprint: str, **kwargs):
        self.questionnaire = questionnaire
        zone = questionnaire.zone
        initial = {
            "fingerprint": fingerprint,
            "languages": ", ".join(questionnaire.languages),
            "opens_at": questionnaire.opens_at.astimezone(zone).replace(tzinfo=None)
            if questionnaire.opens_at
            else None,
            "closes_at": questionnaire.closes_at.astimezone(zone).replace(tzinfo=None)
            if questionnaire.closes_at
            else None,
            "time_zone": questionnaire.time_zone,
            "nomination_quota": questionnaire.nomination_quota,
        }
        super().__init__(*args, initial=initial, **kwargs)
        languages = list(questionnaire.languages)
        if questionnaire.is_locked:
            self.fields["languages"].disabled = True
        self.add_texts("title", "Title", languages, initial=questionnaire.title, first_required=True)
        self.add_texts("organisation", "Who runs the study", languages, initial=questionnaire.organisation)
        self.add_texts(
            "introduction", "Introduction", languages, long=True, initial=questionnaire.introduction
        )
        self.add_texts(
            "consent_text", "Consent text", languages, long=True, initial=questionnaire.consent_text
        )

    def clean_languages(self):
        return parse_languages(self.cleaned_data["languages"])

    def clean_time_zone(self):
        zone = self.cleaned_data["time_zone"].strip()
        if zone not in zoneinfo.available_timezones():
            raise forms.ValidationError(f"{zone!r} is not a known time zone (for example Europe/Paris).")
        return zone

    def clean(self):
        cleaned = super().clean()
        for name in ("opens_at", "closes_at"):
            moment = cleaned.get(name)
            if moment is not None and not 2000 <= moment.year <= 2200:
                self.add_error(name, "Give a date between the years 2000 and 2200.")
                cleaned[name] = None
        zone_name = cleaned.get("time_zone")
        if zone_name:
            zone = zoneinfo.ZoneInfo(zone_name)
            for name in ("opens_at", "closes_at"):
                moment: datetime | None = cleaned.get(name)
                if moment is not None:
                    cleaned[name] = moment.replace(tzinfo=None).replace(tzinfo=zone)
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The closing date must come after the opening date.")
        return cleaned

    def changes(self) -> SettingsInput:
        data = self.cleaned_data
        languages = data["languages"]
        return SettingsInput(
            languages=languages,
            title=self._texts_for(languages, "title"),
            organisation=self._texts_for(languages, "organisation"),
            introduction=self._texts_for(languages, "introduction"),
            consent_text=self._texts_for(languages, "consent_text"),
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            time_zone=data["time_zone"],
            nomination_quota=data["nomination_quota"],
        )

    def _texts_for(self, languages: list[str], name: str) -> dict[str, str]:
        # A language added here gets its texts on the translations page.
        texts = self.texts(name)
        return {language: text for language, text in texts.items() if language in languages}


# --- Conditions ------------------------------------------------------------------------------


class ConditionMixin:
    """Rows "question · operator · value" joined by all/any, or the condition as JSON for nesting."""

    def add_condition_fields(self, earlier: list[QuestionDef], condition: dict | None, language: str) -> None:
        self.condition_targets = {question.code: question for question in earlier}
        question_choices = [("", "—")] + [
            (question.code, f"{question.code} — {_short(pick_text(question.text, language))}")
            for question in earlier
        ]
        self.fields["cond_match"] = forms.ChoiceField(
            label="Show when",
            choices=[("all", "all of these hold"), ("any", "any of these holds")],
            initial="all",
            required=False,
        )
        for index in range(CONDITION_ROWS):
            self.fields[f"cond_question_{index}"] = forms.ChoiceField(
                label="Question", choices=question_choices, required=False
            )
            self.fields[f"cond_op_{index}"] = forms.ChoiceField(
                label="Test", choices=[(op.value, label) for op, label in OP_LABELS.items()], required=False
            )
            self.fields[f"cond_value_{index}"] = forms.CharField(
                label="Value",
                required=False,
                max_length=500,
                help_text="A choice code; several separated by commas for 'is one of'; a number; "
                "a country code such as CA.",
            )
        self.fields["cond_json"] = forms.CharField(
            label="Or the condition as JSON (for nested groups)",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            max_length=20_000,
        )
        self._condition_initial(condition)

    def condition_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"cond_question_{i}"], self[f"cond_op_{i}"], self[f"cond_value_{i}"])
            for i in range(CONDITION_ROWS)
        ]

    def _condition_initial(self, condition: dict | None) -> None:
        if not condition:
            return
        group = next((key for key in GROUP_KEYS if key in condition), None)
        leaves = condition[group] if group else [condition]
        flat = all("question" in leaf for leaf in leaves) and len(leaves) <= CONDITION_ROWS
        if not flat:
            self.initial["cond_json"] = json.dumps(condition, ensure_ascii=False)
            return
        self.initial["cond_match"] = group or "all"
        for index, leaf in enumerate(leaves):
            self.initial[f"cond_question_{index}"] = leaf["question"]
            self.initial[f"cond_op_{index}"] = leaf["op"]
            value = leaf.get("value")
            self.initial[f"cond_value_{index}"] = (
                ", ".join(map(str, value))
                if isinstance(value, list)
                else ("" if value is None else str(value))
            )

    def clean_condition(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        raw = (data.get("cond_json") or "").strip()
        if raw:
            try:
                condition = strict_json_loads(raw)
            except json.JSONDecodeError as error:
                self.add_error("cond_json", f"Not valid JSON: {error.msg} (line {error.lineno}).")
                return None
            except ValueError as error:
                self.add_error("cond_json", str(error))
                return None
            if not isinstance(condition, dict):
                self.add_error("cond_json", "A condition is a JSON object.")
                return None
            return condition
        leaves = []
        for index in range(CONDITION_ROWS):
            code = data.get(f"cond_question_{index}")
            if not code:
                continue
            op = Op(data.get(f"cond_op_{index}") or Op.EQUALS)
            leaf: dict[str, Any] = {"question": code, "op": op.value}
            if op not in VALUELESS_OPS:
                value = self._condition_value(index, self.condition_targets[code], op)
                if value is None:
                    continue
                leaf["value"] = value
            leaves.append(leaf)
        if not leaves:
            return None
        if len(leaves) == 1:
            return leaves[0]
        return {data.get("cond_match") or "all": leaves}

    def _condition_value(self, index: int, target: QuestionDef, op: Op):
        raw = (self.cleaned_data.get(f"cond_value_{index}") or "").strip()
        field = f"cond_value_{index}"
        if not raw:
            self.add_error(field, f"'{OP_LABELS[op]}' needs a value.")
            return None
        if target.type is QuestionType.NUMBER:
            try:
                number = Decimal(raw.replace(",", "."))
            except (InvalidOperation, ValueError):
                number = None
            if number is None or not number.is_finite() or abs(number) >= Decimal(10) ** 14:
                self.add_error(field, f"{target.code} is a number question: compare it with a number.")
                return None
            return int(number) if number == number.to_integral_value() else float(number)
        if op is Op.ONE_OF:
            return [part.strip() for part in raw.split(",") if part.strip()]
        return raw


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Domains ---------------------------------------------------------------------------------


class DomainForm(ConditionMixin, TextsMixin, forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(max_length=40, validators=[code_field_validator], help_text=f"Use {CODE_RULE}.")

    def __init__(
        self, *args, languages: list[str], domain=None, earlier=(), fingerprint="", locked=False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["fingerprint"].initial = fingerprint
        if domain is not None:
            self.fields["code"].initial = domain.code
            self.fields["code"].disabled = locked
        self.add_texts(
            "title", "Title", languages, initial=domain.title if domain else None, first_required=True
        )
        self.add_texts(
            "description",
            "Description",
            languages,
            long=True,
            initial=domain.description if domain else None,
            rich=True,
        )
        self.add_condition_fields(list(earlier), domain.condition if domain else None, languages[0])

    def clean(self):
        cleaned = super().clean()
        cleaned["condition"] = self.clean_condition()
        return cleaned

    def data_input(self) -> DomainInput:
        return DomainInput(
            code=self.cleaned_data["code"],
            title=self.texts("title"),
            description=self.texts("description"),
            condition=self.cleaned_data["condition"],
        )


# --- Questions -------------------------------------------------------------------------------


class QuestionForm(ConditionMixin, TextsMixin, forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(max_length=40, validators=[code_field_validator], help_text=f"Use {CODE_RULE}.")
    type = forms.ChoiceField(choices=[(kind.value, kind.label) for kind in QuestionType])
    domain = forms.TypedChoiceField(coerce=int, label="Domain")
    required = forms.BooleanField(required=False, label="An answer is required")
    breakdown = forms.ChoiceField(
        required=False,
        label="Breakdown mark",
        choices=[("", "—")] + [(mark.value, mark.value.replace("_", " ").capitalize()) for mark in Breakdown],
        help_text="Dashboards, results and exports break figures down by the questions marked so "
        "(country: a country question; role and site type: single choice; network size: a number).",
    )
    min_value = forms.DecimalField(required=False, max_digits=20, decimal_places=6, label="Smallest number")
    max_value = forms.DecimalField(required=False, max_digits=20, decimal_places=6, label="Largest number")
    integer_only = forms.BooleanField(required=False, label="Whole numbers only")
    max_length = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, label="Longest answer (characters)"
    )
    min_choices = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Fewest options to choose"
    )
    max_choices = forms.IntegerField(
        required=False, min_value=1, max_value=100, label="Most options to choose"
    )

    def __init__(
        self,
        *args,
        languages: list[str],
        domains: list[tuple[int, str]],
        question=None,
        earlier=(),
        fingerprint="",
        locked=False,
        initial_type: str | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["fingerprint"].initial = fingerprint
        self.fields["domain"].choices = domains
        if question is not None:
            for name in (
                "code", "type", "required", "breakdown", "min_value", "max_value", "integer_only",
                "max_length", "min_choices", "max_choices",
            ):  # fmt: skip
                self.fields[name].initial = getattr(question, name)
            self.fields["domain"].initial = question.domain_id
            for name in ("code", "type", "domain"):
                self.fields[name].disabled = locked
        elif initial_type:
            self.fields["type"].initial = initial_type
        self.add_texts(
            "text",
            "Question",
            languages,
            long=True,
            initial=question.text if question else None,
            first_required=True,
        )
        self.add_texts("help", "Help", languages, initial=question.help if question else None, rich=True)
        self.add_condition_fields(list(earlier), question.condition if question else None, languages[0])

    def clean(self):
        cleaned = super().clean()
        cleaned["condition"] = self.clean_condition()
        return cleaned

    def data_input(self) -> QuestionInput:
        data = self.cleaned_data
        return QuestionInput(
            code=data["code"],
            type=data["type"],
            text=self.texts("text"),
            help=self.texts("help"),
            required=data["required"],
            breakdown=data["breakdown"] or "",
            condition=data["condition"],
            min_value=data["min_value"],
            max_value=data["max_value"],
            integer_only=data["integer_only"],
            max_length=data["max_length"],
            min_choices=data["min_choices"],
            max_choices=data["max_choices"],
            domain_id=data["domain"],
        )


class ChoiceForm(TextsMixin, forms.Form):
    """One answer option (with a value) or one item (a matrix row, a thing to rank)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(max_length=40, validators=[code_field_validator], required=False)
    value = forms.IntegerField(required=False, min_value=-CHOICE_VALUE_LIMIT, max_value=CHOICE_VALUE_LIMIT)
    is_other = forms.BooleanField(required=False, label="Other, please specify")

    def __init__(self, *args, languages: list[str], with_values: bool, locked: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_values = with_values
        self.add_texts("label", "Label", languages, initial=self.initial.get("label"))
        if not with_values:
            del self.fields["value"], self.fields["is_other"]
        for name, form_field in self.fields.items():
            if name == "id":
                continue
            css = (
                "form-check-input"
                if isinstance(form_field, forms.BooleanField)
                else "form-control form-control-sm"
            )
            form_field.widget.attrs.setdefault("class", css)
        existing = bool(self.initial.get("id"))
        if locked and existing:
            for name in ("code", "value", "is_other"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("DELETE") or self._blank(cleaned):
            return cleaned
        if not cleaned.get("code"):
            self.add_error("code", "Give each choice a code.")
        if self.with_values and cleaned.get("value") is None:
            self.add_error("value", "Give each answer option a number (what statistics packages see).")
        if not any(cleaned.get(f"label__{language}") for language in self.text_groups[0][2]):
            self.add_error(None, "Give the label in at least one language.")
        return cleaned

    def _blank(self, cleaned) -> bool:
        """A row left empty (its order number alone does not count): ignored, unless it was a choice."""
        if self.initial.get("id"):
            return False
        typed = [cleaned.get("code"), cleaned.get("value")] + [
            cleaned.get(f"label__{language}") for language in self.text_groups[0][2]
        ]
        return not any(value not in (None, "") for value in typed)

    def choice_input(self) -> ChoiceInput:
        data = self.cleaned_data
        return ChoiceInput(
            id=data.get("id") or None,
            code=data["code"],
            label=self.texts("label"),
            value=data.get("value") if self.with_values else None,
            is_other=bool(data.get("is_other")) if self.with_values else False,
        )


ChoiceFormSet = formset_factory(
    ChoiceForm, extra=2, can_order=True, can_delete=True, max_num=200, absolute_max=300
)


def choice_formset(*, prefix, data, choices, languages, with_values, locked):
    initial = [
        {
            "id": c.pk,
            "code": c.code,
            "value": c.value,
            "is_other": c.is_other,
            "label": c.label,
            "ORDER": i + 1,
        }
        for i, c in enumerate(choices)
    ]
    formset = ChoiceFormSet(
        data,
        prefix=prefix,
        initial=initial,
        form_kwargs={"languages": languages, "with_values": with_values, "locked": locked},
    )
    return formset


def formset_inputs(formset) -> list[ChoiceInput]:
    """The kept rows in their new order (rows without an order number keep their place, at the end)."""
    rows = [form for form in formset.forms if form.has_changed() or form.initial.get("id")]
    kept = [form for form in rows if not form.cleaned_data.get("DELETE") and form.cleaned_data.get("code")]
    ordered = sorted(
        enumerate(kept),
        key=lambda pair: (
            pair[1].cleaned_data.get("ORDER") is None,
            pair[1].cleaned_data.get("ORDER") or 0,
            pair[0],
        ),
    )
    return [form.choice_input() for _, form in ordered]
