"""Reminders: who is due, and queuing them in a few set-based statements, however many invitations.

A questionnaire's scan holds its row lock, so two scans at once queue each reminder once; each
outbox row's unique key (invitation:kind:number) is the second guard. Messages are rendered when
delivered, so 20,000 reminders cost 20,000 small rows here, not 20,000 template renderings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from consultation.audit import audit_record
from consultation.models import AuditEntry
from questionnaires.models import Questionnaire

from .models import Invitation, OutboxMessage
from .outbox import message_id_for, outbox_sweep
from .services import accepts_answers, questionnaire_lock

logger = logging.getLogger(__name__)

CHUNK = 2000
# A closing-soon reminder needs the invitation (or the last reminder) to be at least this old.
CLOSING_QUIET = timedelta(days=1)


@dataclass(frozen=True)
class Batch:
    kind: str
    number: int  # which scheduled reminder (1, 2 …); 1 for closing soon
    why: str
    invitations: QuerySet[Invitation]


def mail_window_open(questionnaire: Questionnaire, now: datetime) -> bool:
    """Within the questionnaire's mail hours and weekdays, in its own time zone."""
    local = now.astimezone(questionnaire.zone)
    first, end = questionnaire.mail_hours
    return local.weekday() in questionnaire.mail_weekdays and first <= local.hour < end


def not_now_reason(questionnaire: Questionnaire, now: datetime) -> str:
    """Why this questionnaire sends no reminder at all at `now`, or ""."""
    if not accepts_answers(questionnaire, now):
        return "the questionnaire does not accept answers now"
    if questionnaire.reminder_limit == 0:
        return "reminders are turned off (limit 0)"
    if not mail_window_open(questionnaire, now):
        first, end = questionnaire.mail_hours
        zone = questionnaire.time_zone
        return f"outside the mail hours ({first}:00-{end}:00 {zone}, weekdays {questionnaire.mail_weekdays})"
    return ""


def remindable(questionnaire: Questionnaire) -> QuerySet[Invitation]:
    """Emailed, not finished, not declined, not revoked, address neither failed nor opted out."""
    return Invitation.objects.filter(
        questionnaire=questionnaire,
        channel=Invitation.Channel.EMAIL,
        status__in=[Invitation.Status.EMAILED, Invitation.Status.CONSENTED, Invitation.Status.STARTED],
        emailed_at__isnull=False,
        email_failed_at__isnull=True,
        opted_out_at__isnull=True,
    )


def due_batches(questionnaire: Questionnaire, now: datetime) -> Iterator[Batch]:
    """The scheduled reminders, one batch per number, then closing soon. Lazy: each batch is read
    after the previous one was queued, so an invitation reminded now is not also told "closing soon"."""
    days = list(questionnaire.reminder_days)
    limit = questionnaire.reminder_limit
    base = remindable(questionnaire)
    for number, after in enumerate(days[:limit], start=1):
        gap = after - days[number - 2] if number > 1 else after
        yield Batch(
            kind=OutboxMessage.Kind.REMINDER,
            number=number,
            why=f"reminder {number}: invited {after} or more days ago",
            invitations=base.filter(
                Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - timedelta(days=gap)),
                reminders_sent=number - 1,
                emailed_at__lte=now - timedelta(days=after),
            ),
        )
    closes_at, closing_days = questionnaire.closes_at, questionnaire.closing_reminder_days
    if closing_days and closes_at and closes_at - timedelta(days=closing_days) <= now < closes_at:
        yield Batch(
            kind=OutboxMessage.Kind.CLOSING,
            number=1,
            why=f"closing soon: closes {closes_at.astimezone(questionnaire.zone):%Y-%m-%d %H:%M}",
            invitations=base.filter(
                Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - CLOSING_QUIET),
                closing_reminder_sent=False,
                reminders_sent__lt=limit,
                emailed_at__lte=now - CLOSING_QUIET,
            ),
        )


def reminders_queue(questionnaire: Questionnaire, *, now: datetime | None = None) -> int:
    """Queue every reminder now due for this questionnaire; returns how many. Safe to run at any time."""
    now = now or timezone.now()
    if not_now_reason(questionnaire, now):
        return 0
    queued = 0
    with transaction.atomic():
        questionnaire_lock(questionnaire)  # two scans at once: the second finds nothing left to do
        for batch in due_batches(questionnaire, now):
            queued += _queue_batch(questionnaire, batch, now)
        if queued:
            transaction.on_commit(outbox_sweep)
    if queued:
        logger.info("Queued %d reminder(s) for %s", queued, questionnaire.slug)
    return queued


def _queue_batch(questionnaire: Questionnaire, batch: Batch, now: datetime, once: bool = False) -> int:
    """Queue the batch in chunks; the counters it updates take each invitation out of the batch,
    except in a one-off batch (`once`), which is read a single time."""
    queued = 0
    while True:
        rows = list(batch.invitations.order_by("pk").values_list("pk", "email", "reminders_sent")[:CHUNK])
        if not rows:
            return queued
        messages = []
        for pk, email, sent in rows:
            sequence = sent + 1 if batch.kind == OutboxMessage.Kind.REMINDER else 1
            messages.append(
                OutboxMessage(
                    questionnaire_id=questionnaire.pk,
                    invitation_id=pk,
                    kind=batch.kind,
                    sequence=sequence,
                    key=f"{pk}:{batch.kind}:{sequence}",
                    message_id=message_id_for(batch.kind, pk, sequence),
                    to_email=email,
                )
            )
        OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
        counters = {"reminders_sent": F("reminders_sent") + 1, "last_reminded_at": now}
        if batch.kind == OutboxMessage.Kind.CLOSING:
            counters["closing_reminder_sent"] = True
        Invitation.objects.filter(pk__in=[row[0] for row in rows]).update(**counters)
        queued += len(rows)
        if once:
            return queued


@transaction.atomic
def reminders_send_now(*, questionnaire: Questionnaire, invitation_ids: list[int], actor) -> int:
    """A researcher's "remind now" for a selection: whoever of it may still be reminded, at once
    (mail hours aside: a person chose to send now). Counts like a scheduled reminder, within the
    limit, and never on top of one still waiting or one sent in the last day (a second click)."""
    if not accepts_answers(questionnaire):
        return 0
    questionnaire_lock(questionnaire)
    now = timezone.now()
    waiting = OutboxMessage.objects.filter(
        invitation=OuterRef("pk"),
        kind__in=[OutboxMessage.Kind.REMINDER, OutboxMessage.Kind.CLOSING],
        status=OutboxMessage.Status.PENDING,
    )
    batch = Batch(
        kind=OutboxMessage.Kind.REMINDER,
        number=0,
        why="sent now by a researcher",
        invitations=remindable(questionnaire)
        .filter(pk__in=invitation_ids, reminders_sent__lt=questionnaire.reminder_limit)
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - CLOSING_QUIET))
        .exclude(Exists(waiting)),
    )
    queued = _queue_batch(questionnaire, batch, now, once=True)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REMINDERS_SENT,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"asked": len(invitation_ids), "queued": queued},
    )
    if queued:
        transaction.on_commit(outbox_sweep)
    return queued


def reminders_scan_all(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(
        reminders_queue(questionnaire, now=now)
        for questionnaire in Questionnaire.objects.filter(status=Questionnaire.Status.OPEN)
    )


@dataclass(frozen=True)
class PreviewLine:
    label: str
    kind: str
    why: str


def reminders_preview(
    questionnaire: Questionnaire, *, now: datetime | None = None, limit: int | None = None
) -> tuple[str, list[PreviewLine]]:
    """What a scan would queue now, and why; changes nothing (for `send_reminders --dry-run`)."""
    now = now or timezone.now()
    reason = not_now_reason(questionnaire, now)
    if reason:
        return reason, []
    lines, seen = [], set()
    for batch in due_batches(questionnaire, now):
        invitations = batch.invitations.order_by("number").only("number", "emailed_at")
        for invitation in invitations if limit is None else invitations[: limit + len(seen)]:
            if invitation.pk in seen:
                continue  # reminded by an earlier batch of the same scan
            seen.add(invitation.pk)
            lines.append(
                PreviewLine(
                    label=invitation.label,
                    kind=batch.kind,
                    why=f"{batch.why} (invited {invitation.emailed_at:%Y-%m-%d})",
                )
            )
    return "", lines if limit is None else lines[:limit]


def reminders_due_count(questionnaire: Questionnaire, *, now: datetime | None = None) -> int:
    """How many invitations a scan would remind now, in one query (for the settings page)."""
    now = now or timezone.now()
    if not_now_reason(questionnaire, now):
        return 0
    due = Q(pk__in=[])
    for batch in due_batches(questionnaire, now):
        due |= Q(pk__in=batch.invitations.values("pk"))
    return Invitation.objects.filter(due).count()
