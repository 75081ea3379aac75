"""What a respondent page shows for each question: texts in the chosen language, offered choices,
what is checked or typed, the error. Plain data for plain templates (no form rendering library:
respondent pages stay fast)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import ngettext
from django_countries import countries

from questionnaires.engine.answers import submitted_for
from questionnaires.engine.conditions import evaluate, referenced_questions
from questionnaires.engine.definition import Definition, DomainDef, QuestionDef, QuestionType, pick_text
from questionnaires.engine.routing import effective_answers, other_text_key


@dataclass
class OptionView:
    code: str
    label: str
    checked: bool = False
    is_other: bool = False


@dataclass
class ItemView:
    code: str
    label: str
    field_name: str
    selected: str = ""  # the chosen scale code (matrix) or rank (ranking)


@dataclass
class QuestionView:
    code: str
    type: str
    text: str
    help: str
    required: bool
    visible: bool
    error: str = ""
    options: list[OptionView] = field(default_factory=list)
    items: list[ItemView] = field(default_factory=list)
    ranks: list[int] = field(default_factory=list)
    text_value: str = ""
    other_text: str = ""
    other_code: str = ""
    max_length: int | None = None
    min_value: Any = None
    max_value: Any = None
    integer_only: bool = False
    rendered: str = ""  # the HTML, where it was rendered once for many pages (an unanswered question)

    @property
    def field_id(self) -> str:
        """The id of the first input, where the error summary's link lands."""
        if self.type in ("ranking", "matrix"):
            return f"id_{self.items[0].field_name}" if self.items else f"id_{self.code}"
        if self.type in ("single_choice", "multiple_choice", "likert", "yes_no_dk"):
            return f"id_{self.code}_0"
        return f"id_{self.code}"

    @property
    def html(self):
        from .widgets import render_question

        return self.rendered or render_question(self)


def _texts(texts: Mapping[str, str], language: str, definition: Definition) -> str:
    return pick_text(texts, language, definition.languages)


@lru_cache(maxsize=16)
def country_names(language: str) -> dict[str, str]:
    """Country code to its name in `language`."""
    return dict(country_choices(language))


def country_name(code: str, language: str) -> str:
    """The country's name in `language`, or the code itself if it names none."""
    return country_names(language).get(code) or code


def wave_label(wave: int) -> str:
    return "Seeds (wave 0)" if wave == 0 else f"Wave {wave}"


@lru_cache(maxsize=16)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """ISO 3166 countries, named and sorted in the respondent's language."""
    with translation.override(language):
        return tuple((code, str(name)) for code, name in countries)


def question_views(
    *,
    definition: Definition,
    domain: DomainDef,
    answers: Mapping[str, Any],
    language: str,
    submitted: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[QuestionView]:
    """Every question of the domain, each marked visible or not under the current answers.

    `submitted` (what was typed, on a page shown again with errors) wins over saved answers.
    """
    errors = errors or {}
    effective = effective_answers(definition, answers)
    # An unanswered question looks the same on every respondent's page: it is built and rendered
    # once per language (and interface language) for as long as the definition is current. Most
    # of the questions on the page a save answers with are unanswered.
    blank_views = definition.memo.setdefault("blank_question_views", {})
    interface_language = translation.get_language()
    views = []
    for question in domain.questions:
        visible = evaluate(domain.condition, effective) and evaluate(question.condition, effective)
        if submitted is None and question.code not in effective and not errors.get(question.code):
            key = (language, interface_language, question.code, visible)
            view = blank_views.get(key)
            if view is None:
                view = _question_view(definition, question, language, {}, visible=visible, error="")
                view.rendered = view.html
                blank_views[key] = view
            views.append(view)
            continue
        if submitted is not None:
            values = submitted
        else:
            values = submitted_for(
                question, effective.get(question.code), effective.get(other_text_key(question.code), "")
            )
        views.append(
            _question_view(
                definition, question, language, values, visible=visible, error=errors.get(question.code, "")
            )
        )
    return views


def _first(values: Mapping[str, Sequence[str]], name: str) -> str:
    raw = values.get(name, [])
    if isinstance(raw, str):
        return raw
    return raw[0] if raw else ""


def _all(values: Mapping[str, Sequence[str]], name: str) -> set[str]:
    raw = values.get(name, [])
    return {raw} if isinstance(raw, str) else set(raw)


def _question_view(
    definition: Definition,
    question: QuestionDef,
    language: str,
    values: Mapping[str, Sequence[str]],
    *,
    visible: bool,
    error: str,
) -> QuestionView:
    view = QuestionView(
        code=question.code,
        type=question.type.value,
        text=_texts(question.text, language, definition),
        help=_texts(question.help, language, definition) if question.help else "",
        required=question.required,
        visible=visible,
        error=error,
        max_length=question.text_limit if question.type.is_text else None,
        min_value=question.min_value,
        max_value=question.max_value,
        integer_only=question.integer_only,
    )
    chosen = _all(values, question.code)
    if question.type is QuestionType.COUNTRY:
        current = _first(values, question.code)
        view.options = [OptionView(current, current, True)] if current else []
    elif question.type is not QuestionType.MATRIX:
        view.options = [
            OptionView(
                option.code,
                _texts(option.label, language, definition),
                option.code in chosen,
                option.is_other,
            )
            for option in question.options
        ]
    if question.other_option:
        view.other_code = question.other_option.code
        view.other_text = _first(values, other_text_key(question.code))
    if question.type is QuestionType.MATRIX:
        view.options = [OptionView(o.code, _texts(o.label, language, definition)) for o in question.options]
    if question.type.has_items:
        view.items = [
            ItemView(
                item.code,
                _texts(item.label, language, definition),
                f"{question.code}.{item.code}",
                _first(values, f"{question.code}.{item.code}"),
            )
            for item in question.items
        ]
        view.ranks = list(range(1, len(question.items) + 1))
    if question.type.is_text or question.type is QuestionType.NUMBER:
        view.text_value = _first(values, question.code)
    return view


def page_conditions(definition: Definition, domain: DomainDef, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What the browser needs to show and hide follow-ups with the server's rules: each question's
    condition, and the answers from other domains that those conditions read."""
    conditions = {q.code: q.condition for q in domain.questions if q.condition}
    page_codes = {q.code for q in domain.questions}
    needed = set().union(*(referenced_questions(c) for c in conditions.values())) if conditions else set()
    effective = effective_answers(definition, answers)
    outside = {code: effective.get(code) for code in needed - page_codes}
    types = {q.code: q.type.value for q in domain.questions}
    return {
        "conditions": conditions,
        "order": [q.code for q in domain.questions],
        "types": types,
        "answers": outside,
    }


@dataclass
class AnswerLine:
    code: str
    question: str
    answer: str


def answer_lines(
    definition: Definition, domain: DomainDef, answers: Mapping[str, Any], language: str
) -> list[AnswerLine]:
    """The review page and the printable copy: each visible question with its answer in words."""
    effective = effective_answers(definition, answers)
    lines = []
    for question in domain.questions:
        if not evaluate(question.condition, effective):
            continue
        lines.append(
            AnswerLine(
                question.code,
                _texts(question.text, language, definition),
                describe_answer(definition, question, effective, language),
            )
        )
    return lines


def describe_answer(
    definition: Definition, question: QuestionDef, answers: Mapping[str, Any], language: str
) -> str:
    value = answers.get(question.code)
    if value is None:
        return "—"
    labels, item_labels = _labels(definition, question, language)
    other = answers.get(other_text_key(question.code), "")
    kind = question.type
    if kind is QuestionType.COUNTRY:
        return country_name(value, language)
    if kind.takes_one_code:
        text = labels.get(value, value)
        return f"{text}: {other}" if other else text
    if kind is QuestionType.MULTIPLE_CHOICE:
        parts = [labels.get(code, code) for code in value]
        return "; ".join(parts) + (f" ({other})" if other else "")
    if kind is QuestionType.RANKING:
        return "; ".join(f"{rank}. {item_labels.get(code, code)}" for rank, code in enumerate(value, start=1))
    if kind is QuestionType.MATRIX:
        # In the questionnaire's order of rows: PostgreSQL's jsonb keeps an object's keys in an
        # order of its own (shortest first), which would differ from the page just saved.
        rows = [item for item in item_labels if item in value] + [i for i in value if i not in item_labels]
        return "; ".join(
            f"{item_labels.get(item, item)}: {labels.get(value[item], value[item])}" for item in rows
        )
    return str(value)


def _labels(definition: Definition, question: QuestionDef, language: str) -> tuple[dict, dict]:
    """A question's option and item labels in a language, by code: worked out once per definition
    (a review lists every answer, and a thank-you page again)."""
    kept = definition.memo.setdefault("labels", {})
    key = (language, question.code)
    if key not in kept:
        kept[key] = (
            {o.code: _texts(o.label, language, definition) for o in question.options},
            {i.code: _texts(i.label, language, definition) for i in question.items},
        )
    return kept[key]


# --- Sentences worded in Python: their plurals and dates (Jinja templates only look words up) ------


def question_count_text(count: int) -> str:
    return ngettext(
        "The questionnaire has %(counter)s question, some of which appear only when they apply to you.",
        "The questionnaire has %(counter)s questions, some of which appear only when they apply to you.",
        count,
    ) % {"counter": count}


def nominations_left_text(left: int) -> str:
    return ngettext(
        "You may suggest %(counter)s more colleague. Leave a row blank to skip it.",
        "You may suggest %(counter)s more colleagues. Leave a row blank to skip it.",
        left,
    ) % {"counter": left}


def opening_time(questionnaire) -> str:
    """When the questionnaire opens, in its own time zone and the active language's format."""
    return date_format(timezone.localtime(questionnaire.opens_at, questionnaire.zone), "DATETIME_FORMAT")
