"""The email outbox: rows written in the deciding transaction, delivered by a task after commit.

A respondent's request must never fail because the broker is down: enqueueing is best effort, and
a row that was not enqueued stays pending in the database until it is (the reminders issue adds the
periodic sweeper that picks such rows up).
"""

from __future__ import annotations

import logging
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from .models import Invitation, OutboxMessage
from .selectors import is_opted_out

logger = logging.getLogger(__name__)


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
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">") or "localhost"
    message = OutboxMessage.objects.create(
        questionnaire_id=invitation.questionnaire_id,
        invitation=invitation,
        kind=kind,
        sequence=sequence,
        key=f"{invitation.pk}:{kind}:{sequence}",
        message_id=make_msgid(idstring=f"{kind}.{invitation.pk}.{sequence}", domain=domain),
        to_email=invitation.email,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
    )
    transaction.on_commit(lambda: outbox_enqueue(message_id=message.pk))
    return message


def outbox_enqueue(*, message_id: int) -> None:
    from .tasks import deliver_outbox_message_task

    try:
        deliver_outbox_message_task.delay(message_id)
    except Exception:  # the broker is unreachable: the row waits in the database
        logger.warning("Could not enqueue outbox message %s; it stays pending", message_id, exc_info=True)


def outbox_deliver(*, message_id: int) -> OutboxMessage | None:
    """Send one queued email. Safe to run twice: a message already sent is skipped.

    The row stays locked while the SMTP server is talked to, so a second delivery of the same
    task (or a decline arriving meanwhile) waits and then finds it sent (or cancelled). Only a
    crash after the server accepted the message and before the commit can send it again, with
    the same Message-ID.
    """
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != OutboxMessage.Status.PENDING:
            return message
        if is_opted_out(message.to_email):  # the last word: whoever queued it, an opt-out wins
            message.status, message.last_error = OutboxMessage.Status.FAILED, "opted out: not sent"
            message.save(update_fields=["status", "last_error"])
            return message
        message.attempts += 1
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to_email],
            headers={"Message-ID": message.message_id, **message.headers},
            connection=get_connection(),
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        try:
            email.send()
        except Exception as error:  # recorded on the row; retries come with the reminders issue
            message.status = OutboxMessage.Status.FAILED
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            message.save(update_fields=["attempts", "status", "last_error"])
            logger.warning("Delivery of outbox message %s failed: %s", message.pk, error)
            return message
        message.status, message.sent_at, message.last_error = OutboxMessage.Status.SENT, timezone.now(), ""
        message.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        if message.kind == OutboxMessage.Kind.INVITATION and message.invitation_id:
            from .services import invitation_mark_emailed

            invitation_mark_emailed(invitation_id=message.invitation_id, at=message.sent_at)
    return message
