"""Bounces and complaints reported later by an email provider, through django-anymail's webhooks.

Each message carries its outbox row's id as metadata (outbox._send), which providers hand back
with their events; a bounce then marks the invitation's address, a complaint or an unsubscribe
through the provider opts the address out, exactly as the researchers' and respondents' own
actions do.
"""

from __future__ import annotations

import logging

from anymail.signals import EventType, tracking
from django.dispatch import receiver

from consultation.numbers import whole_number

from .models import OutboxMessage

logger = logging.getLogger(__name__)


@receiver(tracking, dispatch_uid="respondents.provider_event")
def provider_event(sender, event, esp_name: str, **kwargs) -> None:
    if event.event_type not in (
        EventType.BOUNCED,
        EventType.REJECTED,
        EventType.COMPLAINED,
        EventType.UNSUBSCRIBED,
    ):
        return
    outbox_id = str((event.metadata or {}).get("outbox_id", ""))
    message_id = whole_number(outbox_id)
    message = (
        OutboxMessage.objects.select_related("invitation").filter(pk=message_id).first()
        if message_id is not None
        else None
    )
    if message is None or message.invitation is None:
        logger.info("%s %s event for no message of ours (%s)", esp_name, event.event_type, event.message_id)
        return
    if not message.to_email:
        # A purge or an erasure blanked the message: nothing about that address is recorded again
        # (the services refuse an erased invitation too).
        logger.info(
            "%s %s event for a message whose address was removed: ignored", esp_name, event.event_type
        )
        return
    from .models import normalise_email

    still_its_address = normalise_email(message.to_email) == message.invitation.email_normalised
    if event.event_type in (EventType.COMPLAINED, EventType.UNSUBSCRIBED):
        from .recruitment import opt_out, opt_out_address

        if still_its_address:
            opt_out(invitation=message.invitation)
        else:  # the address was corrected since: the complaint is about the old one
            opt_out_address(message.to_email)
        return
    if not still_its_address:
        return  # a bounce from an address the invitation no longer uses
    from .services import invitation_mark_bounced

    detail = event.mta_response or event.description or event.reject_reason or event.event_type
    invitation_mark_bounced(
        invitation=message.invitation, reason=str(detail), actor=None, source=f"reported by {esp_name}"
    )
