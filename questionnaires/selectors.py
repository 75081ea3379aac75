"""Reads of the instrument."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .definition_format import QuestionnaireDocument
from .engine.definition import Breakdown, ChoiceDef, Definition, DomainDef, QuestionDef, QuestionType
from .models import Choice, Domain, Question, Questionnaire


def questionnaire_definition(questionnaire: Questionnaire) -> Definition:
    """The engine's view of a questionnaire, built once per revision and kept in this process.

    A launched questionnaire changes rarely (wording fixes bump its revision), so respondent pages
    pay for these three queries once per process, not once per page.
    """
    return _definition_cached(questionnaire.pk, questionnaire.revision, questionnaire.created_at)


@lru_cache(maxsize=64)
def _definition_cached(questionnaire_id: int, revision: int, created_at) -> Definition:
    return _definition_build(Questionnaire.objects.get(pk=questionnaire_id))


def question_ids(questionnaire: Questionnaire) -> dict[str, int]:
    """Question code to database id, cached like the definition."""
    return _question_ids_cached(questionnaire.pk, questionnaire.revision, questionnaire.created_at)


@lru_cache(maxsize=64)
def _question_ids_cached(questionnaire_id: int, revision: int, created_at) -> dict[str, int]:
    return dict(Question.objects.filter(questionnaire_id=questionnaire_id).values_list("code", "pk"))


def _definition_build(questionnaire: Questionnaire) -> Definition:
    return instrument_rows(questionnaire).definition


@dataclass
class InstrumentRows:
    """A questionnaire's domains, questions and choices as rows (three queries), with the engine's
    definition built from the same rows: the authoring pages show both without reading twice."""

    questionnaire: Questionnaire
    domains: list[Domain]
    questions_of: dict[int, list[Question]]  # by domain id, in order
    options_of: dict[int, list[Choice]]  # by question id, in order
    items_of: dict[int, list[Choice]]
    definition: Definition

    @property
    def questions(self) -> list[Question]:
        return [question for domain in self.domains for question in self.questions_of.get(domain.pk, [])]


def instrument_rows(questionnaire: Questionnaire) -> InstrumentRows:
    domains = list(Domain.objects.filter(questionnaire=questionnaire).order_by("position", "id"))
    questions = list(Question.objects.filter(questionnaire=questionnaire).order_by("position", "id"))
    choices = list(Choice.objects.filter(question__questionnaire=questionnaire).order_by("position", "id"))

    options_of: dict[int, list[Choice]] = {}
    items_of: dict[int, list[Choice]] = {}
    for choice in choices:
        target = options_of if choice.kind == Choice.Kind.OPTION else items_of
        target.setdefault(choice.question_id, []).append(choice)
    questions_of: dict[int, list[Question]] = {}
    for question in questions:
        questions_of.setdefault(question.domain_id, []).append(question)

    def choice_defs(rows: list[Choice]) -> tuple[ChoiceDef, ...]:
        return tuple(
            ChoiceDef(code=choice.code, label=choice.label, value=choice.value, is_other=choice.is_other)
            for choice in rows
        )

    definition = Definition(
        slug=questionnaire.slug,
        languages=tuple(questionnaire.languages),
        title=questionnaire.title,
        domains=tuple(
            DomainDef(
                code=domain.code,
                title=domain.title,
                description=domain.description or {},
                condition=domain.condition,
                questions=tuple(
                    QuestionDef(
                        code=question.code,
                        type=QuestionType(question.type),
                        text=question.text,
                        help=question.help or {},
                        required=question.required,
                        breakdown=Breakdown(question.breakdown) if question.breakdown else None,
                        condition=question.condition,
                        options=choice_defs(options_of.get(question.pk, [])),
                        items=choice_defs(items_of.get(question.pk, [])),
                        min_value=question.min_value.normalize() if question.min_value is not None else None,
                        max_value=question.max_value.normalize() if question.max_value is not None else None,
                        integer_only=question.integer_only,
                        max_length=question.max_length,
                        min_choices=question.min_choices,
                        max_choices=question.max_choices,
                    )
                    for question in questions_of.get(domain.pk, [])
                ),
            )
            for domain in domains
        ),
    )
    return InstrumentRows(questionnaire, domains, questions_of, options_of, items_of, definition)


def questionnaire_document(questionnaire: Questionnaire) -> QuestionnaireDocument:
    """The questionnaire as its definition file describes it."""
    return QuestionnaireDocument(
        definition=_definition_build(questionnaire),
        organisation=questionnaire.organisation,
        introduction=questionnaire.introduction,
        consent_text=questionnaire.consent_text,
        consent_version=questionnaire.consent_version,
        opens_at=questionnaire.opens_at,
        closes_at=questionnaire.closes_at,
        time_zone=questionnaire.time_zone,
        nomination_quota=questionnaire.nomination_quota,
        reminders=questionnaire.reminder_policy,
    )
