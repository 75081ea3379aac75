"""Coding open answers: researchers name themes and tag answers with them, so that "the practice
cited most often" is counted from the data. Each change is one transaction and is audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from consultation.audit import audit_record
from consultation.models import AuditEntry
from questionnaires.models import Questionnaire

from .models import Answer, Theme, ThemeTag

THEME_NAME_LIMIT = 120


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Name the theme.")
    if len(name) > THEME_NAME_LIMIT:
        raise ValidationError(f"Keep a theme's name under {THEME_NAME_LIMIT} characters.")
    return name


@transaction.atomic
def answer_tag(
    *,
    questionnaire: Questionnaire,
    question_code: str,
    answer_id: int,
    actor,
    theme_id: int | None = None,
    new_theme: str = "",
) -> ThemeTag:
    """Tag an answer of an open question with an existing theme or a new one (found by name if it
    exists). Tagging twice is once."""
    answer = Answer.objects.filter(
        pk=answer_id, response__questionnaire=questionnaire, question__code=question_code
    ).first()
    if answer is None:
        raise ValidationError("This answer is not one of this question's.")
    if theme_id is not None:
        theme = Theme.objects.filter(pk=theme_id, questionnaire=questionnaire).first()
        if theme is None:
            raise ValidationError("This theme is not one of this questionnaire's.")
    else:
        name = _clean_name(new_theme)
        theme = Theme.objects.filter(questionnaire=questionnaire, name__iexact=name).first()
        if theme is None:
            try:
                with transaction.atomic():
                    theme = Theme.objects.create(questionnaire=questionnaire, name=name)
            except IntegrityError:  # created meanwhile by a colleague
                theme = Theme.objects.get(questionnaire=questionnaire, name=name)
    tag, created = ThemeTag.objects.get_or_create(answer=answer, theme=theme, defaults={"tagged_by": actor})
    if created:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.ANSWERS_CODED,
            target=theme,
            questionnaire=questionnaire,
            detail={"tagged": answer.pk, "theme": theme.name},
        )
    return tag


@transaction.atomic
def answer_untag(*, questionnaire: Questionnaire, answer_id: int, theme_id: int, actor) -> None:
    deleted, _ = ThemeTag.objects.filter(
        answer_id=answer_id, theme_id=theme_id, theme__questionnaire=questionnaire
    ).delete()
    if deleted:
        theme = Theme.objects.get(pk=theme_id)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.ANSWERS_CODED,
            target=theme,
            questionnaire=questionnaire,
            detail={"untagged": answer_id, "theme": theme.name},
        )
