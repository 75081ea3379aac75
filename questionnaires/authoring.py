"""Editing a questionnaire's definition in the browser: each edit one transaction, audited.

Rules every edit keeps:

- The questionnaire's row is locked first, so two researchers' edits never interleave.
- A form names the state it was opened on (`fingerprint`); if the object changed since (another
  tab, a colleague), the edit is refused as `StaleEdit` and nothing is written.
- Once launched (`Questionnaire.is_locked`), what stored answers depend on is frozen: no question
  or choice is deleted, no code, type, value or domain changes, no domain is added or removed,
  and the languages stay. Wording, translations, new questions and new choices, order and
  conditions may change, but only into a definition without problems (respondents are using it).
- Before launch, unfinished work is allowed (the validation panel lists it), except a condition
  that tests a question that does not come before it: refused at once, since it could never hold.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from consultation.audit import audit_record
from consultation.models import AuditEntry
from consultation.numbers import whole_number

from .definition_format import QuestionnaireDocument, canonical_condition, document_to_json, parse_document
from .engine.checks import Problem, condition_shape_problems
from .engine.conditions import referenced_questions
from .models import Choice, Domain, Question, Questionnaire
from .selectors import InstrumentRows, instrument_rows, questionnaire_document
from .services import (
    questionnaire_create_from_document,
    questionnaire_definition_changed,
    questionnaire_open_problems,
    questionnaire_set_consent_text,
)

LOCKED_ADVICE = "Duplicate it as a new draft to make this change."
CHOICE_VALUE_LIMIT = 999_999  # what the forms accept; SPSS and R read it as a plain number
PLACEHOLDER_VALUE = (
    -1_000_000_000
)  # minus a row's position: inside a 32-bit integer, outside the forms' range


class LockedEdit(ValidationError):
    """The questionnaire is launched and this edit would orphan or change the meaning of stored answers."""


class UnknownOrder(ValidationError):
    """A new order that does not name each object exactly once (tampered, or the page is out of date)."""


class StaleEdit(ValidationError):
    """The object changed since the form was opened: nothing was written."""

    def __init__(self, what: str):
        super().__init__(
            f"{what} was changed elsewhere (another tab or a colleague) after you opened this page, "
            "so your edit was not saved. The page now shows it as it is; make your change again."
        )


# --- Fingerprints: what a form was opened on -----------------------------------------------------


def _digest(state: Any) -> str:
    encoded = json.dumps(state, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def questionnaire_fingerprint(questionnaire: Questionnaire) -> str:
    fields = (
        "slug", "languages", "title", "organisation", "introduction", "consent_text", "opens_at",
        "closes_at", "time_zone", "nomination_quota", "status",
    )  # fmt: skip
    return _digest({name: getattr(questionnaire, name) for name in fields})


def domain_fingerprint(domain: Domain) -> str:
    return _digest(
        {
            "code": domain.code,
            "title": domain.title,
            "description": domain.description,
            "condition": domain.condition,
        }
    )


def question_fingerprint(question: Question, choices: Iterable[Choice]) -> str:
    state = {
        name: getattr(question, name)
        for name in (
            "code", "domain_id", "type", "text", "help", "required", "breakdown", "condition", "min_value",
            "max_value", "integer_only", "max_length", "min_choices", "max_choices",
        )
    }  # fmt: skip
    state["choices"] = [
        [choice.pk, choice.kind, choice.code, choice.label, choice.value, choice.is_other]
        for choice in sorted(choices, key=lambda choice: (choice.kind, choice.position, choice.pk))
    ]
    return _digest(state)


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- Inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainInput:
    code: str
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChoiceInput:
    id: int | None  # None: a new choice
    code: str
    label: dict[str, str]
    value: int | None = None
    is_other: bool = False


@dataclass(frozen=True)
class QuestionInput:
    code: str
    type: str
    text: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    breakdown: str = ""
    condition: dict[str, Any] | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    integer_only: bool = False
    max_length: int | None = None
    min_choices: int | None = None
    max_choices: int | None = None
    domain_id: int | None = None  # None: stays where it is (or the domain it is created in)


# --- Helpers ---------------------------------------------------------------------------------


def _lock(questionnaire: Questionnaire) -> Questionnaire:
    return Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)


def _refuse_if_locked(questionnaire: Questionnaire, what: str) -> None:
    if questionnaire.is_locked:
        raise LockedEdit(
            f"{what}: the questionnaire is {questionnaire.status} and stored answers depend on it. "
            + LOCKED_ADVICE
        )


CONDITION_PATH = re.compile(r"^\$\.domains\[(\d+)\](?:\.questions\[(\d+)\])?\.condition")


@dataclass
class _Check:
    """The questionnaire's problems at one moment: what would stop it from opening, its texts
    included, but not its closing date (a closed questionnaire's past date is no reason to refuse a
    wording fix). Read once, three queries, and asked several ways before and after an edit."""

    rows: InstrumentRows
    problems: list[Problem]

    @classmethod
    def now(cls, questionnaire: Questionnaire) -> _Check:
        rows = instrument_rows(questionnaire)
        problems = [
            problem
            for problem in questionnaire_open_problems(questionnaire, definition=rows.definition)
            if not problem.path.startswith("$.schedule")
        ]
        return cls(rows, problems)

    @cached_property
    def conditions(self) -> set[tuple[str, str]]:
        """Each condition's problems, named by the code of the domain or question that has it
        (paths change when things move; codes do not)."""
        definition = self.rows.definition
        found = set()
        for problem in self.problems:
            match = CONDITION_PATH.match(problem.path)
            if match is None:
                continue
            domain = definition.domains[int(match.group(1))]
            owner = domain.questions[int(match.group(2))].code if match.group(2) else f"domain {domain.code}"
            found.add((owner, problem.message))
        return found

    def path_of(self, domain: Domain, question: Question | None = None) -> str:
        domain_index = next(i for i, row in enumerate(self.rows.domains) if row.pk == domain.pk)
        path = f"$.domains[{domain_index}]"
        if question is not None:
            questions = self.rows.questions_of.get(domain.pk, [])
            path += f".questions[{next(i for i, row in enumerate(questions) if row.pk == question.pk)}]"
        return path


def _refuse_what_the_edit_broke(
    questionnaire: Questionnaire,
    before: _Check | None,
    what: str,
    *,
    domain: Domain | None = None,
    question: Question | None = None,
    conditions: bool = True,
) -> None:
    """After an edit, in its transaction: refuse it (so that it rolls back) if
    - the edited domain's or question's own condition tests itself, a later question or none;
    - another condition now tests a question that comes after it, or one that is gone;
    - a launched questionnaire has a problem it did not have (respondents are answering it).
    `before` may be None for edits that cannot touch conditions on a draft."""
    if before is None:
        return
    after = _Check.now(questionnaire)
    if domain is not None:
        own = after.path_of(domain, question) + ".condition"
        mistakes = [problem.message for problem in after.problems if problem.path.startswith(own)]
        if mistakes:
            raise ValidationError({"condition": mistakes})
    if conditions:
        broken = sorted(after.conditions - before.conditions)
        if broken:
            raise ValidationError(
                [
                    f"{what} would break a display condition (it would test a question that comes after "
                    "it, or one that is gone), so nothing was saved:"
                ]
                + [f"{owner}: {message}" for owner, message in broken]
            )
    if questionnaire.is_locked:
        known = set(before.problems)
        new = [problem for problem in after.problems if problem not in known]
        if new:
            raise ValidationError(
                ["The questionnaire is open, so this edit must leave it without problems:"]
                + [f"{problem.path}: {problem.message}" for problem in new]
            )


def _refuse_malformed_condition(condition: Mapping[str, Any] | None) -> None:
    if condition is None:
        return
    problems = condition_shape_problems(condition)
    if problems:
        raise ValidationError(
            {"condition": [f"{p.path.lstrip('$.') or 'condition'}: {p.message}" for p in problems]}
        )


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: {"before": _jsonable(before.get(key)), "after": _jsonable(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _audit(questionnaire: Questionnaire, actor, target, detail: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUESTIONNAIRE_EDITED,
        target=target,
        questionnaire=questionnaire,
        detail={"launched": questionnaire.is_locked, **detail},
    )


def _texts_only(texts: Mapping[str, str], languages: Iterable[str]) -> dict[str, str]:
    """Keep the questionnaire's languages, drop empty texts: an empty translation is a missing one.
    Rich texts (introduction, consent, descriptions, help) are kept as written: they are sanitised
    whenever shown (consultation/richtext.py)."""
    return {language: texts[language] for language in languages if (texts.get(language) or "").strip()}


# --- Questionnaires --------------------------------------------------------------------------


@transaction.atomic
def questionnaire_create_blank(*, slug: str, title: str, languages: list[str], actor) -> Questionnaire:
    """A new, empty draft: its first language's title, the creator as owner."""
    from .services import membership_set

    if Questionnaire.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A questionnaire with the address {slug!r} already exists."})
    questionnaire = Questionnaire(slug=slug, languages=languages, title={languages[0]: title})
    questionnaire.full_clean()
    questionnaire.save()
    questionnaire.consent_versions.create(version=1, text={})
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUESTIONNAIRE_CREATED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"languages": languages},
    )
    membership_set(questionnaire=questionnaire, user=actor, role="owner", actor=actor)
    return questionnaire


@transaction.atomic
def questionnaire_copy(*, source: Questionnaire, slug: str, actor) -> Questionnaire:
    """Duplicate as a new draft: the definition and settings, never invitations or answers.

    The copy goes through the definition file's reader, so it is exactly what an export and
    re-import would give; unlike an import it may keep a draft's unfinished parts.
    """
    if Questionnaire.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A questionnaire with the address {slug!r} already exists."})
    document = parse_document(document_to_json(questionnaire_document(source)))
    copy = questionnaire_create_from_document(
        document=document,
        actor=actor,
        slug=slug,
        action=AuditEntry.Action.QUESTIONNAIRE_COPIED,
        detail={"copied_from": source.slug},
    )
    return copy


@dataclass(frozen=True)
class SettingsInput:
    languages: list[str]
    title: dict[str, str]
    organisation: dict[str, str]
    introduction: dict[str, str]
    consent_text: dict[str, str]
    opens_at: Any
    closes_at: Any
    time_zone: str
    nomination_quota: int


@transaction.atomic
def questionnaire_update_settings(
    *, questionnaire: Questionnaire, changes: SettingsInput, fingerprint: str, actor
) -> Questionnaire:
    """Title, texts, languages, dates and time zone, nominations. A new consent text gets a new version."""
    questionnaire = _lock(questionnaire)
    if questionnaire_fingerprint(questionnaire) != fingerprint:
        raise StaleEdit("The questionnaire's settings")
    if changes.languages != list(questionnaire.languages):
        _refuse_if_locked(questionnaire, "The languages cannot change after launch")
    # Settings touch no condition: on a draft there is nothing to check afterwards.
    check = _Check.now(questionnaire) if questionnaire.is_locked else None
    before = {name: getattr(questionnaire, name) for name in asdict(changes)}
    languages = changes.languages
    questionnaire.languages = languages
    questionnaire.title = _texts_only(changes.title, languages)
    questionnaire.organisation = _texts_only(changes.organisation, languages)
    questionnaire.introduction = _texts_only(changes.introduction, languages)
    questionnaire.opens_at, questionnaire.closes_at = changes.opens_at, changes.closes_at
    questionnaire.time_zone = changes.time_zone
    questionnaire.nomination_quota = changes.nomination_quota
    questionnaire.full_clean(exclude=["consent_text", "consent_version", "slug"])
    questionnaire.save()
    consent = _texts_only(changes.consent_text, languages)
    if consent != questionnaire.consent_text:
        questionnaire = questionnaire_set_consent_text(questionnaire=questionnaire, text=consent, actor=actor)
    after = {name: getattr(questionnaire, name) for name in asdict(changes)}
    _refuse_what_the_edit_broke(questionnaire, check, "This change", conditions=False)
    questionnaire_definition_changed(questionnaire=questionnaire)
    _audit(questionnaire, actor, questionnaire, {"settings": _changed(before, after)})
    return questionnaire


# --- Domains ---------------------------------------------------------------------------------


@transaction.atomic
def domain_save(
    *,
    questionnaire: Questionnaire,
    domain: Domain | None,
    data: DomainInput,
    fingerprint: str | None,
    actor,
) -> Domain:
    """Create a domain (at the end) or change one."""
    questionnaire = _lock(questionnaire)
    _refuse_malformed_condition(data.condition)
    check = _Check.now(questionnaire)
    if domain is None:
        _refuse_if_locked(questionnaire, "Domains cannot be added after launch")
        domain = Domain(questionnaire=questionnaire, position=_next_position(questionnaire.domains.all()))
        before: dict[str, Any] = {}
    else:
        domain = Domain.objects.select_for_update().get(pk=domain.pk, questionnaire=questionnaire)
        if domain_fingerprint(domain) != fingerprint:
            raise StaleEdit(f"Domain {domain.code}")
        before = _domain_state(domain)
        if data.code != domain.code:
            _refuse_if_locked(questionnaire, "A domain's code cannot change after launch")
    if questionnaire.domains.filter(code=data.code).exclude(pk=domain.pk).exists():
        raise ValidationError({"code": f"Another domain of this questionnaire has the code {data.code}."})
    domain.code = data.code
    domain.title = _texts_only(data.title, questionnaire.languages)
    domain.description = _texts_only(data.description, questionnaire.languages)
    domain.condition = canonical_condition(data.condition) if data.condition else None
    domain.full_clean(exclude=["questionnaire"])
    domain.save()
    _refuse_what_the_edit_broke(questionnaire, check, "This change", domain=domain)
    questionnaire_definition_changed(questionnaire=questionnaire)
    _audit(
        questionnaire,
        actor,
        domain,
        {"domain": domain.code, "changes": _changed(before, _domain_state(domain))},
    )
    return domain


def _domain_state(domain: Domain) -> dict[str, Any]:
    return {
        "code": domain.code,
        "title": domain.title,
        "description": domain.description,
        "condition": domain.condition,
    }


def _next_position(rows) -> int:
    highest = rows.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def domain_delete(*, domain: Domain, actor) -> None:
    questionnaire = _lock(domain.questionnaire)
    domain = Domain.objects.select_for_update().get(pk=domain.pk, questionnaire=questionnaire)
    _refuse_if_locked(questionnaire, f"Domain {domain.code} cannot be deleted")
    codes = set(domain.questions.values_list("code", flat=True))
    _refuse_if_conditions_use(questionnaire, codes, deleting=f"domain {domain.code}")
    _audit(questionnaire, actor, domain, {"deleted_domain": domain.code, "questions": sorted(codes)})
    domain.delete()
    questionnaire_definition_changed(questionnaire=questionnaire)


@transaction.atomic
def domains_reorder(*, questionnaire: Questionnaire, ordered_ids: list[int], actor) -> None:
    """Put the domains in this order; the list must name each of them exactly once."""
    questionnaire = _lock(questionnaire)
    order = _reorder(questionnaire, questionnaire.domains, ordered_ids, "domains of this questionnaire")
    _audit(questionnaire, actor, questionnaire, {"order": order})


def _reorder(questionnaire: Questionnaire, rows, ordered_ids: list[int], what: str) -> dict[str, list[str]]:
    """Give `rows` (domains, or one domain's questions) the positions of `ordered_ids`, refusing an
    order that names them wrongly, breaks a condition, or leaves a launched questionnaire unsound.
    Returns the codes before and after, for the audit log."""
    by_pk = {row.pk: row for row in rows.select_for_update()}
    _check_order(ordered_ids, set(by_pk), what)
    check = _Check.now(questionnaire)
    before = [row.code for row in sorted(by_pk.values(), key=lambda row: (row.position, row.pk))]
    for position, pk in enumerate(ordered_ids):
        by_pk[pk].position = position
    rows.model.objects.bulk_update(by_pk.values(), ["position"])
    _refuse_what_the_edit_broke(questionnaire, check, "This order")
    questionnaire_definition_changed(questionnaire=questionnaire)
    return {"before": before, "after": [by_pk[pk].code for pk in ordered_ids]}


def _check_order(ordered_ids: list[int], known: set[int], what: str) -> None:
    if len(ordered_ids) != len(set(ordered_ids)) or set(ordered_ids) != known:
        unknown = sorted(set(ordered_ids) - known)
        missing = sorted(known - set(ordered_ids))
        details = []
        if unknown:
            details.append(f"unknown ids {unknown}")
        if missing:
            details.append(f"missing ids {missing}")
        if len(ordered_ids) != len(set(ordered_ids)):
            details.append("an id given twice")
        raise UnknownOrder(
            f"The new order must name each of the {what} once ({'; '.join(details)}). "
            "The page may be out of date: reload it. Nothing was changed."
        )


def move_in_order(ids: list[int], pk: int, direction: str) -> list[int]:
    """The order with one entry moved one step up or down (unchanged at either end)."""
    index = ids.index(pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ids):
        return ids
    moved = list(ids)
    moved[index], moved[target] = moved[target], moved[index]
    return moved


# --- Questions -------------------------------------------------------------------------------

LOCKED_QUESTION_FIELDS = {"code": "its code", "type": "its type", "domain_id": "its domain"}


@transaction.atomic
def question_save(
    *,
    questionnaire: Questionnaire,
    domain: Domain,
    question: Question | None,
    data: QuestionInput,
    options: list[ChoiceInput],
    items: list[ChoiceInput],
    fingerprint: str | None,
    actor,
) -> Question:
    """Create or change a question with its answer options and items, all in one transaction."""
    questionnaire = _lock(questionnaire)
    _refuse_malformed_condition(data.condition)
    check = _Check.now(questionnaire)
    domain = Domain.objects.get(pk=domain.pk, questionnaire=questionnaire)
    if question is None:
        question = Question(
            questionnaire=questionnaire, domain=domain, position=_next_position(domain.questions.all())
        )
        existing: list[Choice] = []
        before: dict[str, Any] = {}
    else:
        question = Question.objects.select_for_update().get(pk=question.pk, questionnaire=questionnaire)
        existing = list(question.choices.select_for_update())
        if question_fingerprint(question, existing) != fingerprint:
            raise StaleEdit(f"Question {question.code}")
        before = _question_state(question, existing)

    target_domain_id = data.domain_id or question.domain_id
    if question.pk and questionnaire.is_locked:
        for name, label in LOCKED_QUESTION_FIELDS.items():
            new_value = target_domain_id if name == "domain_id" else getattr(data, name)
            if new_value != getattr(question, name):
                _refuse_if_locked(questionnaire, f"Question {question.code} cannot change {label}")
    if questionnaire.questions.filter(code=data.code).exclude(pk=question.pk).exists():
        raise ValidationError({"code": f"Another question of this questionnaire has the code {data.code}."})
    if data.breakdown:
        other = questionnaire.questions.filter(breakdown=data.breakdown).exclude(pk=question.pk).first()
        if other is not None:
            raise ValidationError({"breakdown": f"Question {other.code} already has this mark."})
    if target_domain_id != question.domain_id:
        new_domain = Domain.objects.filter(pk=target_domain_id, questionnaire=questionnaire).first()
        if new_domain is None:
            raise ValidationError({"domain": "Choose a domain of this questionnaire."})
        question.domain = new_domain
        question.position = _next_position(new_domain.questions.all())

    languages = questionnaire.languages
    question.code = data.code
    question.type = data.type
    question.text = _texts_only(data.text, languages)
    question.help = _texts_only(data.help, languages)
    question.required = data.required
    question.breakdown = data.breakdown
    question.condition = canonical_condition(data.condition) if data.condition else None
    for name in ("min_value", "max_value", "integer_only", "max_length", "min_choices", "max_choices"):
        setattr(question, name, getattr(data, name))
    question.full_clean(exclude=["questionnaire", "domain"])
    question.save()
    _choices_save(questionnaire, question, existing, options, items)

    _refuse_what_the_edit_broke(
        questionnaire, check, "This change", domain=question.domain, question=question
    )
    questionnaire_definition_changed(questionnaire=questionnaire)
    after = _question_state(question, list(question.choices.all()))
    _audit(
        questionnaire,
        actor,
        question,
        {"question": question.code, "created": not before, "changes": _changed(before, after)},
    )
    return question


def _question_state(question: Question, choices: list[Choice]) -> dict[str, Any]:
    state = {
        name: _jsonable(getattr(question, name))
        for name in (
            "code", "type", "text", "help", "required", "breakdown", "condition", "min_value", "max_value",
            "integer_only", "max_length", "min_choices", "max_choices",
        )
    }  # fmt: skip
    state["domain"] = question.domain.code
    for kind in Choice.Kind:
        state[f"{kind}s"] = [
            {"code": c.code, "label": c.label, "value": c.value, "other": c.is_other}
            for c in sorted(choices, key=lambda c: (c.position, c.pk))
            if c.kind == kind
        ]
    return state


def _choices_save(
    questionnaire: Questionnaire,
    question: Question,
    existing: list[Choice],
    options: list[ChoiceInput],
    items: list[ChoiceInput],
) -> None:
    by_id = {choice.pk: choice for choice in existing}
    kept: set[int] = set()
    shared = sorted({o.code for o in options} & {i.code for i in items})
    if shared:
        raise ValidationError({"items": f"An item and an answer option share the code {', '.join(shared)}."})
    valueless = [entry.code for entry in options if entry.value is None]
    if valueless:
        raise ValidationError({"options": f"Give each answer option a number: {', '.join(valueless)}."})
    for kind, inputs in ((Choice.Kind.OPTION, options), (Choice.Kind.ITEM, items)):
        codes = [entry.code for entry in inputs]
        duplicate_codes = sorted({code for code in codes if codes.count(code) > 1})
        if duplicate_codes:
            raise ValidationError({f"{kind}s": f"Each code once: {', '.join(duplicate_codes)} is repeated."})
        if kind == Choice.Kind.OPTION:
            values = [entry.value for entry in inputs]
            repeated = sorted({v for v in values if v is not None and values.count(v) > 1})
            if repeated:
                raise ValidationError(
                    {"options": f"Each value once: {', '.join(map(str, repeated))} is repeated."}
                )
        for entry in inputs:
            if entry.id is None:
                continue
            choice = by_id.get(entry.id)
            if choice is None or choice.kind != kind:
                raise ValidationError(
                    "The form names a choice that is not one of this question's: reload the page."
                )
            kept.add(entry.id)
            if questionnaire.is_locked and (
                entry.code != choice.code or entry.value != choice.value or entry.is_other != choice.is_other
            ):
                _refuse_if_locked(
                    questionnaire,
                    f"Choice {choice.code} of {question.code} cannot change its code, value or 'other' mark",
                )
    removed = [choice for pk, choice in by_id.items() if pk not in kept]
    if removed:
        _refuse_if_locked(
            questionnaire,
            f"Choices of {question.code} cannot be deleted ({', '.join(c.code for c in removed)})",
        )
        Choice.objects.filter(pk__in=[choice.pk for choice in removed]).delete()
    # Unique (question, code) and (question, value) hold at every row, so codes and values that
    # swap between choices are parked on placeholders first.
    moving = [
        by_id[entry.id]
        for entry in (*options, *items)
        if entry.id is not None
        and (by_id[entry.id].code != entry.code or by_id[entry.id].value != entry.value)
    ]
    for index, choice in enumerate(moving):  # outside what the forms accept: a code never starts with "~"
        choice.code = f"~{choice.pk}"
        choice.value = None if choice.kind == Choice.Kind.ITEM else PLACEHOLDER_VALUE - index
    if moving:
        Choice.objects.bulk_update(moving, ["code", "value"])
    languages = questionnaire.languages
    for kind, inputs in ((Choice.Kind.OPTION, options), (Choice.Kind.ITEM, items)):
        for position, entry in enumerate(inputs):
            choice = by_id[entry.id] if entry.id is not None else Choice(question=question, kind=kind)
            choice.code = entry.code
            choice.label = _texts_only(entry.label, languages)
            choice.value = entry.value if kind == Choice.Kind.OPTION else None
            choice.is_other = entry.is_other if kind == Choice.Kind.OPTION else False
            choice.position = position
            try:
                choice.full_clean(exclude=["question"], validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise ValidationError(
                    {f"{kind}s": [f"{entry.code or '?'}: {m}" for m in error.messages]}
                ) from None
            choice.save()


@transaction.atomic
def question_delete(*, question: Question, actor) -> None:
    questionnaire = _lock(question.questionnaire)
    question = Question.objects.select_for_update().get(pk=question.pk, questionnaire=questionnaire)
    _refuse_if_locked(questionnaire, f"Question {question.code} cannot be deleted")
    _refuse_if_conditions_use(questionnaire, {question.code}, deleting=f"question {question.code}")
    _audit(questionnaire, actor, question, {"deleted_question": question.code})
    question.delete()
    questionnaire_definition_changed(questionnaire=questionnaire)


def _refuse_if_conditions_use(questionnaire: Questionnaire, codes: set[str], *, deleting: str) -> None:
    users = [
        question.code
        for question in questionnaire.questions.exclude(condition=None)
        if question.code not in codes and referenced_questions(question.condition) & codes
    ] + [
        f"domain {domain.code}"
        for domain in questionnaire.domains.exclude(condition=None)
        if referenced_questions(domain.condition) & codes
    ]
    if users:
        raise ValidationError(
            f"The conditions of {', '.join(users)} use {deleting}: change them first, "
            "then delete it. Nothing was deleted."
        )


@transaction.atomic
def questions_reorder(*, domain: Domain, ordered_ids: list[int], actor) -> None:
    """Put a domain's questions in this order; the list must name each of them exactly once."""
    questionnaire = _lock(domain.questionnaire)
    order = _reorder(questionnaire, domain.questions, ordered_ids, f"questions of domain {domain.code}")
    _audit(questionnaire, actor, domain, {"domain": domain.code, "order": order})


# --- Translations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextCell:
    """One translatable text of the questionnaire in one language, addressed without database ids
    leaking into meaning: (model, id, field, language)."""

    model: str  # "questionnaire", "domain", "question" or "choice"
    pk: int
    field: str
    language: str

    @property
    def key(self) -> str:
        return f"{self.model}-{self.pk}-{self.field}-{self.language}"

    @classmethod
    def parse(cls, key: str) -> TextCell | None:
        parts = key.split("-", 3)  # a language may have a region: pt-br
        pk = whole_number(parts[1]) if len(parts) == 4 else None
        if pk is None:
            return None
        return cls(parts[0], pk, parts[2], parts[3])


TRANSLATABLE = {
    "questionnaire": (Questionnaire, ("title", "organisation", "introduction", "consent_text")),
    "domain": (Domain, ("title", "description")),
    "question": (Question, ("text", "help")),
    "choice": (Choice, ("label",)),
}


@transaction.atomic
def translations_save(
    *, questionnaire: Questionnaire, edits: Mapping[TextCell, tuple[str, str]], actor
) -> int:
    """Write each changed text; `edits` maps a cell to (fingerprint of the text the form showed,
    new text). If any cell changed meanwhile, nothing is written. Returns how many texts changed.

    The rows are read with one query per kind of object and written with one per kind changed."""
    questionnaire = _lock(questionnaire)
    for cell in edits:
        fields = TRANSLATABLE.get(cell.model, (None, ()))[1]
        if cell.field not in fields or cell.language not in questionnaire.languages:
            raise ValidationError("The form names a text this questionnaire does not have: reload the page.")
    rows = _translatable_rows(questionnaire, {(cell.model, cell.pk) for cell in edits})
    changed: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    stale, log = [], []
    consent = None
    for cell, (shown, text) in edits.items():
        row = rows[(cell.model, cell.pk)]
        current = (getattr(row, cell.field) or {}).get(cell.language, "")
        text = text.replace("\r\n", "\n").strip()
        if text == current:
            continue
        if text_fingerprint(current) != shown:
            stale.append(cell)
            continue
        texts = dict(getattr(row, cell.field) or {})
        if text:
            texts[cell.language] = text
        else:
            texts.pop(cell.language, None)
        if cell.model == "questionnaire" and cell.field == "consent_text":
            consent = texts
        else:
            setattr(row, cell.field, texts)
            changed[cell.model][cell.pk].add(cell.field)
        log.append({"text": f"{cell.model} {_label(row)} {cell.field}", "language": cell.language,
                    "before": current, "after": text})  # fmt: skip
    if stale:
        raise StaleEdit(f"{len(stale)} of these texts")
    if not log:
        return 0
    # Texts touch no condition: only a launched questionnaire is checked afterwards, against its row
    # as stored (the object in hand may already carry the edited texts).
    check = _Check.now(Questionnaire.objects.get(pk=questionnaire.pk)) if questionnaire.is_locked else None
    for model_name, by_pk in changed.items():
        model = TRANSLATABLE[model_name][0]
        fields = sorted(set().union(*by_pk.values()))
        model.objects.bulk_update([rows[(model_name, pk)] for pk in by_pk], fields)
    if consent is not None:
        questionnaire_set_consent_text(questionnaire=questionnaire, text=consent, actor=actor)
    questionnaire.refresh_from_db()
    _refuse_what_the_edit_broke(questionnaire, check, "This change", conditions=False)
    questionnaire_definition_changed(questionnaire=questionnaire)
    _audit(questionnaire, actor, questionnaire, {"translations": log})
    return len(log)


def _translatable_rows(
    questionnaire: Questionnaire, wanted: set[tuple[str, int]]
) -> dict[tuple[str, int], Any]:
    """The objects the form names, each checked to belong to this questionnaire."""
    scopes = {
        "domain": Domain.objects.filter(questionnaire=questionnaire),
        "question": Question.objects.filter(questionnaire=questionnaire),
        "choice": Choice.objects.filter(question__questionnaire=questionnaire),
    }
    rows: dict[tuple[str, int], Any] = {}
    for model_name, scope in scopes.items():
        pks = {pk for name, pk in wanted if name == model_name}
        if pks:
            rows.update(((model_name, row.pk), row) for row in scope.select_for_update().filter(pk__in=pks))
    if any(name == "questionnaire" and pk != questionnaire.pk for name, pk in wanted):
        raise ValidationError("The form names a text of another questionnaire: reload the page.")
    if ("questionnaire", questionnaire.pk) in wanted:
        rows[("questionnaire", questionnaire.pk)] = questionnaire
    if set(wanted) - set(rows):
        raise ValidationError("The form names a text this questionnaire does not have: reload the page.")
    return rows


def _label(row) -> str:
    return getattr(row, "code", None) or getattr(row, "slug", "")


__all__ = [
    "ChoiceInput",
    "DomainInput",
    "LockedEdit",
    "QuestionInput",
    "QuestionnaireDocument",
    "SettingsInput",
    "StaleEdit",
    "TextCell",
]
