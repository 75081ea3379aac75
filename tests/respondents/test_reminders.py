"""Who is reminded, when, with which words; the scan's guards (unique keys, mail hours, few queries)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from questionnaires.models import Questionnaire
from respondents.models import Invitation, OutboxMessage
from respondents.outbox import outbox_deliver, outbox_sweep
from respondents.recruitment import opt_out, referral_links_create
from respondents.reminders import reminders_preview, reminders_queue
from respondents.services import response_consent, response_decline, response_save_domain, seed_invite

pytestmark = pytest.mark.django_db

# A Tuesday, 10:00 in Toronto (the test questionnaire's time zone): inside the default mail hours.
TUESDAY_10AM = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def questionnaire(open_questionnaire):
    """Open from well before TUESDAY_10AM until a month after it; reminders after 7 and 14 days."""
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(
        opens_at=TUESDAY_10AM - timedelta(days=60), closes_at=TUESDAY_10AM + timedelta(days=30)
    )
    open_questionnaire.refresh_from_db()
    return open_questionnaire


def invited(questionnaire, email: str, *, days_ago: float, language: str = "en") -> Invitation:
    invitation = seed_invite(questionnaire=questionnaire, email=email, language=language, actor=None)
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Invitation.Status.EMAILED, emailed_at=TUESDAY_10AM - timedelta(days=days_ago)
    )
    invitation.refresh_from_db()
    return invitation


def queued(kind: str = OutboxMessage.Kind.REMINDER) -> list[str]:
    return sorted(OutboxMessage.objects.filter(kind=kind).values_list("to_email", flat=True))


def deliver_reminders() -> None:
    reminders = OutboxMessage.objects.filter(status="pending", kind__in=["reminder", "closing"])
    for pk in reminders.values_list("pk", flat=True):
        outbox_deliver(message_id=pk, now=TUESDAY_10AM)


def test_only_invitations_due_and_still_welcome_are_reminded(questionnaire, researcher):
    invited(questionnaire, "due@example.gov", days_ago=8)
    invited(questionnaire, "recent@example.gov", days_ago=3)
    completed = invited(questionnaire, "done@example.gov", days_ago=8)
    Invitation.objects.filter(pk=completed.pk).update(status=Invitation.Status.COMPLETED)
    response_decline(invitation=invited(questionnaire, "declined@example.gov", days_ago=8))
    opt_out(invitation=invited(questionnaire, "gone@example.gov", days_ago=8))
    revoked = invited(questionnaire, "revoked@example.gov", days_ago=8)
    Invitation.objects.filter(pk=revoked.pk).update(status=Invitation.Status.REVOKED)
    bounced = invited(questionnaire, "bounced@example.gov", days_ago=8)
    Invitation.objects.filter(pk=bounced.pk).update(email_failed_at=TUESDAY_10AM, email_failure="550")
    never_emailed = seed_invite(questionnaire=questionnaire, email="queued@example.gov", actor=None)
    Invitation.objects.filter(pk=never_emailed.pk).update(status=Invitation.Status.CREATED, emailed_at=None)

    assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 1
    assert queued() == ["due@example.gov"]


def test_reminders_follow_the_schedule_and_the_limit(questionnaire):
    invitation = invited(questionnaire, "ana@example.gov", days_ago=20)
    assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 1  # the first, though 20 days passed
    assert reminders_queue(questionnaire, now=TUESDAY_10AM + timedelta(hours=1)) == 0  # not both at once
    later = TUESDAY_10AM + timedelta(days=7)  # the gap between the 7th and 14th day has passed
    assert reminders_queue(questionnaire, now=later) == 1
    assert reminders_queue(questionnaire, now=later + timedelta(days=14)) == 0  # no third scheduled one
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 2
    assert list(
        OutboxMessage.objects.filter(kind="reminder").values_list("key", flat=True).order_by("key")
    ) == [
        f"{invitation.pk}:reminder:1",
        f"{invitation.pk}:reminder:2",
    ]


def test_a_second_scan_queues_nothing_more(questionnaire):
    invited(questionnaire, "ana@example.gov", days_ago=8)
    reminders_queue(questionnaire, now=TUESDAY_10AM)
    reminders_queue(questionnaire, now=TUESDAY_10AM)
    assert OutboxMessage.objects.filter(kind="reminder").count() == 1


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),  # Tuesday 07:00 in Toronto: before the mail hours
        datetime(2026, 11, 24, 23, 30, tzinfo=UTC),  # Tuesday 18:30 in Toronto: after them
        datetime(2026, 11, 28, 15, 0, tzinfo=UTC),  # Saturday 10:00 in Toronto
    ],
    ids=["early", "late", "saturday"],
)
def test_nothing_goes_out_outside_the_mail_hours_of_the_questionnaires_time_zone(questionnaire, moment):
    invited(questionnaire, "ana@example.gov", days_ago=8)
    assert reminders_queue(questionnaire, now=moment) == 0
    reason, lines = reminders_preview(questionnaire, now=moment)
    assert "outside the mail hours" in reason and lines == []


def test_not_started_and_started_get_different_words(questionnaire, django_capture_on_commit_callbacks):
    invited(questionnaire, "new@example.gov", days_ago=8)
    started = invited(questionnaire, "half@example.gov", days_ago=8, language="fr")
    response = response_consent(invitation=started, language="fr")
    submitted = {"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]}
    response_save_domain(response=response, domain_code="PROFILE", submitted=submitted)
    mail.outbox.clear()
    reminders_queue(questionnaire, now=TUESDAY_10AM)
    deliver_reminders()
    by_address = {message.to[0]: message for message in mail.outbox}
    assert "recently invited you to take part" in by_address["new@example.gov"].body
    assert by_address["new@example.gov"].subject.startswith("Reminder:")
    french = by_address["half@example.gov"]
    assert "Vous avez terminé 1 de ses 2 sections" in french.body
    assert f"/r/optout/{started.opt_out_token}/" in french.body
    assert french.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_closing_soon_reminds_once_and_names_the_date(questionnaire):
    Questionnaire.objects.filter(pk=questionnaire.pk).update(closes_at=TUESDAY_10AM + timedelta(days=2))
    questionnaire.refresh_from_db()
    invited(questionnaire, "ana@example.gov", days_ago=3)  # too recent for the 7-day reminder
    assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 1
    assert queued(OutboxMessage.Kind.CLOSING) == ["ana@example.gov"]
    assert reminders_queue(questionnaire, now=TUESDAY_10AM + timedelta(days=1)) == 0
    deliver_reminders()
    assert mail.outbox[-1].subject.startswith("Closing soon:")
    assert "The consultation closes on 26 November 2026." in mail.outbox[-1].body


def test_an_invitee_reminded_today_is_not_also_told_closing_soon(questionnaire):
    Questionnaire.objects.filter(pk=questionnaire.pk).update(closes_at=TUESDAY_10AM + timedelta(days=2))
    questionnaire.refresh_from_db()
    invited(questionnaire, "ana@example.gov", days_ago=8)
    assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 1
    assert queued(OutboxMessage.Kind.CLOSING) == []


def test_a_reminder_that_became_pointless_is_not_sent(questionnaire):
    invitation = invited(questionnaire, "ana@example.gov", days_ago=8)
    reminders_queue(questionnaire, now=TUESDAY_10AM)
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.COMPLETED)
    mail.outbox.clear()
    deliver_reminders()
    assert mail.outbox == []
    message = OutboxMessage.objects.get(kind="reminder")
    assert (message.status, message.last_error) == ("cancelled", "completed")


def test_referral_links_and_closed_questionnaires_get_no_reminders(questionnaire):
    nominator = invited(questionnaire, "ana@example.gov", days_ago=30)
    response_decline(invitation=nominator)
    (referral,) = referral_links_create(nominator=nominator, count=1, language="en")
    Invitation.objects.filter(pk=referral.pk).update(emailed_at=TUESDAY_10AM - timedelta(days=30))
    assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 0
    invited(questionnaire, "ben@example.gov", days_ago=8)
    Questionnaire.objects.filter(pk=questionnaire.pk).update(status=Questionnaire.Status.CLOSED)
    questionnaire.refresh_from_db()
    assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 0


def test_the_scan_is_a_few_queries_whatever_the_number_due(questionnaire, django_assert_max_num_queries):
    for number in range(60):
        invited(questionnaire, f"p{number}@example.gov", days_ago=8)
    with django_assert_max_num_queries(12):
        assert reminders_queue(questionnaire, now=TUESDAY_10AM) == 60


def test_send_reminders_dry_run_explains_and_changes_nothing(questionnaire, capsys, monkeypatch):
    invited(questionnaire, "ana@example.gov", days_ago=8)
    monkeypatch.setattr(timezone, "now", lambda: TUESDAY_10AM)
    call_command("send_reminders", questionnaire.slug, "--dry-run")
    out = capsys.readouterr().out
    assert "reminders [7, 14] days after the invitation, at most 3" in out
    assert "R-0001: reminder 1: invited 7 or more days ago (invited 2026-11-16)" in out
    assert "1 reminder(s) would be queued (dry run: nothing was changed)" in out
    assert not OutboxMessage.objects.filter(kind="reminder").exists()
    call_command("send_reminders", questionnaire.slug)
    assert "queued 1 reminder(s)" in capsys.readouterr().out


def test_the_sweep_hands_out_due_rows_once_per_lease(questionnaire, settings):
    invited(questionnaire, "ana@example.gov", days_ago=8)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # keep the enqueued task from running: count hand-outs
    from respondents import outbox

    handed = []
    monkey = outbox.outbox_enqueue
    try:
        outbox.outbox_enqueue = handed.extend
        reminders_queue(questionnaire, now=TUESDAY_10AM)
        assert outbox_sweep(now=TUESDAY_10AM) == 1
        assert outbox_sweep(now=TUESDAY_10AM + timedelta(minutes=5)) == 0  # leased
        assert outbox_sweep(now=TUESDAY_10AM + timedelta(minutes=11)) == 1  # the task was lost
    finally:
        outbox.outbox_enqueue = monkey
    assert len(handed) == 2


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_queue_each_reminder_once(questionnaire, monkeypatch):
    import threading

    from django.db import connection

    monkeypatch.setattr("respondents.reminders.outbox_sweep", lambda: 0)  # count rows, not deliveries
    for number in range(30):
        invited(questionnaire, f"p{number}@example.gov", days_ago=8)
    barrier, counts, errors = threading.Barrier(2), [], []

    def scan():
        try:
            barrier.wait()
            counts.append(reminders_queue(questionnaire, now=TUESDAY_10AM))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(counts) == [0, 30]
    assert OutboxMessage.objects.filter(kind="reminder").count() == 30
    assert set(Invitation.objects.values_list("reminders_sent", flat=True)) == {1}
