"""Researchers re-send, correct, revoke, mark bounces, remind now and set the reminder policy."""

import pytest
from django.core import mail
from django.test import Client

from consultation.models import AuditEntry
from questionnaires.services import membership_set
from respondents.models import Invitation, OutboxMessage
from respondents.services import response_decline, seed_invite
from tests.factories import QuestionnaireFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(open_questionnaire, client_for):
    user = UserFactory()
    membership_set(questionnaire=open_questionnaire, user=user, role="researcher", actor=None)
    return client_for(user)


def url(questionnaire, invitation, action: str = "") -> str:
    return f"/q/{questionnaire.slug}/invitations/{invitation.number}/" + (f"{action}/" if action else "")


def audited(action) -> int:
    return AuditEntry.objects.filter(action=action).count()


def test_resending_queues_the_same_link_again(
    staff, open_questionnaire, invitation, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url(open_questionnaire, invitation, "resend"))
    assert response.status_code == 302
    assert [m.sequence for m in OutboxMessage.objects.filter(invitation=invitation).order_by("sequence")] == [
        1,
        2,
    ]
    assert f"/r/{invitation.token}/" in mail.outbox[-1].body
    assert audited(AuditEntry.Action.INVITATION_RESENT) == 1


def test_resending_to_someone_who_declined_is_refused_with_a_reason(staff, open_questionnaire, invitation):
    response_decline(invitation=invitation)
    response = staff.post(url(open_questionnaire, invitation, "resend"))
    assert response.status_code == 400 and "is declined: nothing to re-send" in response.content.decode()
    assert OutboxMessage.objects.filter(invitation=invitation).count() == 1


def test_correcting_a_bouncing_address_clears_the_failure_and_sends_to_the_new_one(
    staff, open_questionnaire, invitation, django_capture_on_commit_callbacks
):
    Invitation.objects.filter(pk=invitation.pk).update(
        email_failed_at="2026-11-01T00:00Z", email_failure="550"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            url(open_questionnaire, invitation, "address"), {"email": "Ana.Right@example.gov"}
        )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert (invitation.email_normalised, invitation.email_failed_at) == ("ana.right@example.gov", None)
    assert mail.outbox[-1].to == ["Ana.Right@example.gov"]
    assert audited(AuditEntry.Action.INVITATION_ADDRESS_CORRECTED) == 1


@pytest.mark.parametrize(
    "email, message",
    [("not-an-address", "Enter a valid email address."), ("taken@example.gov", "already invited")],
)
def test_a_bad_correction_changes_nothing(staff, open_questionnaire, invitation, researcher, email, message):
    seed_invite(questionnaire=open_questionnaire, email="taken@example.gov", actor=researcher)
    response = staff.post(url(open_questionnaire, invitation, "address"), {"email": email})
    assert response.status_code == 400 and message in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.email == "ana@example.gov"


def test_revoking_closes_the_link_and_cancels_waiting_mail(staff, open_questionnaire, invitation):
    OutboxMessage.objects.filter(invitation=invitation).update(status="pending")
    assert staff.post(url(open_questionnaire, invitation, "revoke")).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert OutboxMessage.objects.get(invitation=invitation).status == "cancelled"
    assert Client().get(f"/r/{invitation.token}/").status_code == 404
    assert audited(AuditEntry.Action.INVITATION_REVOKED) == 1


def test_marking_a_bounce_stops_mail_to_the_address(staff, open_questionnaire, invitation, client_for):
    response = staff.post(url(open_questionnaire, invitation, "bounced"), {"reason": "550 user unknown"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.email_failure == "marked by hand: 550 user unknown"
    page = staff.get(url(open_questionnaire, invitation)).content.decode()
    assert "marked by hand" not in page  # the server's reply may quote the address: permission needed
    allowed = UserFactory()
    membership_set(
        questionnaire=open_questionnaire,
        user=allowed,
        role="researcher",
        can_view_personal_data=True,
        actor=None,
    )
    assert (
        "marked by hand: 550 user unknown"
        in client_for(allowed).get(url(open_questionnaire, invitation)).content.decode()
    )
    assert staff.post(url(open_questionnaire, invitation, "resend")).status_code == 400


def test_remind_now_sends_to_whoever_of_the_selection_may_be_reminded(
    staff, open_questionnaire, invitation, researcher, django_capture_on_commit_callbacks
):
    Invitation.objects.filter(pk=invitation.pk).update(status="emailed")
    done = seed_invite(questionnaire=open_questionnaire, email="done@example.gov", actor=researcher)
    Invitation.objects.filter(pk=done.pk).update(status="completed")
    elsewhere = seed_invite(
        questionnaire=QuestionnaireFactory(languages=["en"]), email="x@example.gov", actor=None
    )
    Invitation.objects.filter(pk=elsewhere.pk).update(status="emailed")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"/q/{open_questionnaire.slug}/invitations/remind/",
            {"invitation": [invitation.pk, done.pk, elsewhere.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert "Queued 1 reminder(s). 2 of those ticked cannot be reminded" in page
    assert [m.to for m in mail.outbox] == [["ana@example.gov"]]
    assert mail.outbox[0].subject.startswith("Reminder:")
    assert audited(AuditEntry.Action.REMINDERS_SENT) == 1
    bad = staff.post(f"/q/{open_questionnaire.slug}/invitations/remind/", {"invitation": ["1; DROP"]})
    assert bad.status_code == 400


def test_the_reminder_settings_page_saves_a_valid_policy_and_explains_a_bad_one(staff, open_questionnaire):
    page = f"/q/{open_questionnaire.slug}/invitations/reminders/"
    assert "Due now" in staff.get(page).content.decode()
    good = {
        "after_days": "5, 10, 20",
        "limit": "3",
        "closing_soon_days": "2",
        "first_hour": "9",
        "end_hour": "17",
        "weekdays": ["0", "2", "4"],
    }
    assert staff.post(page, good).status_code == 302
    open_questionnaire.refresh_from_db()
    policy = open_questionnaire.reminder_policy
    assert (policy.after_days, policy.mail_hours, policy.mail_weekdays) == ((5, 10, 20), (9, 17), (0, 2, 4))
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.QUESTIONNAIRE_EDITED, detail__has_key="reminders"
    ).exists()
    bad = staff.post(page, {**good, "after_days": "14, 7", "end_hour": "8"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "in increasing order" in html and "the first before the second" in html
    open_questionnaire.refresh_from_db()
    assert open_questionnaire.reminder_policy.after_days == (5, 10, 20)


def test_a_monitor_never_sees_an_address_quoted_in_a_mail_error(open_questionnaire, invitation, client_for):
    OutboxMessage.objects.filter(invitation=invitation).update(last_error="550 <ana@example.gov> unknown")
    Invitation.objects.filter(pk=invitation.pk).update(
        email_failed_at="2026-11-01T00:00Z", email_failure="550 <ana@example.gov> unknown"
    )
    monitor = UserFactory()
    membership_set(questionnaire=open_questionnaire, user=monitor, role="monitor", actor=None)
    page = client_for(monitor).get(url(open_questionnaire, invitation)).content.decode()
    assert "ana@example.gov" not in page


def test_an_address_cannot_be_corrected_for_someone_who_opted_out(staff, open_questionnaire, invitation):
    from respondents.recruitment import opt_out

    Invitation.objects.filter(pk=invitation.pk).update(status="started")
    opt_out(invitation=invitation)
    response = staff.post(url(open_questionnaire, invitation, "address"), {"email": "private@example.org"})
    assert response.status_code == 400 and "opted out of all email" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.email == "ana@example.gov" and invitation.opted_out_at is not None


def test_nothing_is_re_sent_for_a_closed_questionnaire(staff, open_questionnaire, invitation):
    from questionnaires.models import Questionnaire

    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(status="closed")
    assert staff.post(url(open_questionnaire, invitation, "resend")).status_code == 400


def test_remind_now_twice_reminds_once_and_respects_the_limit(staff, open_questionnaire, invitation):
    from questionnaires.models import Questionnaire

    Invitation.objects.filter(pk=invitation.pk).update(status="emailed")
    remind = f"/q/{open_questionnaire.slug}/invitations/remind/"
    staff.post(remind, {"invitation": [invitation.pk]})
    staff.post(remind, {"invitation": [invitation.pk]})  # a second click
    assert OutboxMessage.objects.filter(invitation=invitation, kind="reminder").count() == 1
    OutboxMessage.objects.filter(invitation=invitation, kind="reminder").update(status="sent")
    Invitation.objects.filter(pk=invitation.pk).update(last_reminded_at="2026-01-01T00:00Z")
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(reminder_limit=1)
    staff.post(remind, {"invitation": [invitation.pk]})
    assert OutboxMessage.objects.filter(invitation=invitation, kind="reminder").count() == 1
