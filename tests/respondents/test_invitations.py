import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from consultation.models import AuditEntry
from respondents.models import Invitation, InvitationEvent, OutboxMessage
from respondents.services import CsvError, InvitationError, seed_invite, seeds_import_csv

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    "email,name,organisation,country,language\n"
    "ana@example.gov,Ana Official,Ministry of Justice,Canada,fr\n"
    "BOB@Example.gov ,Bob Warden,Prisons,AU,en\n"
)


def test_a_seed_gets_an_unguessable_token_and_an_email_after_commit(invitation):
    assert invitation.wave == 0 and invitation.nominated_by is None
    assert len(invitation.token) >= 43  # 32 random bytes, base64: 256 bits
    assert invitation.label == "R-0001"
    message = OutboxMessage.objects.get(invitation=invitation)
    assert message.status == "sent" and message.key == f"{invitation.pk}:invitation:1"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana@example.gov"] and email.extra_headers["Message-ID"] == message.message_id
    assert f"/r/{invitation.token}/" in email.body
    assert "Every type" in email.subject and "Research Branch" in email.body
    assert "research team identified you" in email.body  # why they received it
    assert "do not wish to take part" in email.body  # how to opt out
    assert email.alternatives and f"/r/{invitation.token}/" in email.alternatives[0][0]
    invitation.refresh_from_db()
    assert invitation.status == "emailed"
    assert list(invitation.events.values_list("kind", flat=True)) == ["created", "emailed"]


def test_the_email_is_in_the_invitees_language(
    open_questionnaire, researcher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        seed_invite(
            questionnaire=open_questionnaire,
            email="marie@example.fr",
            country="FR",
            language="fr",
            actor=researcher,
        )
    email = mail.outbox[0]
    assert "Tous les types" in email.subject
    assert "Direction de la recherche" in email.body
    assert "lien personnel" in email.body


def test_tokens_differ(open_questionnaire, researcher):
    tokens = {
        seed_invite(questionnaire=open_questionnaire, email=f"p{i}@example.org", actor=researcher).token
        for i in range(20)
    }
    assert len(tokens) == 20


def test_the_email_waits_for_the_commit(open_questionnaire, researcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        seed_invite(questionnaire=open_questionnaire, email="late@example.org", actor=researcher)
        assert mail.outbox == []
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "not a valid email"),
        ({"email": "x@example.org", "country": "Atlantis"}, "is not a country"),
        ({"email": "x@example.org", "language": "de"}, "not one of the questionnaire's languages"),
    ],
)
def test_a_bad_seed_is_refused(open_questionnaire, researcher, fields, message):
    with pytest.raises(InvitationError, match=message):
        seed_invite(questionnaire=open_questionnaire, actor=researcher, **fields)
    assert not Invitation.objects.exists() and not OutboxMessage.objects.exists()


def test_an_address_is_invited_once_per_questionnaire(invitation, researcher):
    with pytest.raises(InvitationError, match="already invited"):
        seed_invite(questionnaire=invitation.questionnaire, email="  ANA@example.GOV ", actor=researcher)


def test_csv_invites_everyone(open_questionnaire, researcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = seeds_import_csv(questionnaire=open_questionnaire, text=GOOD_CSV, actor=researcher)
    assert [(i.email, i.country, i.language, i.wave) for i in created] == [
        ("ana@example.gov", "CA", "fr", 0),
        ("BOB@Example.gov", "AU", "en", 0),
    ]
    assert [i.label for i in created] == ["R-0001", "R-0002"]
    assert len(mail.outbox) == 2
    assert AuditEntry.objects.filter(action="invitation.created", detail__count=2).exists()


def test_a_csv_with_bad_rows_is_refused_whole_with_line_numbers(open_questionnaire, researcher):
    text = (
        GOOD_CSV + "broken,,,,\nana@example.gov,Again,,CA,en\ncarl@example.org,Carl,,Narnia,en\nshort,row\n"
    )
    with pytest.raises(CsvError) as caught:
        seeds_import_csv(questionnaire=open_questionnaire, text=text, actor=researcher)
    problems = {(p.line, p.message) for p in caught.value.problems}
    assert (4, "'broken' is not a valid email address") in problems
    assert (5, "ana@example.gov is also on line 2") in problems
    assert any(line == 6 and "is not a country" in message for line, message in problems)
    assert (7, "expected 5 columns, found 2") in problems
    assert not Invitation.objects.exists() and not OutboxMessage.objects.exists()


def test_a_csv_needs_its_header(open_questionnaire, researcher):
    with pytest.raises(CsvError, match="line 1: the first line must be the header"):
        seeds_import_csv(
            questionnaire=open_questionnaire, text="ana@example.gov,Ana,,CA,en\n", actor=researcher
        )


def test_invite_seeds_command(open_questionnaire, tmp_path):
    path = tmp_path / "seeds.csv"
    path.write_text(GOOD_CSV)
    call_command("invite_seeds", open_questionnaire.slug, str(path))
    assert Invitation.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,organisation,country,language\nnobody,,,,\n")
    with pytest.raises(CommandError, match=r"(?s)nobody was invited.*line 2"):
        call_command("invite_seeds", open_questionnaire.slug, str(bad))
    assert Invitation.objects.count() == 2


def test_invitations_page_adds_seeds_by_form_and_csv(client, researcher, open_questionnaire):
    client.force_login(researcher)
    url = f"/q/{open_questionnaire.slug}/invitations/"
    response = client.post(url, {"email": "one@example.org", "country": "CA", "language": "en"})
    assert response.status_code == 302
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("seeds.csv", GOOD_CSV.encode())
    assert client.post(url + "upload/", {"file": upload}).status_code == 302
    assert Invitation.objects.count() == 3
    bad = SimpleUploadedFile("bad.csv", b"email,name,organisation,country,language\nzzz,,,,\n")
    response = client.post(url + "upload/", {"file": bad})
    assert response.status_code == 400 and "Line 2" in response.content.decode()
    page = client.get(url).content.decode()
    assert "R-0003" in page
    assert "one@example.org" not in page  # names and emails need their own permission


def test_invitation_events_record_the_history(invitation):
    assert InvitationEvent.objects.filter(invitation=invitation, kind="created").count() == 1


def test_delivering_a_message_twice_sends_it_once(invitation):
    from respondents.outbox import outbox_deliver

    message = OutboxMessage.objects.get(invitation=invitation)
    outbox_deliver(message_id=message.pk)  # the task handed out a second time
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1


def test_a_refused_connection_is_recorded_and_retried_later(
    open_questionnaire, researcher, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        9,
        2,
    )  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        invitation = seed_invite(questionnaire=open_questionnaire, email="x@example.org", actor=researcher)
    message = OutboxMessage.objects.get(invitation=invitation)
    # A temporary failure: the row waits in the database for its retry, with the reason.
    assert message.status == "pending" and "ConnectionRefusedError" in message.last_error
    assert message.attempts == 1 and message.next_attempt_at > timezone.now()
    invitation.refresh_from_db()
    assert invitation.status == "created"
