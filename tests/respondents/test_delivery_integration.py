"""Email that is never lost and never sent twice in effect, against a real Redis, a real worker
(killed with SIGKILL in one scenario) and an SMTP server on loopback.

Marked `integration`: `make test` runs them when CELERY_BROKER_URL points at Redis (.ci/run's second
pass, on PostgreSQL). Each scenario starts its own Redis, so the shared one is never touched.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from questionnaires.engine.routing import visible_domains
from questionnaires.models import Questionnaire
from questionnaires.selectors import questionnaire_definition
from respondents.models import Invitation, OutboxMessage
from respondents.reminders import reminders_queue
from respondents.services import seed_invite

from .delivery_harness import RedisServer, SmtpSink, WebServer, Worker, server_env, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


@pytest.fixture
def questionnaire(open_questionnaire):
    """Mail hours around the clock, so the scenarios do not depend on when they run."""
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(
        mail_hours=[0, 24], mail_weekdays=[0, 1, 2, 3, 4, 5, 6]
    )
    open_questionnaire.refresh_from_db()
    return open_questionnaire


@pytest.fixture
def due_reminders(questionnaire, monkeypatch):
    """Queue reminders for `count` invitations emailed 8 days ago; only the real worker delivers them."""
    # In this (eager) test process the scan's after-commit sweep would deliver them in-process.
    monkeypatch.setattr("respondents.reminders.outbox_sweep", lambda: 0)

    def make(count: int, prefix: str = "official") -> list[Invitation]:
        emailed = timezone.now() - timedelta(days=8)
        invitations = Invitation.objects.bulk_create(
            Invitation(
                questionnaire=questionnaire,
                number=1000 + number,
                email=f"{prefix}{number}@example.gov",
                email_normalised=f"{prefix}{number}@example.gov",
                language="en",
                status=Invitation.Status.EMAILED,
                emailed_at=emailed,
            )
            for number in range(count)
        )
        assert reminders_queue(questionnaire) == count
        return invitations

    return make


def sent_rows() -> int:
    return OutboxMessage.objects.filter(kind="reminder", status="sent").count()


def test_200_due_reminders_are_delivered_each_exactly_once(due_reminders, tmp_path):
    due_reminders(200)
    with (
        SmtpSink() as smtp,
        RedisServer() as redis,
        Worker(server_env(redis=redis, smtp=smtp), tmp_path / "worker.log"),
    ):
        wait_for(lambda: sent_rows() == 200, 120, "200 reminders sent")
        ids = smtp.message_ids()
    assert len(ids) == 200 and max(ids.values()) == 1
    expected = set(OutboxMessage.objects.filter(kind="reminder").values_list("message_id", flat=True))
    assert set(ids) == expected


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_at_most_the_message_in_flight(
    due_reminders, tmp_path
):
    due_reminders(200)
    with SmtpSink() as smtp, RedisServer() as redis:
        smtp.delay = 0.02  # long enough a batch for the kill to land in its middle
        env = server_env(redis=redis, smtp=smtp)
        worker = Worker(env, tmp_path / "worker.log")
        worker.start()
        try:
            wait_for(lambda: len(smtp.recipients()) >= 40, 120, "the first deliveries")
            worker.kill()
            killed_at = len(smtp.recipients())
            assert killed_at < 200, "the batch finished before the kill: nothing was tested"
            worker.start()
            wait_for(lambda: sent_rows() == 200, 180, "every reminder after the restart")
        finally:
            worker.stop()
        ids = smtp.message_ids()
    assert set(ids) == set(OutboxMessage.objects.filter(kind="reminder").values_list("message_id", flat=True))
    duplicates = sum(count - 1 for count in ids.values())
    # Only a message the SMTP server accepted before the commit that records it can go twice,
    # with the same Message-ID: one in flight per kill.
    assert duplicates <= 1, f"{duplicates} duplicate(s): {[i for i, c in ids.items() if c > 1]}"


def respond_and_nominate(web: WebServer, token: str, questionnaire) -> list[int]:
    """A respondent's whole path over HTTP: link, consent, every page, submit, two nominations."""
    from bench.respondents_bench import Client, answers_for_page

    definition = questionnaire_definition(questionnaire)
    client = Client(web.port)
    statuses = [client.request("GET", f"/r/{token}/")[0], client.request("GET", "/r/")[0]]
    statuses.append(client.request("POST", "/r/consent/", [])[0])
    answers: dict = {}
    for number, domain in enumerate(definition.domains, start=1):
        if domain not in visible_domains(definition, answers):  # decided by the answers so far
            continue
        statuses.append(client.request("GET", f"/r/page/{number}/")[0])
        statuses.append(
            client.request("POST", f"/r/page/{number}/", answers_for_page(definition, domain, answers))[0]
        )
    statuses.append(client.request("POST", "/r/submit/", [])[0])
    fields = [("peer-TOTAL_FORMS", "3"), ("peer-INITIAL_FORMS", "0")]
    for row, email in enumerate(["peer.one@example.gov", "peer.two@example.gov", ""]):
        fields += [(f"peer-{row}-email", email), (f"peer-{row}-language", "en"), (f"peer-{row}-country", "")]
    statuses.append(client.request("POST", "/r/nominate/", fields)[0])
    return statuses


def test_with_redis_down_respondents_still_answer_and_nominate_and_the_mail_follows(
    questionnaire, researcher, tmp_path
):
    seed = seed_invite(questionnaire=questionnaire, email="seed@example.gov", actor=researcher)
    with SmtpSink() as smtp:
        redis = RedisServer()  # not started: the broker is down
        env = server_env(redis=redis, smtp=smtp)
        with WebServer(env, tmp_path / "web.log") as web:
            statuses = respond_and_nominate(web, seed.token, questionnaire)
        assert all(status in (200, 302) for status in statuses), str(statuses)
        waiting = OutboxMessage.objects.filter(invitation__nominated_by=seed)
        assert sorted(waiting.values_list("to_email", "status")) == [
            ("peer.one@example.gov", "pending"),
            ("peer.two@example.gov", "pending"),
        ]
        with redis, Worker(env, tmp_path / "worker.log"):  # Redis is back, and a worker with its beat
            wait_for(lambda: len(smtp.recipients()) == 2, 60, "the nominees' invitations")
        assert sorted(smtp.recipients()) == ["peer.one@example.gov", "peer.two@example.gov"]


def test_451_twice_then_accepted_arrives_once_and_550_fails_at_once(due_reminders, tmp_path):
    ok, gone = due_reminders(2)
    with SmtpSink() as smtp, RedisServer() as redis:
        smtp.script.extend(["451 4.3.0 try again later"] * 2)
        smtp.refuse[gone.email] = "550 5.1.1 no such mailbox"
        with Worker(server_env(redis=redis, smtp=smtp), tmp_path / "worker.log"):
            wait_for(lambda: sent_rows() == 1, 60, "the retried reminder")
            wait_for(
                lambda: OutboxMessage.objects.filter(invitation=gone, status="failed").exists(), 30, "the 550"
            )
        assert smtp.recipients() == [ok.email]
    delivered = OutboxMessage.objects.get(invitation=ok, kind="reminder")
    assert (delivered.status, delivered.attempts) == ("sent", 3)
    failed = OutboxMessage.objects.get(invitation=gone, kind="reminder")
    assert (failed.status, failed.attempts) == ("failed", 1)
    gone.refresh_from_db()
    assert gone.email_failure.startswith("550")
