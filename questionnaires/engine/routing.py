"""Which domains and questions a respondent sees, and where they are, from their answers alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conditions import evaluate, is_answered
from .definition import Definition, DomainDef, QuestionDef


class EffectiveAnswers(dict):
    """Answers already reduced to those that count, under the definition they were reduced with.
    Reducing them again gives them back as they are, so a page's several questions about the
    same answers (which domains show, where to resume, which questions are missing) pay once."""

    __slots__ = ("definition",)


def effective_answers(definition: Definition, answers: Mapping[str, Any]) -> EffectiveAnswers:
    """The answers that count: those to questions the respondent can see.

    Conditions only look at earlier questions, so one pass in order settles every visibility, and an
    answer left behind on a question that has since become hidden counts as unanswered downstream.
    """
    if isinstance(answers, EffectiveAnswers) and answers.definition is definition:
        return answers
    kept = EffectiveAnswers()
    kept.definition = definition
    for domain in definition.domains:
        if domain.condition and not evaluate(domain.condition, kept):
            continue
        for question in domain.questions:
            code = question.code
            # Most questions have no condition: this runs on every respondent's page.
            if code in answers and (not question.condition or evaluate(question.condition, kept)):
                kept[code] = answers[code]
                other_key = other_text_key(code)
                if other_key in answers:
                    kept[other_key] = answers[other_key]
    return kept


def other_text_key(question_code: str) -> str:
    """Where the text of "Other (please specify)" lives among the answers; codes never contain a dot."""
    return f"{question_code}.other"


def visible_domains(definition: Definition, answers: Mapping[str, Any]) -> list[DomainDef]:
    effective = effective_answers(definition, answers)
    return [domain for domain in definition.domains if evaluate(domain.condition, effective)]


def visible_questions(
    definition: Definition, domain: DomainDef, answers: Mapping[str, Any]
) -> list[QuestionDef]:
    return _visible_questions(domain, effective_answers(definition, answers))


def missing_required(
    definition: Definition, domain: DomainDef, answers: Mapping[str, Any]
) -> list[QuestionDef]:
    """Visible required questions of the domain still without an answer (hidden ones are never required)."""
    return _missing_required(domain, effective_answers(definition, answers))


def first_unfinished_domain(
    definition: Definition, answers: Mapping[str, Any], completed_domains: set[str]
) -> DomainDef | None:
    """Where a returning respondent resumes: the first visible domain not yet saved complete."""
    effective = effective_answers(definition, answers)  # once, not once per domain
    for domain in definition.domains:
        if not evaluate(domain.condition, effective):
            continue
        if domain.code not in completed_domains or _missing_required(domain, effective):
            return domain
    return None


def _visible_questions(domain: DomainDef, effective: Mapping[str, Any]) -> list[QuestionDef]:
    if not evaluate(domain.condition, effective):
        return []
    return [question for question in domain.questions if evaluate(question.condition, effective)]


def _missing_required(domain: DomainDef, effective: Mapping[str, Any]) -> list[QuestionDef]:
    return [
        question
        for question in _visible_questions(domain, effective)
        if question.required and not is_answered(effective.get(question.code))
    ]
