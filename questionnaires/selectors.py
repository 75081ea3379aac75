"""Reads of the instrument."""

from __future__ import annotations

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
    domains = list(Domain.objects.filter(questionnaire=questionnaire).order_by("position", "id"))
    questions = list(Question.objects.filter(questionnaire=questionnaire).order_by("position", "id"))
    choices = list(Choice.objects.filter(question__questionnaire=questionnaire).order_by("position", "id"))

    options_of: dict[int, list[ChoiceDef]] = {}
    items_of: dict[int, list[ChoiceDef]] = {}
    for choice in choices:
        target = options_of if choice.kind == Choice.Kind.OPTION else items_of
        target.setdefault(choice.question_id, []).append(
            ChoiceDef(code=choice.code, label=choice.label, value=choice.value, is_other=choice.is_other)
        )
    questions_of: dict[int, list[QuestionDef]] = {}
    for question in questions:
        questions_of.setdefault(question.domain_id, []).append(
            QuestionDef(
                code=question.code,
                type=QuestionType(question.type),
                text=question.text,
                help=question.help or {},
                required=question.required,
                breakdown=Breakdown(question.breakdown) if question.breakdown else None,
                condition=question.condition,
                options=tuple(options_of.get(question.pk, ())),
                items=tuple(items_of.get(question.pk, ())),
                min_value=question.min_value.normalize() if question.min_value is not None else None,
                max_value=question.max_value.normalize() if question.max_value is not None else None,
                integer_only=question.integer_only,
                max_length=question.max_length,
                min_choices=question.min_choices,
                max_choices=question.max_choices,
            )
        )
    return Definition(
        slug=questionnaire.slug,
        languages=tuple(questionnaire.languages),
        title=questionnaire.title,
        domains=tuple(
            DomainDef(
                code=domain.code,
                title=domain.title,
                description=domain.description or {},
                condition=domain.condition,
                questions=tuple(questions_of.get(domain.pk, ())),
            )
            for domain in domains
        ),
    )


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
