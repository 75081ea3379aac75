"""Writes for invitations and responses. Every one is a transaction; emails go through the outbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django_countries import countries

from consultation.audit import audit_record
from consultation.models import AuditEntry
from consultation.prepared import PreparedQuery, Writes, guarded_update
from questionnaires.engine.answers import AnswerError, clean_answer
from questionnaires.engine.conditions import evaluate, is_answered
from questionnaires.engine.definition import Definition, DomainDef, QuestionType
from questionnaires.engine.routing import effective_answers, missing_required, other_text_key
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition
from questionnaires.services import country_codes

from .emails import email_render
from .models import (
    Answer,
    Invitation,
    InvitationEvent,
    OutboxMessage,
    Response,
    Selection,
    new_token,
    normalise_email,
)
from .outbox import outbox_message_create
from .selectors import (
    forget_answers_as_read,
    invitation_from_row,
    is_opted_out,
    opted_out_among,
    response_answers,
)

CSV_COLUMNS = ("email", "name", "organisation", "country", "language")
MAX_CSV_ROWS = 5000


OPTED_OUT_MESSAGE = "{email} has opted out of all email from this platform"


class InvitationError(ValueError):
    """An invitation cannot be created; the message says why."""


class InvitationErased(InvitationError):
    """The invitation was erased on request: nothing more is done with it, whoever asks."""


@dataclass(frozen=True)
class CsvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class CsvError(ValueError):
    def __init__(self, problems: list[CsvProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


# --- Invitations --------------------------------------------------------------------------------


def questionnaire_lock(questionnaire: Questionnaire) -> None:
    """Serialises the writers of a questionnaire's invitations (numbers, addresses, reminder counters)."""
    Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).first()


def invitation_numbers_reserve(questionnaire: Questionnaire, count: int) -> range:
    """Pseudonymous numbers, allocated under the questionnaire's row lock so two writers never collide."""
    questionnaire_lock(questionnaire)
    highest = Invitation.objects.filter(questionnaire=questionnaire).aggregate(top=Max("number"))["top"] or 0
    return range(highest + 1, highest + 1 + count)


def country_code_from_input(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return ""
    if raw.upper() in country_codes():
        return raw.upper()
    by_name = countries.by_name(raw)
    return by_name or None


def _refuse_if_closed(questionnaire: Questionnaire) -> None:
    """A closed questionnaire, and above all one whose personal data was purged, invites no one."""
    if questionnaire.status == Questionnaire.Status.CLOSED or questionnaire.personal_data_purged_at:
        raise InvitationError("The questionnaire is closed: no one can be invited to it any more.")


def _checked_seed(
    questionnaire: Questionnaire, email: str, country: str, language: str
) -> tuple[str, str, str]:
    _refuse_if_closed(questionnaire)
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvitationError(f"{email!r} is not a valid email address") from None
    code = country_code_from_input(country)
    if code is None:
        raise InvitationError(
            f"{country!r} is not a country (use an ISO code such as CA or a name such as Canada)"
        )
    language = (language or questionnaire.default_language).strip().lower()
    if language not in questionnaire.languages:
        raise InvitationError(
            f"{language!r} is not one of the questionnaire's languages ({', '.join(questionnaire.languages)})"
        )
    return email, code, language


@transaction.atomic
def seed_invite(
    *,
    questionnaire: Questionnaire,
    email: str,
    name: str = "",
    organisation: str = "",
    country: str = "",
    language: str = "",
    actor,
) -> Invitation:
    """Invite one official as a seed (wave 0) and queue their invitation email."""
    email, country, language = _checked_seed(questionnaire, email, country, language)
    # Numbers first: they lock the questionnaire, so no nominator can invite the address meanwhile.
    (number,) = invitation_numbers_reserve(questionnaire, 1)
    if Invitation.objects.filter(
        questionnaire=questionnaire, email_normalised=normalise_email(email)
    ).exists():
        raise InvitationError(f"{email} is already invited to this questionnaire")
    if is_opted_out(email):
        raise InvitationError(OPTED_OUT_MESSAGE.format(email=email))
    invitation = invitation_create(
        questionnaire=questionnaire,
        number=number,
        email=email,
        name=name.strip(),
        organisation=organisation.strip(),
        country=country,
        language=language,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INVITATION_CREATED,
        target=invitation,
        questionnaire=questionnaire,
        detail={"wave": 0, "count": 1},
    )
    return invitation


def invitation_create(*, questionnaire: Questionnaire, number: int, **fields) -> Invitation:
    invitation = Invitation(questionnaire=questionnaire, number=number, **fields)
    invitation.email_normalised = normalise_email(invitation.email)
    invitation.save()
    InvitationEvent.objects.create(invitation=invitation, kind=InvitationEvent.Kind.CREATED)
    if invitation.email:
        invitation_email_queue(invitation=invitation, questionnaire=questionnaire)
    return invitation


def parse_seed_csv(*, questionnaire: Questionnaire, text: str) -> list[dict[str, str]]:
    """Read `email,name,organisation,country,language` rows; raises CsvError naming every bad line."""
    problems: list[CsvProblem] = []
    rows: list[dict[str, str]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [column.strip().lower() for column in header] != list(CSV_COLUMNS):
        raise CsvError([CsvProblem(1, f"the first line must be the header: {','.join(CSV_COLUMNS)}")])
    seen: dict[str, int] = {}
    existing = set(
        Invitation.objects.filter(questionnaire=questionnaire)
        .exclude(email_normalised="")
        .values_list("email_normalised", flat=True)
    )
    parsed: list[tuple[int, dict[str, str]]] = []
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(CSV_COLUMNS):
            problems.append(
                CsvProblem(line_number, f"expected {len(CSV_COLUMNS)} columns, found {len(cells)}")
            )
            continue
        row = dict(zip(CSV_COLUMNS, (cell.strip() for cell in cells), strict=True))
        try:
            row["email"], row["country"], row["language"] = _checked_seed(
                questionnaire, row["email"], row["country"], row["language"]
            )
        except InvitationError as error:
            problems.append(CsvProblem(line_number, str(error)))
            continue
        key = normalise_email(row["email"])
        if key in seen:
            problems.append(CsvProblem(line_number, f"{row['email']} is also on line {seen[key]}"))
        elif key in existing:
            problems.append(
                CsvProblem(line_number, f"{row['email']} is already invited to this questionnaire")
            )
        seen.setdefault(key, line_number)
        if len(row["name"]) > 200 or len(row["organisation"]) > 200:
            problems.append(CsvProblem(line_number, "name and organisation are limited to 200 characters"))
        rows.append(row)
        parsed.append((line_number, row))
        if len(rows) > MAX_CSV_ROWS:
            problems.append(CsvProblem(line_number, f"at most {MAX_CSV_ROWS} invitations per file"))
            break
    opted_out = opted_out_among(row["email"] for row in rows)
    problems.extend(
        CsvProblem(line_number, OPTED_OUT_MESSAGE.format(email=row["email"]))
        for line_number, row in parsed
        if normalise_email(row["email"]) in opted_out
    )
    problems.sort(key=lambda problem: problem.line)
    if not rows and not problems:
        problems.append(CsvProblem(2, "the file has no invitations"))
    if problems:
        raise CsvError(problems)
    return rows


@transaction.atomic
def seeds_import_csv(*, questionnaire: Questionnaire, text: str, actor) -> list[Invitation]:
    """Invite every row of a CSV as a seed, or none if any row is bad."""
    # Locked before the rows are checked, so no nominator can invite one of the addresses meanwhile.
    questionnaire_lock(questionnaire)
    _refuse_if_closed(Questionnaire.objects.get(pk=questionnaire.pk))
    rows = parse_seed_csv(questionnaire=questionnaire, text=text)
    numbers = invitation_numbers_reserve(questionnaire, len(rows))
    invitations = [
        invitation_create(questionnaire=questionnaire, number=number, **row)
        for number, row in zip(numbers, rows, strict=True)
    ]
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INVITATION_CREATED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"wave": 0, "count": len(invitations), "via": "csv"},
    )
    return invitations


def invitation_email_queue(
    *, invitation: Invitation, questionnaire: Questionnaire, sequence: int = 1
) -> OutboxMessage:
    """Render the invitation in the invitee's language and put it in the outbox."""
    invitation.questionnaire = questionnaire
    email = email_render(invitation, OutboxMessage.Kind.INVITATION)
    return outbox_message_create(
        invitation=invitation,
        kind=OutboxMessage.Kind.INVITATION,
        sequence=sequence,
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        headers=email.headers,
    )


def invitation_mark_emailed(*, invitation_id: int, at: datetime) -> None:
    updated = Invitation.objects.filter(pk=invitation_id, status=Invitation.Status.CREATED).update(
        status=Invitation.Status.EMAILED, emailed_at=at
    )
    if updated:
        InvitationEvent.objects.create(invitation_id=invitation_id, kind=InvitationEvent.Kind.EMAILED)


# --- Answering ----------------------------------------------------------------------------------


class NotAccepting(Exception):
    """The questionnaire does not take answers now (not yet open, closed, or already submitted)."""


def accepts_answers(questionnaire: Questionnaire, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        questionnaire.status == Questionnaire.Status.OPEN
        and (questionnaire.opens_at is None or questionnaire.opens_at <= now)
        and (questionnaire.closes_at is None or now < questionnaire.closes_at)
    )


class PageChanged(Exception):
    """The page was posted from a copy older than the last save, and with other answers than the
    ones saved since: a tab left open, or a page the browser sent again from its history. Saving
    it would overwrite newer answers (and drop answers its old choices hide), so nothing is saved."""


class LinkReplaced(Exception):
    """The link this browser opened was taken up by someone else meanwhile (a forwarded link)."""


_INVITATION_FIELDS = [field.attname for field in Invitation._meta.concrete_fields]
_QUESTIONNAIRE_FIELDS = [field.attname for field in Questionnaire._meta.concrete_fields]
# Every action on an invitation starts here (a respondent's consent, staff's reminders and edits):
# compiled once (consultation/prepared.py), with the questionnaire in the same row.
_LOCKED_INVITATION = PreparedQuery(
    lambda invitation_id: (
        Invitation.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=invitation_id)
        .order_by()
        .values_list(*_INVITATION_FIELDS, *(f"questionnaire__{name}" for name in _QUESTIONNAIRE_FIELDS))
    )
)


def _locked_invitation(invitation: Invitation, token: str | None = None) -> Invitation:
    """The invitation's row, locked; with `token`, only if it is still the link this browser holds.

    FOR NO KEY UPDATE: rows inserted elsewhere that point at this one (a nominee's seed, say) need
    only a key-share lock, so they do not wait on it, and no deadlock can form through them.
    """
    rows = _LOCKED_INVITATION.rows(invitation.pk)
    if not rows:
        raise Invitation.DoesNotExist(f"Invitation {invitation.pk} is gone.")
    locked = invitation_from_row(rows[0], _INVITATION_FIELDS, _QUESTIONNAIRE_FIELDS)
    if token is not None and not constant_time_compare(locked.token, token):
        raise LinkReplaced
    return locked


def _locked_unerased(invitation: Invitation) -> Invitation:
    """The invitation's row, locked, for an action on it (by staff, or a mail provider's report);
    an erased one refuses every action, so nothing about the person is written again."""
    locked = _locked_invitation(invitation)
    if locked.status == Invitation.Status.ERASED:
        raise InvitationErased(f"{locked.label} was erased: nothing more can be done with it.")
    return locked


def _referral_claim(invitation: Invitation) -> None:  # the invitation's row is locked by the caller
    """The first person to consent through a referral link makes it theirs.

    The token is replaced, so the forwarded link (and any other browser that opened it) no longer
    opens these answers. Declining takes the link up too: it is then answered, with a refusal.
    """
    if invitation.channel != Invitation.Channel.REFERRAL or invitation.claimed_at is not None:
        return
    invitation.token = new_token()
    invitation.claimed_at = timezone.now()
    invitation.save(update_fields=["token", "claimed_at"])
    InvitationEvent.objects.create(invitation=invitation, kind=InvitationEvent.Kind.CLAIMED)


_EVENT_COLUMNS = ("invitation", "kind", "at", "detail")


def _add_event(
    writes: Writes, invitation: Invitation, kind: str, at: datetime, detail: dict | None = None
) -> None:
    """A status-history row that goes to the database with the writes it records, in one round trip
    on PostgreSQL (consent, the first save and Submit run on every respondent's way)."""
    writes.insert_rows(InvitationEvent, _EVENT_COLUMNS, [(invitation.pk, kind, at, detail or {})])


@transaction.atomic
def response_consent(*, invitation: Invitation, language: str, token: str | None = None) -> Response:
    """Record consent (time and consent text version) and open the response. Twice is once.

    With `token` (the link the browser opened), refuse with LinkReplaced if it is no longer the
    invitation's: someone else took up the forwarded link meanwhile."""
    invitation = _locked_invitation(invitation, token)
    questionnaire = invitation.questionnaire
    if not accepts_answers(questionnaire) or not invitation.is_active:
        raise NotAccepting
    response = Response.objects.filter(invitation=invitation).first()
    if response is not None:
        return response
    _referral_claim(invitation)
    now = timezone.now()
    invitation.status = Invitation.Status.CONSENTED
    invitation.consented_at = now
    invitation.consent_version = questionnaire.consent_version
    writes = Writes()
    writes.update_fields(invitation, "status", "consented_at", "consent_version")
    _add_event(
        writes,
        invitation,
        InvitationEvent.Kind.CONSENTED,
        now,
        {"consent_version": questionnaire.consent_version},
    )
    writes.run()
    language = language if language in questionnaire.languages else invitation.language
    response = Response.objects.create(invitation=invitation, questionnaire=questionnaire, language=language)
    response.answers_as_read = {}  # a new response has none: the first page needs no query to know it
    return response


@transaction.atomic
def response_decline(*, invitation: Invitation, token: str | None = None) -> Invitation:
    """Record a refusal; no further email goes to this invitation. `token` as for response_consent."""
    invitation = _locked_invitation(invitation, token)
    if invitation.status in (
        Invitation.Status.COMPLETED,
        Invitation.Status.DECLINED,
        Invitation.Status.REVOKED,
        Invitation.Status.ERASED,
    ):
        return invitation
    _referral_claim(invitation)
    invitation.status = Invitation.Status.DECLINED
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["status", "declined_at"])
    InvitationEvent.objects.create(invitation=invitation, kind=InvitationEvent.Kind.DECLINED)
    _cancel_pending(invitation, "declined")
    return invitation


def response_set_language(*, response: Response, language: str) -> None:
    if language in response.questionnaire.languages and language != response.language:
        Response.objects.filter(pk=response.pk).update(language=language)
        response.language = language


@dataclass
class PageResult:
    """What saving a domain page gave: errors by question code (nothing saved), or the saved answers."""

    errors: dict[str, str]
    answers: dict[str, Any]
    submitted: Mapping[str, Sequence[str]]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_domain(
    *,
    definition: Definition,
    domain: DomainDef,
    stored: Mapping[str, Any],
    submitted: Mapping[str, Sequence[str]],
    enforce_required: bool = True,
) -> PageResult:
    """Clean every visible question of the page in order; later questions see earlier answers of the page."""
    working = {
        code: value
        for code, value in stored.items()
        if definition.domain_of.get(code.split(".")[0]) is not domain
    }
    errors: dict[str, str] = {}
    effective = dict(effective_answers(definition, working))  # a plain dict: the page's answers join it
    if not evaluate(domain.condition, effective):
        return PageResult(errors={}, answers=working, submitted=submitted)
    countries_ = country_codes()
    # Conditions only look backwards (the definition's checks enforce it): earlier domains are
    # settled in `effective`, and each answer of this page joins it in order, so one pass decides
    # every question's visibility.
    for question in domain.questions:
        if not evaluate(question.condition, effective):
            continue
        try:
            cleaned = clean_answer(question, submitted, countries=countries_)
        except AnswerError as error:
            errors[question.code] = str(error)
            continue
        if cleaned.value is None:
            if question.required and enforce_required:
                errors[question.code] = str(translation.gettext("This question needs an answer."))
            continue
        working[question.code] = effective[question.code] = cleaned.value
        if cleaned.other_text:
            working[other_text_key(question.code)] = effective[other_text_key(question.code)] = (
                cleaned.other_text
            )
    return PageResult(errors=errors, answers=effective_answers(definition, working), submitted=submitted)


# The response row, locked, with what decides whether it still takes answers read under the lock:
# a double click or a second tab waits here, then sees what the first one saved. The answers are
# read by the next statement, not joined here: a statement that waited for the lock still sees
# other tables as they were when it began, so it would miss the answers the first tab just saved.
_LOCKED_RESPONSE = PreparedQuery(
    lambda response_id: (
        Response.objects.select_for_update(of=("self",))
        .filter(pk=response_id)
        .order_by()
        .values_list(
            "submitted_at",
            "completed_domains",
            "started_at",
            "invitation__status",
            "questionnaire__status",
            "questionnaire__opens_at",
            "questionnaire__closes_at",
            "updated_at",
        )
    )
)


def _lock_response(response: Response) -> Response:
    forget_answers_as_read(response)  # read before the lock: another tab may have saved since
    rows = _LOCKED_RESPONSE.rows(response.pk)
    if not rows:
        raise NotAccepting  # erased since the page was opened
    (
        response.submitted_at,
        response.completed_domains,
        response.started_at,
        response.invitation.status,
        response.questionnaire.status,
        response.questionnaire.opens_at,
        response.questionnaire.closes_at,
        response.updated_at,
    ) = rows[0]
    return response


def saved_stamp(response: Response) -> str:
    """When the response was last saved, as a page's form carries it back (see PageChanged)."""
    return str(int(response.updated_at.timestamp() * 1_000_000)) if response.updated_at else ""


def response_save_domain(
    *,
    response: Response,
    domain_code: str,
    submitted: Mapping[str, Sequence[str]],
    enforce_required: bool = True,
    shown_at: str = "",
) -> PageResult:
    """Save one domain page at once (one transaction, or one statement), or nothing if any answer
    is invalid.

    `shown_at` is the response's `saved_stamp` when the page was shown. If the response was saved
    since and the page's answers differ from what is saved now, PageChanged is raised and nothing
    is saved; the same answers again (a double click) save as usual.

    With enforce_required off (the Back button), a page with unanswered required questions is
    saved as far as it goes and stays unfinished; an invalid answer still saves nothing.

    On PostgreSQL the page is first saved without a lock, from the response as the request read it
    (`_save_domain_if_unchanged`): its writes make one statement, which changes nothing if the
    response was saved, submitted or erased, or its invitation revoked or declined, since.
    Otherwise, and elsewhere, the response row is locked first: a double click or a second tab
    waits and then re-saves the same answers. The unique constraint keeps one answer per question
    whatever happens.
    """
    post = _PagePost(domain_code, submitted, enforce_required, shown_at)
    if connection.vendor == "postgresql":
        saved = _save_domain_if_unchanged(response, post)
        if saved is not None:
            return saved
    return _save_domain_locked(response, post)


@dataclass(frozen=True)
class _PagePost:
    """A domain page as posted: what `response_save_domain` was given."""

    domain_code: str
    submitted: Mapping[str, Sequence[str]]
    enforce_required: bool
    shown_at: str


@dataclass
class _PageSave:
    """A page's save worked out from the answers saved, before anything is written."""

    result: PageResult
    stale: bool = False  # shown before a later save, with other answers than saved since (PageChanged)
    hidden: bool = False  # a page the respondent's answers hide (an old tab, a forged post)
    replaced_ids: list[int] = field(default_factory=list)  # saved answers that change or go
    writes: Writes = field(default_factory=Writes)  # the new answer and selection rows; a first save's start
    changes: dict[str, Any] = field(default_factory=dict)  # the response's fields the save sets


def _page_save(response: Response, post: _PagePost) -> _PageSave:
    definition = questionnaire_definition(response.questionnaire)
    domain = next(d for d in definition.domains if d.code == post.domain_code)
    stored = response_answers(response)
    result = validate_domain(
        definition=definition,
        domain=domain,
        stored=stored,
        submitted=post.submitted,
        enforce_required=post.enforce_required,
    )
    if not result.ok:
        return _PageSave(result)
    shown_before_a_later_save = post.shown_at and post.shown_at != saved_stamp(response)
    if shown_before_a_later_save and _page_differs(domain, stored, result.answers):
        return _PageSave(result, stale=True)
    if not evaluate(domain.condition, effective_answers(definition, stored)):
        return _PageSave(result, hidden=True)
    replaced_ids, answer_rows, selection_rows = _answer_changes(
        response=response, definition=definition, domain=domain, stored=stored, answers=result.answers
    )
    save = _PageSave(result, replaced_ids=replaced_ids)
    save.writes.insert_rows(Answer, _ANSWER_COLUMNS, answer_rows)
    save.writes.insert_rows(Selection, _SELECTION_COLUMNS, selection_rows)
    now = timezone.now()
    save.changes = _progress_changes(response, definition, domain, result.answers, now)
    if "started_at" in save.changes:  # the first save: the invitation is started
        started = Invitation(pk=response.invitation_id, status=Invitation.Status.STARTED, started_at=now)
        save.writes.update_fields(started, "status", "started_at")
        _add_event(save.writes, started, InvitationEvent.Kind.STARTED, now)
    return save


def _save_made(response: Response, changes: Mapping[str, Any]) -> None:
    """The response (and, on a first save, its invitation) as the save left them in the database."""
    forget_answers_as_read(response)
    for name, value in changes.items():
        setattr(response, name, value)
    if "started_at" in changes:
        invitation = response.invitation
        invitation.status, invitation.started_at = Invitation.Status.STARTED, changes["started_at"]


def _save_domain_if_unchanged(response: Response, post: _PagePost) -> PageResult | None:
    """The usual save, in one round trip instead of five (two if the answers did not come with the
    response, see `respondent_invitation`): the writes as one statement whose first part updates
    the response only if its `updated_at`, and its invitation's status, are still the ones read
    with it (every save and Submit move the first, erasing removes the row; revoking and declining
    move the second), the others written only if that part did. None when that did not hold, or
    when this save is not the usual one (the response looked closed, the page is stale or hidden,
    or it replaces saved answers, which must first be deleted): then nothing was written, and the
    locked save decides."""
    invitation = response.invitation
    if response.is_submitted or not invitation.is_active or not accepts_answers(response.questionnaire):
        return None
    save = _page_save(response, post)
    if not save.result.ok:
        # Nothing to write. The errors are shown even if the response was submitted or revoked
        # since the request read it (the locked save would say that instead): the next Next says it.
        return save.result
    if save.stale or save.hidden or save.replaced_ids:
        return None
    still_as_read = (
        f"SELECT 1 FROM {Invitation._meta.db_table} WHERE {Invitation._meta.pk.column} = %s AND status = %s",
        [invitation.pk, invitation.status],
    )
    guard = guarded_update(
        Response,
        response.pk,
        save.changes,
        {"updated_at": response.updated_at, "submitted_at": None},
        also=still_as_read,
    )
    if not save.writes.run_if(guard):
        return None
    _save_made(response, save.changes)
    return save.result


@transaction.atomic
def _save_domain_locked(response: Response, post: _PagePost) -> PageResult:
    response = _lock_response(response)
    if (
        response.is_submitted
        or not response.invitation.is_active
        or not accepts_answers(response.questionnaire)
    ):
        raise NotAccepting  # submitted, declined or revoked since the page was opened, or closed
    save = _page_save(response, post)
    if save.stale:
        raise PageChanged
    if not save.result.ok or save.hidden:
        return save.result
    if save.replaced_ids:
        # The answers were read under the response's lock, so they are exactly what the database holds.
        Selection.objects.filter(response=response, question_id__in=save.replaced_ids).delete()
        Answer.objects.filter(response=response, question_id__in=save.replaced_ids).delete()
    _save_made(response, save.changes)
    # On PostgreSQL, the page's rows and the response's progress in one statement.
    save.writes.update_fields(response, *save.changes)
    save.writes.run()
    return save.result


def _progress_changes(
    response: Response, definition: Definition, domain: DomainDef, answers: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The response's fields a save of the domain changes: whether the domain is complete, where
    the respondent was last, when; and when they started, on their first save."""
    completed = [code for code in response.completed_domains if code != domain.code]
    if not missing_required(definition, domain, answers):
        completed.append(domain.code)
    changes = {"completed_domains": completed, "last_domain": domain.code, "updated_at": now}
    if response.started_at is None:
        changes["started_at"] = now
    return changes


def _page_differs(domain: DomainDef, stored: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    keys = [key for question in domain.questions for key in (question.code, other_text_key(question.code))]
    return any(stored.get(key) != answers.get(key) for key in keys)


_ANSWER_COLUMNS = ("response", "question", "value", "other_text", "number", "saved_at")
_SELECTION_COLUMNS = ("response", "question", "item", "code", "rank")


def _answer_changes(
    *,
    response: Response,
    definition: Definition,
    domain: DomainDef,
    stored: Mapping[str, Any],
    answers: Mapping[str, Any],
) -> tuple[list[int], list[tuple], list[tuple]]:
    """What saving the page does to the saved answers: the ids of the questions whose answer goes
    (it changed, or the page has hidden it), then the answer and selection rows to insert (new
    and changed answers).

    An answer saved again unchanged keeps its row (and any theme a researcher tagged it with). A
    fixed number of queries whatever the page's size: when something changed or went, two deletes;
    when something is new or changed, two inserts (joined with the caller's writes).
    """
    base_code = lambda key: key.split(".", 1)[0]  # noqa: E731 - "Q.other" belongs to Q
    on_page = {question.code for question in domain.questions}
    gone = {base_code(key) for key in stored if key not in answers}
    ids = question_ids(response.questionnaire)
    written = {
        code
        for code in on_page | gone
        if code in ids
        and (
            answers.get(code) != stored.get(code)
            or answers.get(other_text_key(code)) != stored.get(other_text_key(code))
        )
    }
    replaced_ids = [ids[code] for code in written & set(stored)]
    now = timezone.now()
    answer_rows, selection_rows = [], []
    for question in definition.questions:
        value = answers.get(question.code)
        if question.code not in written or not is_answered(value):
            continue
        question_id = ids[question.code]
        answer_rows.append(
            (
                response.pk,
                question_id,
                value,
                answers.get(other_text_key(question.code), ""),
                Decimal(value) if question.type is QuestionType.NUMBER else None,
                now,
            )
        )
        selection_rows.extend(
            (response.pk, question_id, item, code, rank)
            for item, code, rank in _selections(question.type, value)
        )
    return replaced_ids, answer_rows, selection_rows


def _selections(kind: QuestionType, value: Any):
    if kind.takes_one_code:
        yield "", value, None
    elif kind is QuestionType.MULTIPLE_CHOICE:
        for code in value:
            yield "", code, None
    elif kind is QuestionType.MATRIX:
        for item, code in value.items():
            yield item, code, None
    elif kind is QuestionType.RANKING:
        for rank, item in enumerate(value, start=1):
            yield item, "", rank


@transaction.atomic
def response_submit(*, response: Response) -> Response:
    """Complete the response if every visible domain is finished. Submitting twice is once."""
    response = _lock_response(response)
    if response.is_submitted:
        # A second Submit (a double click) waited here for the first. The invitation's status read
        # with the lock is as it was before that wait (only the locked row is read again): read it
        # now, or the thank-you page would take the invitation for unfinished.
        invitation = response.invitation
        invitation.status = Invitation.objects.values_list("status", flat=True).get(pk=invitation.pk)
        return response
    if not response.invitation.is_active or not accepts_answers(response.questionnaire):
        raise NotAccepting
    from .selectors import response_progress

    answers = response_answers(response)  # read under the lock
    progress = response_progress(response, answers=answers)
    if progress.next_domain is not None:
        raise ValidationError(translation.gettext("Some domains still have questions to answer."))
    now = timezone.now()
    response.submitted_at = now
    invitation = response.invitation
    invitation.status, invitation.completed_at = Invitation.Status.COMPLETED, now
    writes = Writes()
    writes.update_fields(response, "submitted_at", "updated_at")
    writes.update_fields(invitation, "status", "completed_at")
    _add_event(writes, invitation, InvitationEvent.Kind.COMPLETED, now)
    writes.run()
    response.answers_as_read = answers  # submitted: they change no more (the thank-you page lists them)
    return response


# --- Researchers' actions on invitations (each audited; every email through the outbox) ----------


def _next_sequence(invitation: Invitation, kind: str) -> int:
    top = OutboxMessage.objects.filter(invitation=invitation, kind=kind).aggregate(top=Max("sequence"))["top"]
    return (top or 0) + 1


def _cancel_pending(invitation: Invitation, reason: str) -> int:
    return OutboxMessage.objects.filter(invitation=invitation, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.CANCELLED, last_error=reason
    )


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor) -> OutboxMessage:
    """Send the invitation again (same personal link) as a new outbox message."""
    invitation = _locked_unerased(invitation)
    if invitation.channel != Invitation.Channel.EMAIL or not invitation.email:
        raise InvitationError(f"{invitation.label} has no email address: it came by a forwarded link")
    if not accepts_answers(invitation.questionnaire):
        raise InvitationError("The questionnaire does not accept answers now: nothing to re-send")
    if not invitation.is_active or invitation.status == Invitation.Status.COMPLETED:
        raise InvitationError(
            f"{invitation.label} is {invitation.get_status_display().lower()}: nothing to re-send"
        )
    if invitation.opted_out_at or is_opted_out(invitation.email):
        raise InvitationError(OPTED_OUT_MESSAGE.format(email=invitation.label))
    if invitation.email_failed_at:
        raise InvitationError(
            f"{invitation.label}'s address failed ({invitation.email_failure}): correct the address first"
        )
    message = invitation_email_queue(
        invitation=invitation,
        questionnaire=invitation.questionnaire,
        sequence=_next_sequence(invitation, OutboxMessage.Kind.INVITATION),
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INVITATION_RESENT,
        target=invitation,
        questionnaire=invitation.questionnaire,
        detail={"sequence": message.sequence},
    )
    return message


@transaction.atomic
def invitation_correct_address(*, invitation: Invitation, email: str, actor) -> OutboxMessage:
    """Replace a wrong or bouncing address and send the invitation to the new one."""
    invitation = _locked_unerased(invitation)
    questionnaire = invitation.questionnaire
    if invitation.opted_out_at:
        # The person asked never to be emailed: a researcher's new address for them does not undo it.
        raise InvitationError(f"{invitation.label} opted out of all email: no address can be corrected")
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvitationError(f"{email!r} is not a valid email address") from None
    questionnaire_lock(questionnaire)  # nobody can invite the new address meanwhile
    if (
        Invitation.objects.filter(questionnaire=questionnaire, email_normalised=normalise_email(email))
        .exclude(pk=invitation.pk)
        .exists()
    ):
        raise InvitationError(f"{email} is already invited to this questionnaire")
    if is_opted_out(email):
        raise InvitationError(OPTED_OUT_MESSAGE.format(email=email))
    _cancel_pending(invitation, "address corrected")
    invitation.email, invitation.email_normalised = email, normalise_email(email)
    invitation.email_failed_at, invitation.email_failure = None, ""
    invitation.save(update_fields=["email", "email_normalised", "email_failed_at", "email_failure"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INVITATION_ADDRESS_CORRECTED,
        target=invitation,
        questionnaire=questionnaire,
    )
    return invitation_resend(invitation=invitation, actor=actor)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """The link stops working (the neutral page), and nothing more is sent; answers already saved stay."""
    invitation = _locked_unerased(invitation)
    if invitation.status == Invitation.Status.REVOKED:
        return invitation
    invitation.status, invitation.revoked_at = Invitation.Status.REVOKED, timezone.now()
    invitation.save(update_fields=["status", "revoked_at"])
    InvitationEvent.objects.create(invitation=invitation, kind=InvitationEvent.Kind.REVOKED)
    _cancel_pending(invitation, "revoked")
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INVITATION_REVOKED,
        target=invitation,
        questionnaire=invitation.questionnaire,
    )
    return invitation


@transaction.atomic
def invitation_mark_bounced(
    *, invitation: Invitation, reason: str, actor, source: str = "marked by hand"
) -> Invitation:
    """A bounce that arrived later (by mail, or from the provider): no more email to the address."""
    invitation = _locked_unerased(invitation)
    reason = (reason.strip() or "bounced")[:250]
    invitation.email_failed_at, invitation.email_failure = timezone.now(), f"{source}: {reason}"[:300]
    invitation.save(update_fields=["email_failed_at", "email_failure"])
    _cancel_pending(invitation, "the address bounces")
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INVITATION_BOUNCED,
        target=invitation,
        questionnaire=invitation.questionnaire,
        detail={"reason": reason, "source": source},
    )
    return invitation
