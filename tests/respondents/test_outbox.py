"""Delivery: temporary failures wait and retry, permanent ones fail at once and mark the address."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from respondents.models import Invitation, OutboxMessage
from respondents.outbox import outbox_deliver, outbox_enqueue, outbox_sweep, retry_delay, smtp_failure
from respondents.services import seed_invite

pytestmark = pytest.mark.django_db


class ScriptedBackend(BaseEmailBackend):
    """Raises the scripted errors in turn, then delivers to django.core.mail.outbox."""

    script: list[Exception] = []

    def send_messages(self, messages):
        if ScriptedBackend.script:
            raise ScriptedBackend.script.pop(0)
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def scripted(settings):
    settings.EMAIL_BACKEND = "tests.respondents.test_outbox.ScriptedBackend"
    ScriptedBackend.script = []
    mail.outbox = []
    return ScriptedBackend.script


@pytest.fixture
def pending(open_questionnaire, django_capture_on_commit_callbacks):
    """An invitation whose email is in the outbox, not yet delivered."""
    with django_capture_on_commit_callbacks(execute=False):
        invitation = seed_invite(questionnaire=open_questionnaire, email="ana@example.gov", actor=None)
    return OutboxMessage.objects.get(invitation=invitation)


def refused(code: int) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({"ana@example.gov": (code, b"mailbox says no")})


@pytest.mark.parametrize(
    "error, permanent",
    [
        (refused(550), True),
        (refused(451), False),
        (smtplib.SMTPDataError(554, b"rejected"), True),
        (smtplib.SMTPDataError(451, b"try later"), False),
        (smtplib.SMTPSenderRefused(553, b"bad sender", "us@example.org"), False),  # our setup, not theirs
        (smtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError(111, "refused"), False),
        (TimeoutError("timed out"), False),
    ],
)
def test_failures_are_classified(error, permanent):
    assert smtp_failure(error)[0] is permanent


def test_a_temporary_failure_waits_with_backoff_then_the_message_goes_once(pending, scripted):
    scripted.extend([refused(451), refused(451)])
    now = timezone.now()
    outbox_deliver(message_id=pending.pk, now=now)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("pending", 1)
    assert pending.next_attempt_at == now + timedelta(seconds=60)
    # A duplicate task before the retry is due does nothing.
    outbox_deliver(message_id=pending.pk, now=now + timedelta(seconds=30))
    pending.refresh_from_db()
    assert pending.attempts == 1
    outbox_deliver(message_id=pending.pk, now=pending.next_attempt_at)
    pending.refresh_from_db()
    assert pending.attempts == 2 and pending.next_attempt_at == now + timedelta(seconds=60 + 120)
    outbox_deliver(message_id=pending.pk, now=pending.next_attempt_at)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, len(mail.outbox)) == ("sent", 3, 1)
    assert mail.outbox[0].extra_headers["Message-ID"] == pending.message_id


def test_a_permanent_failure_fails_at_once_and_marks_the_address(pending, scripted):
    scripted.append(refused(550))
    outbox_deliver(message_id=pending.pk)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("failed", 1)
    assert pending.last_error == "550 mailbox says no"
    invitation = Invitation.objects.get(pk=pending.invitation_id)
    assert invitation.email_failed_at is not None and invitation.email_failure == "550 mailbox says no"


def test_every_retry_failing_ends_in_failed(pending, scripted, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    scripted.extend([refused(451)] * 3)
    now = timezone.now()
    for _ in range(3):
        outbox_deliver(message_id=pending.pk, now=now)
        now += timedelta(days=1)
    pending.refresh_from_db()
    assert pending.status == "failed" and pending.last_error.startswith("gave up after 3 attempts")
    assert Invitation.objects.get(pk=pending.invitation_id).email_failed_at is None  # not the address's fault


def test_backoff_is_capped(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 60, 3600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 8)] == [60, 120, 240, 3600, 3600]


def test_a_broker_that_is_down_leaves_rows_for_the_sweep(pending, monkeypatch):
    from respondents import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.deliver_outbox_messages_task, "delay", broker_down)
    outbox_enqueue([pending.pk])  # logged, not raised
    pending.refresh_from_db()
    assert pending.status == "pending" and pending.enqueued_at is None
    monkeypatch.undo()
    assert outbox_sweep() == 1  # eager: delivered by the sweep at once
    pending.refresh_from_db()
    assert pending.status == "sent"


# --- a provider's later reports, through django-anymail's tracking webhooks ------------------------


def test_messages_carry_their_outbox_id_for_the_providers_events(pending, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []
    outbox_deliver(message_id=pending.pk)
    assert mail.outbox[0].anymail_test_params["metadata"] == {"outbox_id": str(pending.pk)}


def provider_reports(event_type: str, pending, **fields) -> None:
    from anymail.signals import AnymailTrackingEvent, tracking

    event = AnymailTrackingEvent(event_type=event_type, metadata={"outbox_id": str(pending.pk)}, **fields)
    tracking.send(sender=object, event=event, esp_name="Mailgun")


def test_a_bounce_reported_later_marks_the_address(pending):
    provider_reports("bounced", pending, mta_response="550 5.1.1 mailbox unavailable")
    invitation = Invitation.objects.get(pk=pending.invitation_id)
    assert invitation.email_failure == "reported by Mailgun: 550 5.1.1 mailbox unavailable"


def test_a_complaint_reported_later_opts_the_address_out(pending):
    from respondents.selectors import is_opted_out

    provider_reports("complained", pending)
    assert is_opted_out("ana@example.gov")


def test_other_events_and_unknown_messages_change_nothing(pending):
    from anymail.signals import AnymailTrackingEvent, tracking

    provider_reports("delivered", pending)
    tracking.send(
        sender=object,
        event=AnymailTrackingEvent(event_type="bounced", metadata={"outbox_id": "not-ours"}),
        esp_name="Mailgun",
    )
    invitation = Invitation.objects.get(pk=pending.invitation_id)
    assert invitation.email_failed_at is None and invitation.opted_out_at is None


def test_a_late_report_about_a_corrected_address_touches_only_the_old_address(pending):
    from respondents.selectors import is_opted_out

    Invitation.objects.filter(pk=pending.invitation_id).update(
        email="ana.new@example.gov", email_normalised="ana.new@example.gov"
    )
    provider_reports("bounced", pending, mta_response="550 gone")
    provider_reports("complained", pending)
    invitation = Invitation.objects.get(pk=pending.invitation_id)
    assert invitation.email_failed_at is None and invitation.opted_out_at is None
    assert is_opted_out("ana@example.gov") and not is_opted_out("ana.new@example.gov")


def test_late_reports_about_an_erased_invitation_write_nothing_about_the_person(pending, researcher):
    from respondents.models import InvitationEvent
    from respondents.privacy import respondent_erase

    respondent_erase(invitation=pending.invitation, actor=researcher)
    provider_reports("bounced", pending, mta_response="550 5.1.1 <ana@example.gov> unknown")
    provider_reports("complained", pending)

    invitation = Invitation.objects.get(pk=pending.invitation_id)
    assert (invitation.email_failed_at, invitation.email_failure, invitation.status) == (None, "", "erased")
    assert not InvitationEvent.objects.filter(invitation=invitation, kind="opted_out").exists()


def test_late_reports_after_a_purge_write_nothing_about_the_person(pending, researcher):
    from consultation.models import AuditEntry
    from respondents.models import InvitationEvent
    from respondents.privacy import personal_data_purge

    questionnaire = pending.invitation.questionnaire
    questionnaire.status = "closed"
    questionnaire.save(update_fields=["status"])
    personal_data_purge(questionnaire=questionnaire, actor=researcher)
    provider_reports("bounced", pending, mta_response="550 5.1.1 <ana@example.gov> unknown")
    provider_reports("complained", pending)

    invitation = Invitation.objects.get(pk=pending.invitation_id)
    assert (invitation.email_failed_at, invitation.email_failure) == (None, "")
    assert not InvitationEvent.objects.filter(invitation=invitation, kind="opted_out").exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.INVITATION_BOUNCED).exists()
