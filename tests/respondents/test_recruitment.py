"""Snowball recruitment services: nominations, the quota, referral links, opting out."""

import hashlib
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from questionnaires.models import Questionnaire
from respondents.models import Invitation, Nomination, OptOut, OutboxMessage
from respondents.outbox import outbox_deliver
from respondents.recruitment import (
    NominationError,
    Peer,
    nominations_create,
    nominations_left,
    opt_out,
    referral_links_create,
)
from respondents.selectors import email_hash, is_opted_out
from respondents.services import (
    CsvError,
    InvitationError,
    response_consent,
    response_decline,
    seed_invite,
    seeds_import_csv,
)
from tests.factories import QuestionnaireFactory

pytestmark = pytest.mark.django_db


def completed(invitation: Invitation) -> Invitation:
    """A respondent who has submitted (the answering itself is tested elsewhere)."""
    response = response_consent(invitation=invitation, language=invitation.language)
    response.submitted_at = timezone.now()
    response.save(update_fields=["submitted_at"])
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.COMPLETED)
    invitation.refresh_from_db()
    return invitation


@pytest.fixture
def nominator(invitation):
    return completed(invitation)


def peer(email: str, **fields) -> Peer:
    return Peer(email=email, language="en", **fields)


def test_a_nomination_invites_the_peer_one_wave_further_with_the_chain_recorded(
    nominator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (nomination,) = nominations_create(
            nominator=nominator, peers=[peer("Ben@Example.gov", name="Ben", country="FR", role="Warden")]
        )
    nominee = nomination.invitation
    assert nomination.outcome == Nomination.Outcome.INVITED
    assert (nominee.wave, nominee.nominated_by, nominee.seed) == (1, nominator, nominator)
    assert (nominee.email_normalised, nominee.country, nominee.role) == ("ben@example.gov", "FR", "Warden")
    message = OutboxMessage.objects.get(invitation=nominee)
    assert message.status == OutboxMessage.Status.SENT
    sent = mail.outbox[-1]
    assert sent.to == ["Ben@Example.gov"]
    assert "a colleague who took part in the consultation suggested you" in sent.body
    assert nominator.name not in sent.body  # not allowed to be named by default

    # The next wave keeps the same seed.
    completed(nominee)
    (second,) = nominations_create(nominator=nominee, peers=[peer("cleo@example.gov")])
    assert (second.invitation.wave, second.invitation.seed) == (2, nominator)


def test_the_nominator_is_named_only_when_allowed(nominator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        nominations_create(nominator=nominator, peers=[peer("ben@example.gov", may_name_nominator=True)])
    assert f"because {nominator.name}, who was consulted, suggested you" in mail.outbox[-1].body


def test_every_invitation_email_carries_an_opt_out_link_and_one_click_headers(
    invitation, django_capture_on_commit_callbacks
):
    message = OutboxMessage.objects.get(invitation=invitation)
    link = f"http://127.0.0.1:8000/r/optout/{invitation.opt_out_token}/"
    assert message.headers == {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    sent = mail.outbox[-1]
    assert sent.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert link in sent.body and link in sent.alternatives[0][0]
    assert invitation.opt_out_token != invitation.token


def test_refusals_are_quiet_counted_and_keep_no_contact_details(nominator, open_questionnaire, researcher):
    seed_invite(questionnaire=open_questionnaire, email="taken@example.gov", actor=researcher)
    OptOut.objects.create(email_hash=email_hash("gone@example.gov"))
    before = Invitation.objects.count()
    nominations = nominations_create(
        nominator=nominator,
        peers=[peer(" ANA@example.gov "), peer("Taken@Example.GOV"), peer("gone@example.gov")],
    )
    assert [n.outcome for n in nominations] == ["self", "already_invited", "opted_out"]
    assert all(n.invitation is None for n in nominations)
    assert Invitation.objects.count() == before
    assert nominations_left(nominator) == 0  # refusals count: the page never reveals which were refused


def test_the_quota_refuses_extra_nominations_and_stores_nothing(nominator):
    nominations_create(nominator=nominator, peers=[peer("a@example.gov"), peer("b@example.gov")])
    with pytest.raises(NominationError):
        nominations_create(nominator=nominator, peers=[peer("c@example.gov"), peer("d@example.gov")])
    assert Nomination.objects.filter(nominator=nominator).count() == 2
    assert not Invitation.objects.filter(email_normalised__in=["c@example.gov", "d@example.gov"]).exists()


def test_the_same_address_twice_in_one_submission_is_refused_whole(nominator):
    with pytest.raises(NominationError):
        nominations_create(nominator=nominator, peers=[peer("a@example.gov"), peer("A@example.gov ")])
    assert not Nomination.objects.exists()


def test_only_those_who_submitted_or_declined_may_nominate(invitation, open_questionnaire, researcher):
    with pytest.raises(NominationError):
        nominations_create(nominator=invitation, peers=[peer("a@example.gov")])
    response_decline(invitation=invitation)
    (nomination,) = nominations_create(nominator=invitation, peers=[peer("a@example.gov")])
    assert nomination.invitation.nominated_by == invitation
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(nomination_quota=0)
    other = completed(seed_invite(questionnaire=open_questionnaire, email="z@example.gov", actor=researcher))
    with pytest.raises(NominationError):
        nominations_create(nominator=other, peers=[peer("b@example.gov")])


@pytest.mark.django_db(transaction=True)
def test_the_quota_holds_under_two_concurrent_submissions(open_questionnaire, researcher):
    """Two tabs submit two peers each against a quota of three: the row lock lets one through."""
    nominator = completed(
        seed_invite(questionnaire=open_questionnaire, email="n@example.gov", actor=researcher)
    )
    barrier, outcomes = threading.Barrier(2), []

    def submit(prefix: str):
        try:
            barrier.wait()
            nominations_create(
                nominator=nominator, peers=[peer(f"{prefix}1@example.gov"), peer(f"{prefix}2@example.gov")]
            )
            outcomes.append("ok")
        except NominationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(prefix,)) for prefix in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Nomination.objects.filter(nominator=nominator).count() == 2
    assert Invitation.objects.filter(nominated_by=nominator).count() == 2


def test_referral_links_carry_no_contact_details_and_count_against_the_quota(nominator):
    links = referral_links_create(nominator=nominator, count=2, language="fr")
    assert [(i.channel, i.email, i.wave, i.nominated_by_id, i.language) for i in links] == [
        ("referral", "", 1, nominator.pk, "fr")
    ] * 2
    assert not OutboxMessage.objects.filter(invitation__in=links).exists()
    assert nominations_left(nominator) == 1
    with pytest.raises(NominationError):
        referral_links_create(nominator=nominator, count=2, language="en")


def test_consenting_through_a_referral_link_takes_it_up_and_replaces_its_token(nominator):
    (referral,) = referral_links_create(nominator=nominator, count=1, language="en")
    forwarded = referral.token
    response = response_consent(invitation=referral, language="en")
    referral.refresh_from_db()
    assert referral.claimed_at is not None and referral.token != forwarded
    assert response.invitation.token == referral.token
    assert referral.events.filter(kind="claimed").count() == 1


# --- opting out -----------------------------------------------------------------------------------


def test_the_opt_out_list_keeps_a_keyed_hash_never_the_address(invitation):
    opt_out(invitation=invitation)
    (row,) = OptOut.objects.all()
    assert "ana" not in row.email_hash
    assert row.email_hash != hashlib.sha256(b"ana@example.gov").hexdigest()
    assert is_opted_out("ANA@example.gov ")
    with override_settings(OPT_OUT_HASH_KEY="another-key"):
        assert email_hash("ana@example.gov") != row.email_hash  # the key, not the SECRET_KEY, decides


def test_opting_out_is_honoured_by_every_questionnaire_on_the_platform(
    invitation, open_questionnaire, researcher, django_capture_on_commit_callbacks
):
    other = QuestionnaireFactory(status="open")
    # An email to the same person from another questionnaire, still waiting in the outbox.
    Questionnaire.objects.filter(pk=other.pk).update(languages=["en"])
    with django_capture_on_commit_callbacks(execute=False):
        waiting = seed_invite(questionnaire=other, email="Ana@Example.gov", actor=researcher)
    opt_out(invitation=invitation)
    opt_out(invitation=invitation)  # twice is once
    assert OptOut.objects.count() == 1
    assert OutboxMessage.objects.get(invitation=waiting).status == OutboxMessage.Status.CANCELLED
    waiting.refresh_from_db()
    assert waiting.opted_out_at is not None  # out of every questionnaire's reminder scan
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED  # not yet consented: in effect a refusal

    # Nobody can queue mail to the address again: seeds are refused with a reason, ...
    third = QuestionnaireFactory()
    with pytest.raises(InvitationError, match="opted out"):
        seed_invite(questionnaire=third, email="ana@example.gov", actor=researcher)
    with pytest.raises(CsvError, match=r"line 2: ana@example\.gov has opted out"):
        seeds_import_csv(
            questionnaire=third,
            text="email,name,organisation,country,language\nana@example.gov,,,,en\n",
            actor=None,
        )
    # ... and a row that got into the outbox anyway is not sent.
    message = OutboxMessage.objects.get(invitation=waiting)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.PENDING)
    sent_before = len(mail.outbox)
    assert outbox_deliver(message_id=message.pk).status == OutboxMessage.Status.CANCELLED
    assert len(mail.outbox) == sent_before


@pytest.mark.django_db(transaction=True)
def test_a_seed_and_its_nominee_nominating_at_once_do_not_deadlock(open_questionnaire, researcher):
    """The nominee's new invitations point at the seed (their chain's seed) while the seed locks
    its own row to nominate: with FOR UPDATE this deadlocked on PostgreSQL."""
    seed = response_decline(
        invitation=seed_invite(questionnaire=open_questionnaire, email="s@example.gov", actor=None)
    )
    (first,) = nominations_create(nominator=seed, peers=[peer("b@example.gov")])
    nominee = response_decline(invitation=first.invitation)
    errors = []
    for round_ in range(2):
        barrier = threading.Barrier(2)

        def nominate(nominator, address, barrier=barrier):
            try:
                barrier.wait()
                nominations_create(nominator=nominator, peers=[peer(address)])
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=nominate, args=(seed, f"s{round_}@peer.gov")),
            threading.Thread(target=nominate, args=(nominee, f"b{round_}@peer.gov")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Invitation.objects.filter(seed=seed).count() == 5
