"""Synthetic consultations for demos and scale tests: invitations in chains across countries,
partial and complete responses with valid answers, reminders and open answers, by bulk inserts.

Deterministic for a given random seed. Answers follow the questionnaire's own rules (the engine
decides what is visible), so dashboards, results and exports read them as real ones.
"""

from __future__ import annotations

import json
import random
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from questionnaires.engine.conditions import evaluate
from questionnaires.engine.definition import Definition, QuestionDef, QuestionType
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition

from .models import (
    Answer,
    AnswerCopy,
    Invitation,
    InvitationEvent,
    Nomination,
    OutboxMessage,
    Response,
    Selection,
)
from .services import _selections

# The study's fifteen countries, with the language their officials would be invited in.
COUNTRIES = {
    "AU": "en", "BE": "fr", "CA": "en", "DK": "en", "FR": "fr", "DE": "en", "IE": "en", "IT": "en",
    "NL": "en", "NZ": "en", "NO": "en", "ES": "en", "SE": "en", "GB": "en", "US": "en",
}  # fmt: skip
OPEN_ANSWERS = (
    "Separate units for leaders, with mixed units for the rest.",
    "Staff awareness training at every level, refreshed each year.",
    "Intelligence sharing between sites has improved classification.",
    "Mentoring by former offenders, under close supervision.",
    "Community partners are involved well before release.",
    "Not enough specialised staff for individual assessment.",
)
CHUNK = 2000
FILLED = (Invitation, InvitationEvent, Nomination, OutboxMessage, Response, Answer, Selection, AnswerCopy)
# How long a bulk load waits for its table locks before giving up (rather than queueing every other
# session behind it).
BULK_LOAD_LOCK_TIMEOUT = "5s"
# Snowball studies stop after a few waves; beyond it, new seeds start new chains.
DEEPEST_WAVE = 5


@dataclass
class Person:
    invitation: Invitation
    outcome: str  # completed, partial, consented, declined, opted_out, bounced, silent
    nominations: int = 0
    reminders: list[datetime] = field(default_factory=list)


@contextmanager
def _own_timestamps():
    """Let bulk inserts keep the simulated creation times instead of now."""
    field = Invitation._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


@contextmanager
def _bulk_load(*, enabled: bool):
    """Checks the simulated rows' foreign keys, and builds the tables' plain indexes, once, after
    every row is written (asked for with bulk_load, on PostgreSQL).

    Row by row, PostgreSQL's foreign-key checks and index inserts took longer than writing the rows.
    Its own advice for bulk loads ("Populating a Database") is to drop both and add them back: adding
    a key checks every row in one join, and building an index sorts once. The same keys and indexes,
    by name and definition, come back before the transaction commits, so no other session ever sees
    a table without them. The price: until the run commits, the filled tables and the ones their keys
    point to (questionnaires and questions) are locked, so every other session waits; hence never
    beside real respondents, and a lock that cannot be had within BULK_LOAD_LOCK_TIMEOUT fails the
    run instead of queueing everyone behind it. A row that breaks a key makes the ALTER fail, and the
    whole run is rolled back. Unique indexes stay, so a duplicate still fails on its row.
    """
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in FILLED]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY conrelid, conname",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisunique"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY c.relname",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(f"SET LOCAL lock_timeout = '{BULK_LOAD_LOCK_TIMEOUT}'")
        # Rows this transaction wrote before still have their checks queued, and PostgreSQL alters no
        # table with checks pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {_quoted(table)} DROP CONSTRAINT {_quoted(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quoted(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {_quoted(table)} ADD CONSTRAINT {_quoted(name)} {definition}")
        # Back to checking at commit, the mode Django declares every key with (INITIALLY DEFERRED).
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables:  # the planner's statistics, as autovacuum would later
            cursor.execute(f"ANALYZE {_quoted(table)}")


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _outcome(rng: random.Random) -> str:
    return rng.choices(
        ["completed", "partial", "consented", "declined", "opted_out", "bounced", "silent"],
        weights=[52, 14, 6, 8, 2, 2, 16],
    )[0]


def simulate_consultation(
    questionnaire: Questionnaire,
    *,
    respondents: int,
    seed: int,
    days: int = 30,
    now: datetime | None = None,
    bulk_load: bool = False,
) -> int:
    """Add `respondents` invitations (about one seed in eight) with their responses; returns how many.

    bulk_load (PostgreSQL, for large runs on a database of their own) checks keys and builds indexes
    once at the end, locking the tables meanwhile: see _bulk_load.
    """
    rng = random.Random(seed)
    now = now or timezone.now()
    definition = questionnaire_definition(questionnaire)
    ids = question_ids(questionnaire)
    last = Invitation.objects.filter(questionnaire=questionnaire).order_by("-number").first()
    people = _plan(
        questionnaire, respondents, last.number if last else 0, rng, now - timedelta(days=days), now
    )
    # One transaction: a run is written whole or not at all.
    with transaction.atomic(), _bulk_load(enabled=bulk_load):
        _write(questionnaire, definition, ids, people, rng)
    return len(people)


def _write(questionnaire, definition: Definition, ids, people: list[Person], rng: random.Random) -> None:
    with _own_timestamps():
        # Wave by wave, so every nominator (and chain seed) has its id before its nominees are written.
        for wave in sorted({person.invitation.wave for person in people}):
            of_wave = [person.invitation for person in people if person.invitation.wave == wave]
            for index in range(0, len(of_wave), CHUNK):
                _insert_objects(Invitation, of_wave[index : index + CHUNK])
    for index in range(0, len(people), CHUNK):
        chunk = people[index : index + CHUNK]
        _insert(
            InvitationEvent,
            ("invitation", "kind", "at", "detail"),
            [(p.invitation.pk, InvitationEvent.Kind.CREATED, p.invitation.created_at, {}) for p in chunk],
        )
        _insert(
            Nomination,
            ("nominator", "outcome", "invitation", "created_at"),
            [
                (
                    p.invitation.nominated_by.pk,
                    Nomination.Outcome.INVITED,
                    p.invitation.pk,
                    p.invitation.created_at,
                )
                for p in chunk
                if p.invitation.nominated_by is not None
            ],
        )
        _reminders(questionnaire, chunk)
        _responses(questionnaire, definition, ids, chunk, rng)


def _plan(
    questionnaire, count: int, number: int, rng: random.Random, start: datetime, now: datetime
) -> list[Person]:
    """Who is invited by whom, from where, and how far each one went; nothing written yet."""
    quota = max(1, questionnaire.nomination_quota)
    # First in, first out: whoever took part earliest nominates first, so chains grow wave by wave
    # (a handful of waves deep, as in the study) rather than down one long line.
    nominators: deque[Person] = deque()
    people: list[Person] = []
    for offset in range(1, count + 1):
        nominator = None if not nominators or rng.random() < 0.125 else nominators[0]
        if nominator is not None:
            parent = nominator.invitation
            country = parent.country if rng.random() < 0.7 else rng.choice(list(COUNTRIES))
            created = min(
                now,
                (parent.completed_at or parent.declined_at or start) + timedelta(hours=rng.uniform(1, 72)),
            )
        else:
            country = rng.choice(list(COUNTRIES))
            created = start + timedelta(hours=rng.uniform(0, 72))
        language = COUNTRIES.get(country, "en")
        invitation = Invitation(
            questionnaire=questionnaire,
            number=number + offset,
            email=f"official{number + offset}@example.gov",
            email_normalised=f"official{number + offset}@example.gov",
            name=f"Official {number + offset}",
            country=country,
            language=language if language in questionnaire.languages else questionnaire.default_language,
            wave=nominator.invitation.wave + 1 if nominator else 0,
            nominated_by=nominator.invitation if nominator else None,
            seed=(nominator.invitation.seed or nominator.invitation) if nominator else None,
            created_at=created,
            emailed_at=min(now, created + timedelta(minutes=rng.uniform(1, 30))),
        )
        person = Person(invitation, _outcome(rng))
        _lifecycle(invitation, person.outcome, rng, now)
        person.reminders = _plan_reminders(questionnaire, invitation, now)
        if nominator is not None:
            nominator.nominations += 1
            # Most people suggest one or two colleagues, few use the whole quota.
            if nominator.nominations >= quota or rng.random() < 0.45:
                nominators.popleft()
        if person.outcome in ("completed", "declined") and invitation.wave < DEEPEST_WAVE:
            nominators.append(person)
        people.append(person)
    return people


def _lifecycle(invitation: Invitation, outcome: str, rng: random.Random, now: datetime) -> None:
    """Statuses and times as the invitee went (or did not go) through the questionnaire."""
    emailed = invitation.emailed_at
    later = lambda low, high: min(now, emailed + timedelta(hours=rng.uniform(low, high)))  # noqa: E731
    invitation.status = Invitation.Status.EMAILED
    if outcome == "bounced":
        invitation.emailed_at, invitation.status = None, Invitation.Status.CREATED
        invitation.email_failed_at, invitation.email_failure = (
            emailed,
            "550 5.1.1 no such mailbox (simulated)",
        )
    elif outcome == "opted_out":
        invitation.status, invitation.declined_at, invitation.opted_out_at = (
            Invitation.Status.DECLINED, later(1, 48), later(1, 48),
        )  # fmt: skip
    elif outcome == "declined":
        invitation.status, invitation.declined_at = Invitation.Status.DECLINED, later(1, 96)
    elif outcome in ("consented", "partial", "completed"):
        invitation.consented_at = later(1, 240)
        invitation.consent_version = 1
        invitation.status = Invitation.Status.CONSENTED
        # Never in the future, always in order: consented <= started <= completed <= now.
        if outcome in ("partial", "completed"):
            invitation.started_at = min(now, invitation.consented_at + timedelta(minutes=1))
            invitation.status = Invitation.Status.STARTED
        if outcome == "completed":
            invitation.completed_at = min(now, invitation.started_at + timedelta(minutes=rng.uniform(10, 90)))
            invitation.status = Invitation.Status.COMPLETED


def _plan_reminders(questionnaire, invitation: Invitation, now: datetime) -> list[datetime]:
    """When reminders went out to someone who took a week or more; counted on the invitation before
    it is written, so no update follows."""
    if invitation.emailed_at is None or invitation.opted_out_at:
        return []
    finished = invitation.completed_at or invitation.declined_at or now
    moments = []
    for after in questionnaire.reminder_days[: questionnaire.reminder_limit]:
        moment = invitation.emailed_at + timedelta(days=after)
        if moment >= finished:
            break
        moments.append(moment)
    if moments:
        invitation.reminders_sent, invitation.last_reminded_at = len(moments), moments[-1]
    return moments


def _reminders(questionnaire, people: list[Person]) -> None:
    """The outbox rows of those reminders, marked sent as delivered."""
    _insert_objects(
        OutboxMessage,
        [
            OutboxMessage(
                questionnaire=questionnaire,
                invitation=person.invitation,
                kind=OutboxMessage.Kind.REMINDER,
                sequence=sent,
                key=f"{person.invitation.pk}:reminder:{sent}",
                message_id=f"<reminder.{person.invitation.pk}.{sent}.simulated@example.gov>",
                to_email=person.invitation.email,
                status=OutboxMessage.Status.SENT,
                attempts=1,
                sent_at=moment,
            )
            for person in people
            for sent, moment in enumerate(person.reminders, start=1)
        ],
    )


def _responses(questionnaire, definition: Definition, ids, people: list[Person], rng: random.Random) -> None:
    responses, answers, selections = [], [], []
    for person in people:
        invitation = person.invitation
        if person.outcome not in ("consented", "partial", "completed"):
            continue
        # Answers are given in order and only to visible questions, and conditions look only
        # backwards: `values` is its own set of effective answers, no routing pass needed.
        values: dict = {}
        completed_domains: list[str] = []
        stop = len(definition.domains)
        if person.outcome == "partial":
            stop = rng.randint(1, max(1, len(definition.domains) - 1))
        elif person.outcome == "consented":
            stop = 0
        for domain in definition.domains:
            if len(completed_domains) >= stop:
                break
            if not evaluate(domain.condition, values):
                continue
            for question in domain.questions:
                if evaluate(question.condition, values):
                    values[question.code] = _answer(question, invitation, rng)
            completed_domains.append(domain.code)
        response = Response(
            invitation=invitation,
            questionnaire=questionnaire,
            language=invitation.language,
            completed_domains=completed_domains,
            last_domain=completed_domains[-1] if completed_domains else "",
            started_at=invitation.started_at,
            submitted_at=invitation.completed_at,
        )
        responses.append((response, values))
    _insert_objects(Response, [response for response, _ in responses])
    saved_at = timezone.now()
    for response, values in responses:
        for question in definition.questions:
            if question.code not in values:
                continue
            value = values[question.code]
            question_id = ids[question.code]
            number = Decimal(value) if question.type is QuestionType.NUMBER else None
            answers.append((response.pk, question_id, value, "", number, saved_at))
            selections.extend(
                (response.pk, question_id, item, code, rank)
                for item, code, rank in _selections(question.type, value)
            )
    _insert(Answer, ("response", "question", "value", "other_text", "number", "saved_at"), answers)
    _insert(Selection, ("response", "question", "item", "code", "rank"), selections)


def _insert(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Many rows at once: COPY on PostgreSQL (millions of answers in seconds), bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        names = [model._meta.get_field(name).attname for name in fields]
        model.objects.bulk_create(
            (model(**dict(zip(names, row, strict=True))) for row in rows), batch_size=5000
        )
        return
    _copy(model, [model._meta.get_field(name) for name in fields], rows)


def _insert_objects(model, objects: list) -> None:
    """Model instances at once, each given its id. On PostgreSQL by COPY, with ids drawn from the
    table's sequence first (COPY returns none), since bulk_create's parameters cost more in Python
    than the database takes to store the rows."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=CHUNK)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, len(objects)],
        )
        for instance, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            instance.pk = pk
    fields = model._meta.concrete_fields
    for stamped in fields:
        if getattr(stamped, "auto_now", False) or getattr(stamped, "auto_now_add", False):
            for instance in objects:
                if getattr(instance, stamped.attname) is None:
                    stamped.pre_save(instance, add=True)
    rows = (tuple(_column_value(instance, column) for column in fields) for instance in objects)
    _copy(model, list(fields), rows)


def _column_value(instance, field):
    if field.is_relation and field.is_cached(instance):
        # An object assigned before it had its id: the id it has now.
        related = field.get_cached_value(instance)
        return None if related is None else related.pk
    return getattr(instance, field.attname)


def _copy(model, fields: list, rows) -> None:
    """Rows of values for `fields`, by COPY; JSON values go as JSON text, which jsonb reads, cheaper
    than an adapter object per cell."""
    from psycopg.copy import QueuedLibpqWriter

    json_at = {index for index, field in enumerate(fields) if field.get_internal_type() == "JSONField"}
    if json_at:
        rows = (
            tuple(json.dumps(value) if index in json_at else value for index, value in enumerate(row))
            for row in rows
        )
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
        # Rows are formatted here while the database stores the ones already sent.
        with cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
            for row in rows:
                copy.write_row(row)


def _answer(question: QuestionDef, invitation: Invitation, rng: random.Random):
    """A valid answer of the question's type, with the spread a real consultation shows."""
    options = [option.code for option in question.options if not option.is_other]
    kind = question.type
    if kind is QuestionType.COUNTRY:
        return invitation.country if rng.random() < 0.95 else rng.choice(list(COUNTRIES))
    if kind in (QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT):
        return rng.choice(OPEN_ANSWERS)
    if kind.takes_one_code:
        return rng.choice(options)
    if kind is QuestionType.MULTIPLE_CHOICE:
        most = question.max_choices or len(options)
        chosen = set(
            rng.sample(options, rng.randint(max(1, question.min_choices or 1), min(most, len(options))))
        )
        return [code for code in options if code in chosen]  # in the questionnaire's order, as stored
    if kind is QuestionType.NUMBER:
        low = int(question.min_value if question.min_value is not None else 0)
        high = int(question.max_value if question.max_value is not None else low + 50)
        return str(rng.randint(low, high))
    if kind is QuestionType.RANKING:
        items = [item.code for item in question.items]
        rng.shuffle(items)
        return items
    return {item.code: rng.choice(options) for item in question.items}  # a matrix
