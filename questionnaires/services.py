"""Writes to the instrument: import, status changes, members. Each one is a transaction and is audited."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries

from consultation.audit import audit_record
from consultation.models import AuditEntry

from .definition_format import (
    DefinitionError,
    QuestionnaireDocument,
    ReminderPolicy,
    canonical_condition,
    parse_document,
    strict_json_loads,
)
from .engine.checks import Problem, definition_problems
from .models import Choice, ConsentVersion, Domain, Membership, Question, Questionnaire
from .selectors import questionnaire_definition

Status = Questionnaire.Status

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.OPEN},
    Status.OPEN: {Status.CLOSED},
    Status.CLOSED: {Status.OPEN},
}


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries)


def document_parse_and_check(raw: str | bytes | Any) -> QuestionnaireDocument:
    """Decode, read and check a definition file; raises DefinitionError naming every problem."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DefinitionError(
                [Problem("$", f"the file is not UTF-8 text (byte {error.start})")]
            ) from None
    if isinstance(raw, str):
        try:
            raw = strict_json_loads(raw)
        except json.JSONDecodeError as error:
            raise DefinitionError(
                [Problem("$", f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}")]
            ) from None
        except ValueError as error:
            raise DefinitionError([Problem("$", str(error))]) from None
    document = parse_document(raw)
    problems = definition_problems(document.definition, countries=country_codes())
    if problems:
        raise DefinitionError(problems)
    return document


@transaction.atomic
def questionnaire_import(*, raw: str | bytes | Any, actor=None, slug: str | None = None) -> Questionnaire:
    """Create a draft questionnaire from a definition file, all or nothing."""
    document = document_parse_and_check(raw)
    return questionnaire_create_from_document(document=document, actor=actor, slug=slug)


@transaction.atomic
def questionnaire_create_from_document(
    *,
    document: QuestionnaireDocument,
    actor=None,
    slug: str | None = None,
    action: str = AuditEntry.Action.QUESTIONNAIRE_IMPORTED,
    detail: dict[str, Any] | None = None,
) -> Questionnaire:
    """Write a read definition as a new draft. The importer checks the file first; a copy of a draft
    keeps its unfinished parts (the validation panel lists them)."""
    definition = document.definition
    slug = slug or definition.slug
    if Questionnaire.objects.filter(slug=slug).exists():
        raise DefinitionError([Problem("$.slug", f"a questionnaire with the slug {slug!r} already exists")])

    questionnaire = Questionnaire(
        slug=slug,
        languages=list(definition.languages),
        title=dict(definition.title),
        organisation=dict(document.organisation),
        introduction=dict(document.introduction),
        consent_text=dict(document.consent_text),
        consent_version=document.consent_version,
        opens_at=document.opens_at,
        closes_at=document.closes_at,
        time_zone=document.time_zone,
        nomination_quota=document.nomination_quota,
    )
    questionnaire.set_reminder_policy(document.reminders)
    try:
        questionnaire.full_clean()
    except ValidationError as error:
        raise DefinitionError(
            [
                Problem(f"$.{field}", message)
                for field, messages in error.message_dict.items()
                for message in messages
            ]
        ) from None
    questionnaire.save()
    ConsentVersion.objects.create(
        questionnaire=questionnaire, version=document.consent_version, text=questionnaire.consent_text
    )

    domains = Domain.objects.bulk_create(
        Domain(
            questionnaire=questionnaire,
            code=domain.code,
            position=position,
            title=dict(domain.title),
            description=dict(domain.description),
            condition=canonical_condition(domain.condition) if domain.condition else None,
        )
        for position, domain in enumerate(definition.domains)
    )
    question_rows = []
    for domain_row, domain in zip(domains, definition.domains, strict=True):
        for position, question in enumerate(domain.questions):
            question_rows.append(
                Question(
                    questionnaire=questionnaire,
                    domain=domain_row,
                    code=question.code,
                    position=position,
                    type=question.type.value,
                    text=dict(question.text),
                    help=dict(question.help),
                    required=question.required,
                    breakdown=question.breakdown.value if question.breakdown else "",
                    condition=canonical_condition(question.condition) if question.condition else None,
                    min_value=question.min_value,
                    max_value=question.max_value,
                    integer_only=question.integer_only,
                    max_length=question.max_length,
                    min_choices=question.min_choices,
                    max_choices=question.max_choices,
                )
            )
    questions = Question.objects.bulk_create(question_rows)
    choice_rows = []
    for question_row, question in zip(questions, definition.questions, strict=True):
        for kind, entries in ((Choice.Kind.OPTION, question.options), (Choice.Kind.ITEM, question.items)):
            choice_rows.extend(
                Choice(
                    question=question_row,
                    kind=kind,
                    code=entry.code,
                    position=position,
                    label=dict(entry.label),
                    value=entry.value,
                    is_other=entry.is_other,
                )
                for position, entry in enumerate(entries)
            )
    Choice.objects.bulk_create(choice_rows)

    audit_record(
        actor=actor,
        action=action,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={
            "domains": len(domains),
            "questions": len(questions),
            "choices": len(choice_rows),
            **(detail or {}),
        },
    )
    if actor is not None and actor.is_authenticated:
        membership_set(questionnaire=questionnaire, user=actor, role=Membership.Role.OWNER, actor=actor)
    return questionnaire


def questionnaire_definition_changed(*, questionnaire: Questionnaire) -> None:
    """Call after any edit of domains, questions or choices: cached definitions are keyed by revision."""
    Questionnaire.objects.filter(pk=questionnaire.pk).update(revision=F("revision") + 1)
    questionnaire.refresh_from_db(fields=["revision"])


def questionnaire_open_problems(questionnaire: Questionnaire, definition=None) -> list[Problem]:
    """What stops a questionnaire from opening: the definition's problems and its schedule."""
    definition = definition or questionnaire_definition(questionnaire)
    problems = definition_problems(definition, countries=country_codes())
    for field in ("title", "consent_text", "introduction"):
        texts = getattr(questionnaire, field)
        if field == "title" or any(texts.values()):
            for language in questionnaire.languages:
                if not (texts.get(language) or "").strip():
                    problems.append(Problem(f"$.{field}.{language}", f"missing translation ({language})"))
    if questionnaire.closes_at and questionnaire.closes_at <= timezone.now():
        problems.append(Problem("$.schedule.closes_at", "the closing date has passed: extend it first"))
    return problems


@transaction.atomic
def questionnaire_set_status(*, questionnaire: Questionnaire, status: str, actor) -> Questionnaire:
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    previous = questionnaire.status
    if status == previous:
        return questionnaire
    if status not in ALLOWED_TRANSITIONS.get(previous, set()):
        raise ValidationError(f"A {previous} questionnaire cannot become {status}.")
    if status == Status.OPEN and questionnaire.personal_data_purged_at is not None:
        raise ValidationError(
            "Its invitees' names and addresses were purged, so it cannot reopen: duplicate it as a new draft."
        )
    if status == Status.OPEN:
        problems = questionnaire_open_problems(questionnaire)
        if problems:
            raise ValidationError([f"{problem.path}: {problem.message}" for problem in problems])
    questionnaire.status = status
    questionnaire.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUESTIONNAIRE_STATUS_CHANGED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"from": previous, "to": status},
    )
    return questionnaire


@transaction.atomic
def questionnaire_set_schedule(
    *,
    questionnaire: Questionnaire,
    opens_at: datetime | None,
    closes_at: datetime | None,
    time_zone: str,
    actor,
) -> Questionnaire:
    """Change the dates (extending the closing date of an open questionnaire is allowed)."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    before = {
        "opens_at": questionnaire.opens_at,
        "closes_at": questionnaire.closes_at,
        "time_zone": questionnaire.time_zone,
    }
    questionnaire.opens_at, questionnaire.closes_at, questionnaire.time_zone = opens_at, closes_at, time_zone
    questionnaire.full_clean()
    questionnaire.save(update_fields=["opens_at", "closes_at", "time_zone", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUESTIONNAIRE_EDITED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"schedule": {key: str(value) if value else None for key, value in before.items()}},
    )
    return questionnaire


@transaction.atomic
def questionnaire_set_reminder_policy(
    *, questionnaire: Questionnaire, policy: ReminderPolicy, actor
) -> Questionnaire:
    """Change when reminders go out. Raises ValueError naming each rule the policy breaks."""
    problems = policy.problems()
    if problems:
        raise ValueError("; ".join(f"{key}: {message}" for key, message in problems))
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    before = questionnaire.reminder_policy
    questionnaire.set_reminder_policy(policy)
    questionnaire.save(
        update_fields=[
            "reminder_days", "reminder_limit", "closing_reminder_days", "mail_hours", "mail_weekdays",
            "updated_at",
        ]
    )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUESTIONNAIRE_EDITED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"reminders": {"before": asdict(before), "after": asdict(policy)}},
    )
    return questionnaire


@transaction.atomic
def questionnaire_set_consent_text(
    *, questionnaire: Questionnaire, text: dict[str, str], actor
) -> Questionnaire:
    """A new consent text gets a new version number; earlier versions stay, since consents name them."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if text == questionnaire.consent_text:
        return questionnaire
    questionnaire.consent_version += 1
    questionnaire.consent_text = text
    questionnaire.save(update_fields=["consent_text", "consent_version", "updated_at"])
    ConsentVersion.objects.create(
        questionnaire=questionnaire, version=questionnaire.consent_version, text=text
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUESTIONNAIRE_EDITED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"consent_version": questionnaire.consent_version},
    )
    return questionnaire


@transaction.atomic
def membership_set(
    *, questionnaire: Questionnaire, user, role: str, can_view_personal_data: bool = False, actor
) -> Membership:
    """Add a member or change their role."""
    membership = Membership.objects.select_for_update().filter(questionnaire=questionnaire, user=user).first()
    if membership is None:
        membership = Membership(questionnaire=questionnaire, user=user)
        action, before = AuditEntry.Action.MEMBER_ADDED, None
    else:
        action, before = (
            AuditEntry.Action.MEMBER_CHANGED,
            {
                "role": membership.role,
                "can_view_personal_data": membership.can_view_personal_data,
            },
        )
        if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
            _keep_one_owner(questionnaire, leaving=membership)
    membership.role = role
    membership.can_view_personal_data = can_view_personal_data
    membership.full_clean(exclude=["questionnaire", "user"])
    membership.save()
    audit_record(
        actor=actor,
        action=action,
        target=membership,
        questionnaire=questionnaire,
        detail={
            "user": user.get_username(),
            "role": role,
            "can_view_personal_data": can_view_personal_data,
            "before": before,
        },
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor) -> None:
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("questionnaire", "user")
        .get(pk=membership.pk)
    )
    if membership.role == Membership.Role.OWNER:
        _keep_one_owner(membership.questionnaire, leaving=membership)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.MEMBER_REMOVED,
        target=membership,
        questionnaire=membership.questionnaire,
        detail={"user": membership.user.get_username(), "role": membership.role},
    )
    membership.delete()


def _keep_one_owner(questionnaire: Questionnaire, *, leaving: Membership) -> None:
    others = (
        Membership.objects.select_for_update()
        .filter(questionnaire=questionnaire, role=Membership.Role.OWNER)
        .exclude(pk=leaving.pk)
    )
    if not others.exists():
        raise ValidationError("A questionnaire keeps at least one owner: name another owner first.")
