"""The respondent's side of the snowball: nominating after submitting or declining, forwarding, opting out."""

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from respondents.models import Invitation, Nomination, OptOut
from respondents.services import response_consent, seed_invite

from .conftest import session_client

# Every page here runs with fields the page did not load refused (see the fixture).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("refuse_deferred_loads")]


def rows(*peers: dict, total: int = 3) -> dict:
    """The nomination formset as the browser posts it: every row, blank ones included."""
    data = {"peer-TOTAL_FORMS": str(total), "peer-INITIAL_FORMS": "0"}  # as the page renders them
    for index in range(total):
        fields = {"name": "", "email": "", "organisation": "", "role": "", "country": "", "language": "en"}
        fields.update(peers[index] if index < len(peers) else {})
        data.update({f"peer-{index}-{key}": value for key, value in fields.items()})
    return data


@pytest.fixture
def submitted(invitation):
    """The seed's browser after submitting (the answering itself is tested in test_answering)."""
    response = response_consent(invitation=invitation, language="en")
    response.submitted_at = timezone.now()
    response.save(update_fields=["submitted_at"])
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.COMPLETED)
    return session_client(invitation)


def test_the_thank_you_page_offers_one_row_per_nomination_left(submitted):
    html = submitted.get("/r/thanks/").content.decode()
    assert "Who else should we consult?" in html
    assert 'name="peer-TOTAL_FORMS" value="3"' in html
    assert 'name="peer-INITIAL_FORMS" value="0"' in html  # blank rows may then be skipped
    assert html.count("<fieldset") == 3
    assert "You may suggest 3 more colleagues" in html


def test_nominating_invites_new_peers_and_says_the_same_whatever_happened(
    submitted, invitation, open_questionnaire, researcher, django_capture_on_commit_callbacks
):
    seed_invite(questionnaire=open_questionnaire, email="taken@example.gov", actor=researcher)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = submitted.post(
            "/r/nominate/",
            rows(
                {"name": "Ben Peer", "email": "ben@example.gov", "country": "FR", "may_name_nominator": "on"},
                {"email": "Taken@Example.gov"},
            ),
        )
    assert response.status_code == 302 and response["Location"] == "/r/thanks/"
    page = submitted.get("/r/thanks/").content.decode()
    assert "we will invite the colleagues you suggested" in page
    assert "You may suggest 1 more colleague." in page
    assert [message.to for message in mail.outbox] == [["ben@example.gov"]]
    assert "Ana Official, who was consulted, suggested you" in mail.outbox[0].body
    ben = Invitation.objects.get(email_normalised="ben@example.gov")
    assert (ben.wave, ben.nominated_by_id, ben.country, ben.nominator_may_be_named) == (
        1,
        invitation.pk,
        "FR",
        True,
    )
    assert sorted(Nomination.objects.values_list("outcome", flat=True)) == ["already_invited", "invited"]


@pytest.mark.parametrize(
    "peers, message",
    [
        (({"email": "not-an-address"},), "Enter a valid email address."),
        (({"email": "a@example.gov"}, {"email": "A@example.gov"}), "already in the list above"),
        ((), "Enter at least one email address."),
        (({"email": "a@example.gov", "language": "xx"},), "Select a valid choice."),
    ],
    ids=["malformed", "duplicate", "empty", "tampered-language"],
)
def test_bad_nominations_get_a_clear_message_and_store_nothing(submitted, peers, message):
    response = submitted.post("/r/nominate/", rows(*peers))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and message in html
    assert not Nomination.objects.exists()
    assert Invitation.objects.count() == 1


def test_a_refused_nomination_shows_what_was_typed_beside_each_message(submitted):
    typed = {
        "name": '<b>Ben</b> "Peer"',
        "email": "not-an-address",
        "country": "FR",
        "language": "fr",
        "may_name_nominator": "on",
    }
    html = submitted.post("/r/nominate/", rows(typed)).content.decode()
    assert 'value="&lt;b&gt;Ben&lt;/b&gt; &quot;Peer&quot;"' in html and "<b>Ben</b>" not in html
    assert 'value="not-an-address" class="form-control is-invalid"' in html
    assert 'aria-describedby="id_peer-0-email-error"' in html
    assert 'id="id_peer-0-email-error">Enter a valid email address.' in html
    assert '<a href="#id_peer-0-email">Colleague 1, Email address' in html  # the summary links to it
    first_row = html.split("</fieldset>")[0]
    assert '<option value="FR" selected>' in first_row and '<option value="fr" selected>' in first_row
    assert 'id="id_peer-0-may_name_nominator" checked' in first_row
    second_row = html.split("</fieldset>")[1]
    second_country = second_row.split('name="peer-1-country"')[1].split("</select>")[0]
    assert second_country.count(" selected>") == 1 and '<option value="" selected>—' in second_country
    assert 'id="id_peer-1-may_name_nominator">' in second_row
    assert html.count('<option value="FR"') == 3  # every row offers every country


def test_the_blank_rows_follow_the_respondents_language(submitted):
    english = submitted.get("/r/thanks/").content.decode()
    submitted.post("/r/language/", {"language": "fr", "next": "/r/thanks/"})
    french = submitted.get("/r/thanks/").content.decode()
    assert '<label class="form-label" for="id_peer-0-name">Name</label>' in english
    assert '<option value="DE">Germany</option>' in english and '<option value="en" selected>' in english
    assert '<label class="form-label" for="id_peer-0-name">Nom</label>' in french
    assert '<option value="DE">Allemagne</option>' in french and '<option value="fr" selected>' in french
    assert submitted.get("/r/thanks/").content.decode().count("<fieldset") == 3


def test_rows_past_the_quota_are_refused_whole(submitted):
    data = rows(*({"email": f"p{i}@example.gov"} for i in range(4)), total=4)
    assert submitted.post("/r/nominate/", data).status_code == 400
    assert not Nomination.objects.exists()


def test_a_respondent_who_has_not_submitted_cannot_nominate(respondent):
    assert respondent.post("/r/nominate/", rows({"email": "a@example.gov"})).status_code == 409
    assert respondent.post("/r/forward/", {"count": "1"}).status_code == 409
    assert not Nomination.objects.exists()


def test_a_respondent_who_declined_may_still_point_to_the_right_person(invitation):
    client = session_client(invitation)
    client.post("/r/decline/")
    page = client.get("/r/").content.decode()
    assert "you may still point us to them" in page
    assert client.post("/r/nominate/", rows({"email": "right.person@example.gov"})).status_code == 302
    assert Invitation.objects.get(email_normalised="right.person@example.gov").nominated_by == invitation


def test_forwarding_gives_links_that_become_the_first_openers_own(submitted, invitation):
    assert submitted.post("/r/forward/", {"count": "2"}).status_code == 302
    page = submitted.get("/r/thanks/").content.decode()
    links = Invitation.objects.filter(channel="referral").order_by("number")
    assert [f"/r/{link.token}/" in page for link in links] == [True, True]
    assert "You may suggest 1 more colleague." in page

    first = links[0]
    forwarded = f"/r/{first.token}/"
    colleague, bystander = Client(), Client()
    assert colleague.get(forwarded).status_code == 302
    assert bystander.get(forwarded).status_code == 302  # opened twice before anyone answered
    assert "A colleague forwarded this invitation to you" in colleague.get("/r/").content.decode()
    first_page = colleague.post("/r/consent/").content.decode()
    first.refresh_from_db()
    assert first.claimed_at is not None
    # The forwarded link, and the other browser that opened it, now open nothing.
    assert Client().get(forwarded).status_code == 404
    assert bystander.get("/r/").status_code == 404
    # The colleague goes on, and the first page showed the new personal link to keep.
    assert f"/r/{first.token}/" in first_page and "Domain 1 of" in first_page
    assert colleague.get("/r/page/1/").status_code == 200
    # The nominator's page now lists only the link nobody took.
    page = submitted.get("/r/thanks/").content.decode()
    assert forwarded not in page and f"/r/{links[1].token}/" in page


@pytest.mark.parametrize("count", ["0", "4", "-1", "abc", ""])
def test_forwarding_refuses_a_count_outside_the_quota(submitted, count):
    assert submitted.post("/r/forward/", {"count": count}).status_code in (400, 409)
    assert not Invitation.objects.filter(channel="referral").exists()


# --- opting out -----------------------------------------------------------------------------------


def test_the_opt_out_link_asks_first_and_a_get_opts_nobody_out(invitation):
    response = Client().get(f"/r/optout/{invitation.opt_out_token}/")
    assert response.status_code == 200
    assert "Stop all email from this platform?" in response.content.decode()
    assert not OptOut.objects.exists()


def test_one_click_opt_out_works_without_cookies_or_csrf_token(invitation, open_questionnaire, researcher):
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's URL, nothing else."""
    other = seed_invite(questionnaire=open_questionnaire, email="bob@example.gov", actor=researcher)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/r/optout/{invitation.opt_out_token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You will receive no more email from us" in response.content.decode()
    assert OptOut.objects.count() == 1
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED
    other.refresh_from_db()
    assert other.status != Invitation.Status.DECLINED  # only the link's own address


def test_an_opt_out_token_that_is_not_ours_gets_the_neutral_page():
    assert Client().post("/r/optout/not-a-real-token/").status_code == 404
    assert not OptOut.objects.exists()


def test_the_opt_out_page_speaks_the_invitees_language(open_questionnaire, researcher):
    invitation = seed_invite(
        questionnaire=open_questionnaire, email="fr@example.gov", language="fr", actor=researcher
    )
    response = Client().get(f"/r/optout/{invitation.opt_out_token}/")
    assert response["Content-Language"] == "fr"


def test_declining_through_a_referral_link_takes_it_up_too(submitted):
    submitted.post("/r/forward/", {"count": "1"})
    referral = Invitation.objects.get(channel="referral")
    forwarded = f"/r/{referral.token}/"
    colleague = Client()
    colleague.get(forwarded)
    colleague.post("/r/decline/")
    assert "You have chosen not to take part" in colleague.get("/r/").content.decode()
    assert Client().get(forwarded).status_code == 404


def test_a_forged_nominator_field_is_ignored(submitted, invitation, open_questionnaire, researcher):
    """The nominator is the session's invitation, whatever the form says."""
    other = seed_invite(questionnaire=open_questionnaire, email="other@example.gov", actor=researcher)
    data = {**rows({"email": "new@example.gov"}), "nominator": str(other.pk), "nominated_by": str(other.pk)}
    assert submitted.post("/r/nominate/", data).status_code == 302
    assert Invitation.objects.get(email_normalised="new@example.gov").nominated_by == invitation


def test_nominating_stops_when_the_questionnaire_closes(submitted, open_questionnaire):
    from questionnaires.models import Questionnaire

    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(status=Questionnaire.Status.CLOSED)
    assert submitted.post("/r/nominate/", rows({"email": "late@example.gov"})).status_code == 409
    assert submitted.post("/r/forward/", {"count": "1"}).status_code == 409
    assert "Who else should we consult?" not in submitted.get("/r/thanks/").content.decode()
    assert not Nomination.objects.exists()


def test_nominating_past_the_quota_says_not_now(submitted):
    submitted.post("/r/forward/", {"count": "3"})
    assert submitted.post("/r/nominate/", rows({"email": "more@example.gov"})).status_code == 409


def test_whoever_refuses_through_a_forwarded_link_cannot_forward_more(submitted):
    """Otherwise anyone could grow a chain of strangers, link after link, without answering."""
    submitted.post("/r/forward/", {"count": "1"})
    referral = Invitation.objects.get(channel="referral")
    stranger = Client()
    stranger.get(f"/r/{referral.token}/")
    stranger.post("/r/decline/")
    assert stranger.post("/r/forward/", {"count": "3"}).status_code == 409
    assert stranger.post("/r/nominate/", rows({"email": "x@example.gov"})).status_code == 409
    assert Invitation.objects.filter(channel="referral").count() == 1


def test_a_browser_racing_for_a_forwarded_link_gets_nothing(submitted):
    """Two browsers pass the page's token check; the first to consent takes the link. The second's
    consent or refusal, arriving with the old token, changes nothing and opens nothing."""
    from respondents.services import LinkReplaced, response_decline

    submitted.post("/r/forward/", {"count": "1"})
    referral = Invitation.objects.get(channel="referral")
    forwarded = referral.token
    stale = Invitation.objects.get(pk=referral.pk)  # what the slower browser's request had loaded
    response_consent(invitation=referral, language="en", token=forwarded)
    with pytest.raises(LinkReplaced):
        response_consent(invitation=stale, language="en", token=forwarded)
    with pytest.raises(LinkReplaced):
        response_decline(invitation=stale, token=forwarded)
    referral.refresh_from_db()
    assert referral.status == Invitation.Status.CONSENTED and referral.token != forwarded


def test_a_session_from_before_links_were_bound_to_tokens_still_works(invitation, session_key):
    client = session_client(invitation)
    session = client.session
    del session["respondent_token"]
    session.save()
    assert client.get("/r/").status_code == 200
