"""The email outbox: rows written in the deciding transaction, delivered by tasks that take row ids.

Nothing waits in Celery: a row is enqueued after commit, and a periodic sweep enqueues whatever is
due again (a retry whose time has come) or was never picked up (a broker that was down, a task that
was lost). Delivery locks the row and skips it unless it is still pending, so a task delivered twice,
or a row swept while its task is still queued, sends once. Long waits live in `next_attempt_at`, not
in Celery countdowns, which Redis's visibility timeout would hand out twice.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Invitation, OutboxMessage, normalise_email
from .selectors import is_opted_out, opted_out_among

logger = logging.getLogger(__name__)

REMINDER_KINDS = (OutboxMessage.Kind.REMINDER, OutboxMessage.Kind.CLOSING)
SWEEP_BATCH = 100


def message_id_for(kind: str, invitation_id: int, sequence: int) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">") or "localhost"
    return make_msgid(idstring=f"{kind}.{invitation_id}.{sequence}", domain=domain)


def outbox_message_create(
    *,
    invitation: Invitation,
    kind: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    sequence: int = 1,
    headers: dict[str, str] | None = None,
) -> OutboxMessage:
    """Queue an email; call inside the transaction that decided to send it."""
    message = OutboxMessage.objects.create(
        questionnaire_id=invitation.questionnaire_id,
        invitation=invitation,
        kind=kind,
        sequence=sequence,
        key=f"{invitation.pk}:{kind}:{sequence}",
        message_id=message_id_for(kind, invitation.pk, sequence),
        to_email=invitation.email,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: outbox_enqueue([message.pk]))
    return message


def outbox_enqueue(message_ids: list[int]) -> None:
    """Hand rows to the workers, in batches. Best effort: if the broker is down they wait in the database."""
    from .tasks import deliver_outbox_messages_task

    for start in range(0, len(message_ids), SWEEP_BATCH):
        batch = message_ids[start : start + SWEEP_BATCH]
        try:
            deliver_outbox_messages_task.delay(batch)
        except Exception:  # the broker is unreachable: the next sweep after it is back picks them up
            logger.warning(
                "Could not enqueue %d outbox message(s); they stay pending", len(batch), exc_info=True
            )
            OutboxMessage.objects.filter(pk__in=batch, status=OutboxMessage.Status.PENDING).update(
                enqueued_at=None
            )


def outbox_sweep(*, now: datetime | None = None, limit: int = 100_000) -> int:
    """Enqueue pending rows that are due and not already handed out recently; returns how many.

    A row handed to the broker is leased for OUTBOX_LEASE_SECONDS: swept again only if it is still
    pending after that (its task was lost, or the worker died). Delivering it twice is harmless.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    due = OutboxMessage.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - lease),
        status=OutboxMessage.Status.PENDING,
    )
    ids = list(due.order_by("id").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    for start in range(0, len(ids), 1000):
        # Still due at this moment (a delivery may have failed meanwhile and set its own retry time).
        due.filter(pk__in=ids[start : start + 1000]).update(enqueued_at=now)
    outbox_enqueue(ids)
    return len(ids)


def outbox_deliver_many(message_ids: Iterable[int]) -> None:
    """Deliver a batch over one SMTP connection (reopened after an error), with one opt-out lookup.

    An opt-out recorded while the batch runs cancels the pending rows under their locks, so the
    status check in outbox_deliver still catches it."""
    message_ids = list(message_ids)
    addresses = OutboxMessage.objects.filter(pk__in=message_ids).values_list("to_email", flat=True)
    opted_out = opted_out_among(addresses)
    connection = get_connection()
    try:
        for message_id in message_ids:
            outbox_deliver(message_id=message_id, connection=connection, opted_out=opted_out)
    finally:
        connection.close()


def outbox_deliver(
    *, message_id: int, now: datetime | None = None, connection=None, opted_out: set[str] | None = None
) -> OutboxMessage | None:
    """Send one queued email. Safe to run twice: a message no longer pending is skipped.

    The row stays locked while the SMTP server is talked to, so a second delivery of the same
    row waits and then finds it sent. Only a crash after the server accepted the message and
    before the commit can send it again, with the same Message-ID.
    """
    now = now or timezone.now()
    with transaction.atomic():
        message = next(
            iter(
                OutboxMessage.objects.select_for_update(of=("self",))
                # A reminder's text reads the response (how far they got); an invitation's is ready.
                .select_related("invitation__questionnaire", "invitation__response")
                .filter(pk=message_id)
                .order_by()[:1]
            ),
            None,
        )
        if message is None or message.status != OutboxMessage.Status.PENDING:
            return message
        if message.next_attempt_at and message.next_attempt_at > now:
            return message  # a retry that is not due yet: an early duplicate task does nothing
        reason = _why_not_send(message, now, opted_out)
        if reason:
            message.status, message.last_error = OutboxMessage.Status.CANCELLED, reason
            message.save(update_fields=["status", "last_error"])
            return message
        if not message.body_text:
            _render(message)
        message.attempts += 1
        try:
            _send(message, connection)
        except Exception as error:
            if connection is not None:
                connection.close()  # a broken session is not reused for the next message
            _record_failure(message, error, now)
            return message
        message.status, message.sent_at, message.last_error = OutboxMessage.Status.SENT, now, ""
        message.next_attempt_at = None
        message.save(
            update_fields=[
                "attempts", "status", "sent_at", "last_error", "next_attempt_at",
                "subject", "body_text", "body_html", "headers",
            ]
        )  # fmt: skip
        if message.invitation_id:
            _after_sent(message)
    return message


def _why_not_send(message: OutboxMessage, now: datetime, opted_out: set[str] | None) -> str:
    """A reason to drop the message instead of sending it, or "" to send it."""
    # The last word: whoever queued it, an opt-out wins (looked up for the whole batch, if given).
    if opted_out is None:
        opted_out = {normalise_email(message.to_email)} if is_opted_out(message.to_email) else set()
    if normalise_email(message.to_email) in opted_out:
        return "opted out"
    invitation = message.invitation
    if invitation is None:
        return ""
    if invitation.status in (Invitation.Status.DECLINED, Invitation.Status.REVOKED, Invitation.Status.ERASED):
        return invitation.status
    if invitation.email_failed_at is not None:
        return "the address failed permanently"
    if message.kind in REMINDER_KINDS:
        from .services import accepts_answers

        if invitation.status == Invitation.Status.COMPLETED:
            return "completed"
        if not accepts_answers(invitation.questionnaire, now):
            return "the questionnaire no longer accepts answers"
    return ""


def _render(message: OutboxMessage) -> None:
    from .emails import email_render

    email = email_render(message.invitation, message.kind)
    message.subject, message.body_text, message.body_html = email.subject, email.body_text, email.body_html
    message.headers = {**email.headers, **message.headers}


def _send(message: OutboxMessage, connection=None) -> None:
    headers = {"Message-ID": message.message_id, **message.headers}
    if settings.EMAIL_REPLY_TO:
        headers.setdefault("Reply-To", settings.EMAIL_REPLY_TO)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers=headers,
        connection=connection or get_connection(),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    # Sent on by django-anymail's backends (ignored by SMTP); providers return it with their events.
    email.metadata = {"outbox_id": str(message.pk)}
    if connection is not None:
        connection.open()  # opened by us, so send() keeps it open for the rest of the batch
    email.send()


def smtp_failure(error: Exception) -> tuple[bool, str]:
    """(permanent, reason). 5xx refusals of the recipient or the message are permanent; the rest
    (4xx, refused connections, time-outs, a sender or login refused: our configuration, not the
    address) are worth retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, text = next(iter(error.recipients.values()))
        return code >= 500, f"{code} {_text(text)}"
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return False, f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500, f"{error.smtp_code} {_text(error.smtp_error)}"
    return False, f"{type(error).__name__}: {error}"


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base ... capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def _record_failure(message: OutboxMessage, error: Exception, now: datetime) -> None:
    permanent, reason = smtp_failure(error)
    message.last_error = reason[:2000]
    if permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        message.status, message.next_attempt_at = OutboxMessage.Status.FAILED, None
        if not permanent:
            message.last_error = f"gave up after {message.attempts} attempts: {message.last_error}"[:2000]
    else:
        message.next_attempt_at = now + retry_delay(message.attempts)
    message.enqueued_at = None  # its task is over: the sweep may hand it out as soon as it is due
    message.save(update_fields=["attempts", "status", "last_error", "next_attempt_at", "enqueued_at"])
    logger.warning("Delivery of outbox message %s failed (%s): %s", message.pk, message.status, reason)
    if permanent and message.invitation_id:
        # The address itself is refused: no more mail to it for this invitation, and researchers see why.
        Invitation.objects.filter(pk=message.invitation_id, email_failed_at__isnull=True).update(
            email_failed_at=now, email_failure=reason[:300]
        )


def _after_sent(message: OutboxMessage) -> None:
    if message.kind == OutboxMessage.Kind.INVITATION:
        from .services import invitation_mark_emailed

        invitation_mark_emailed(invitation_id=message.invitation_id, at=message.sent_at)
