"""The respondent's path: link, consent, domain pages, resume, review, submit."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from questionnaires.models import Questionnaire
from respondents.models import Answer, Invitation, OutboxMessage, Response, Selection
from respondents.services import response_consent, response_decline

from .conftest import session_client

# Every page here runs with fields the page did not load refused (see the fixture).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("refuse_deferred_loads")]

PROFILE = {"P_COUNTRY": "CA", "P_LEVEL": "SENIOR", "P_SITE": "CUSTODIAL", "P_PEERS": "4", "P_SCORE": "1,5"}
D1 = {
    "D1_Q1": ["DISPERSAL", "OTHER"],
    "D1_Q1.other": "Small units",
    "D1_Q2": "SA",
    "D1_Q3": "YES",
    "D1_Q4": "Unit X",
    "D1_Q5": "Training",
    "D1_Q6.INTEL": "1",
    "D1_Q6.TRANSFER": "2",
    "D1_Q7.ISOLATION": "LOW",
    "D1_Q7.MIXED": "HIGH",
    "_shown": "D1_Q1,D1_Q2,D1_Q3,D1_Q4,D1_Q5,D1_Q6,D1_Q7",
}


def shown_page(response) -> str:
    """The address a page names as its own (respondent.js puts it in the address bar)."""
    found = re.search(r'<meta name="page-url" content="([^"]+)">', response.content.decode())
    return found.group(1) if found else ""


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def stored(invitation) -> dict:
    return dict(Answer.objects.filter(response__invitation=invitation).values_list("question__code", "value"))


# --- the link ---------------------------------------------------------------------------------


def test_the_link_moves_the_token_into_the_session_and_changes_nothing_else(invitation, session_key):
    client = Client()
    response = client.get(f"/r/{invitation.token}/")
    assert response.status_code == 302 and response["Location"] == "/r/"
    assert invitation.token not in response["Location"]
    assert client.session[session_key] == invitation.pk
    invitation.refresh_from_db()
    assert invitation.status == "emailed"  # a mail scanner's GET is not "opened"
    assert not Response.objects.exists()
    landing = client.get("/r/")
    assert landing.status_code == 200 and invitation.token not in landing.content.decode()


def test_opening_a_link_gives_a_session_of_its_own(invitation):
    """A session that existed before the link was opened (one an attacker planted, say) is not
    the one the respondent answers in; a first visit gets a new session, in one lookup."""
    client = Client()
    client.get("/accounts/login/")  # some earlier page gave this browser a session
    client.session.save()
    client.cookies["sessionid"] = planted = client.session.session_key
    client.get(f"/r/{invitation.token}/")
    assert client.cookies["sessionid"].value != planted
    assert client.get("/r/").status_code == 200


def test_a_first_visit_opens_its_link_in_a_few_queries(invitation, django_assert_max_num_queries):
    client = Client()
    # The invitation; the new session: its key checked unused, then its row written once (the
    # savepoint and its release are the test's transaction).
    with django_assert_max_num_queries(5):
        assert client.get(f"/r/{invitation.token}/").status_code == 302
    assert client.get("/r/").status_code == 200


def neutral(client: Client, token: str):
    response = client.get(f"/r/{token}/")
    return response.status_code, "This link is not active" in response.content.decode()


def test_unknown_revoked_and_closed_links_get_the_same_neutral_page(
    invitation, open_questionnaire, researcher
):
    from respondents.services import seed_invite

    revoked = seed_invite(questionnaire=open_questionnaire, email="rev@example.org", actor=researcher)
    Invitation.objects.filter(pk=revoked.pk).update(status="revoked")
    closed_questionnaire = Questionnaire.objects.create(
        slug="closed", languages=["en"], title={"en": "C"}, status="closed"
    )
    closed = Invitation.objects.create(questionnaire=closed_questionnaire, number=1, language="en")
    client = Client()
    results = {neutral(client, token) for token in ("x" * 43, revoked.token, closed.token, "short")}
    assert results == {(404, True)}


def test_failed_lookups_are_throttled_per_address_but_a_valid_link_still_works(invitation):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(20):
        assert client.get("/r/" + "y" * 43 + "/").status_code == 404
    assert client.get("/r/" + "y" * 43 + "/").status_code == 429
    assert client.get(f"/r/{invitation.token}/").status_code == 302  # a valid link is never throttled
    other = Client(REMOTE_ADDR="203.0.113.8")
    assert other.get("/r/" + "y" * 43 + "/").status_code == 404


def test_an_unreachable_cache_lets_requests_through_and_logs(invitation, monkeypatch, caplog):
    class BrokenCache:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr("respondents.throttle.cache", BrokenCache())
    assert Client().get("/r/" + "z" * 43 + "/").status_code == 404
    assert "Cache unreachable" in caplog.text


def test_pages_without_a_session_get_the_neutral_page():
    for url in ("/r/", "/r/page/1/", "/r/review/", "/r/thanks/"):
        assert Client().get(url).status_code == 404


# --- consent and decline ------------------------------------------------------------------------


def test_consent_records_time_and_version(invitation):
    client = session_client(invitation)
    assert shown_page(client.post("/r/consent/")) == "/r/page/1/"  # answered with the first page
    invitation.refresh_from_db()
    assert invitation.status == "consented" and invitation.consent_version == 2 and invitation.consented_at
    client.post("/r/consent/")  # a double click consents once
    assert Response.objects.filter(invitation=invitation).count() == 1
    assert invitation.events.filter(kind="consented").count() == 1


def test_decline_is_recorded_and_stops_email(invitation, open_questionnaire):
    OutboxMessage.objects.filter(invitation=invitation).update(status="pending")
    client = session_client(invitation)
    client.post("/r/decline/")
    invitation.refresh_from_db()
    assert invitation.status == "declined" and invitation.declined_at
    assert not OutboxMessage.objects.filter(invitation=invitation, status="pending").exists()
    assert "You have chosen not to take part" in client.get("/r/").content.decode()


def test_missing_csrf_token_is_refused(invitation):
    client = Client(enforce_csrf_checks=True)
    client.get(f"/r/{invitation.token}/")
    assert client.post("/r/consent/").status_code == 403
    assert not Response.objects.exists()


# --- answering ----------------------------------------------------------------------------------


def test_next_on_a_valid_page_saves_it_and_moves_on(respondent, invitation):
    response = respondent.post(
        "/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"}
    )
    # Saved, and the answer is the next page itself, naming its own address.
    assert response.status_code == 200 and shown_page(response) == "/r/page/2/"
    assert 'action="/r/page/2/"' in response.content.decode()
    assert stored(invitation) == {
        "P_COUNTRY": "CA",
        "P_LEVEL": "SENIOR",
        "P_SITE": "CUSTODIAL",
        "P_PEERS": "4",
        "P_SCORE": "1.5",
    }
    invitation.refresh_from_db()
    assert invitation.status == "started" and invitation.started_at
    assert Answer.objects.get(question__code="P_PEERS").number == 4
    assert list(Selection.objects.filter(question__code="P_LEVEL").values_list("code", flat=True)) == [
        "SENIOR"
    ]


def test_no_respondent_page_is_kept_by_a_browser_or_a_proxy(respondent):
    """Answers on a shared office PC: Back after leaving must not show them from a cache."""
    from django.utils.http import parse_http_date

    pages = [
        respondent.get("/r/"),
        respondent.get("/r/page/1/"),
        respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"}),
        respondent.get("/r/review/"),
        respondent.get("/r/resume/"),
    ]
    pages.append(Client().get("/r/page/1/"))  # the neutral page, for a browser with no session
    for page in pages:
        directives = {part.strip() for part in page["Cache-Control"].split(",")}
        assert {"no-store", "no-cache", "private", "max-age=0", "must-revalidate"} <= directives
        assert parse_http_date(page["Expires"]) <= timezone.now().timestamp()


def test_a_page_with_errors_saves_nothing_and_shows_what_was_typed(respondent, invitation):
    response = respondent.post("/r/page/1/", {"P_COUNTRY": "CA", "P_PEERS": "many", "P_SCORE": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'href="#id_P_LEVEL_0"' in html
    assert "Enter a whole number." in html or "Enter a number." in html
    assert 'value="many"' in html and '<option value="CA" selected>' in html
    assert stored(invitation) == {}


def test_follow_ups_without_javascript_appear_after_next(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    page = respondent.get("/r/page/2/").content.decode()
    assert 'id="q-D1_Q2" data-code="D1_Q2" hidden' in page  # depends on D1_Q1
    first = respondent.post(
        "/r/page/2/",
        {
            "D1_Q1": "DISPERSAL",
            "D1_Q3": "YES",
            "D1_Q7.ISOLATION": "LOW",
            "D1_Q7.MIXED": "LOW",
            "_shown": "D1_Q1,D1_Q3,D1_Q6,D1_Q7",
        },
    )
    # Saved, and shown again because follow-ups (D1_Q2, D1_Q4) appeared.
    assert first.status_code == 200 and shown_page(first) == "/r/page/2/"
    assert stored(invitation)["D1_Q1"] == ["DISPERSAL"]
    page = first.content.decode()
    assert 'id="q-D1_Q2" data-code="D1_Q2">' in page and "Some follow-up questions have appeared" in page
    assert 'value="DISPERSAL" checked' in page  # the saved answers are filled in
    # The notice is shown once: a later visit to the page does not repeat it.
    assert "Some follow-up questions" not in respondent.get("/r/page/2/").content.decode()


def test_hidden_answers_are_not_kept(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    respondent.post("/r/page/2/", D1)
    assert "D1_Q4" in stored(invitation) and "D1_Q5" in stored(invitation)
    # D1_Q4 depends on D1_Q3 = YES; answering NO hides it and, in turn, D1_Q5.
    respondent.post("/r/page/2/", {**D1, "D1_Q3": "NO"})
    answers = stored(invitation)
    assert "D1_Q4" not in answers and "D1_Q5" not in answers
    # A profile change that hides the whole domain drops its answers.
    respondent.post(
        "/r/page/1/",
        {
            **PROFILE,
            "P_LEVEL": "OTHER",
            "P_LEVEL.other": "Advisor",
            "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE",
        },
    )
    assert not any(code.startswith("D1_") for code in stored(invitation))
    assert Answer.objects.get(question__code="P_LEVEL").other_text == "Advisor"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("P_LEVEL", "CUSTODIAL"),  # a choice of another question
        ("P_PEERS", "501"),  # out of range
        ("P_PEERS", "1e400"),
        ("P_SITE", "x" * 1_000_000),  # 1 MB
        ("P_COUNTRY", "ZZ"),
    ],
)
def test_tampered_values_get_a_400_and_change_nothing(respondent, invitation, field, value):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    before = stored(invitation)
    response = respondent.post("/r/page/1/", {**PROFILE, field: value})
    assert response.status_code == 400
    assert stored(invitation) == before


def test_one_mb_of_text_in_a_text_answer_is_refused(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    response = respondent.post("/r/page/2/", {**D1, "D1_Q5": "x" * 1_000_000})
    assert response.status_code == 400 and "D1_Q1" not in stored(invitation)


def test_page_number_out_of_range_is_a_404(respondent):
    assert respondent.get("/r/page/99/").status_code == 404
    assert respondent.get("/r/page/0/").status_code == 404


def test_saving_twice_keeps_one_answer_per_question(respondent, invitation):
    for _ in range(3):
        respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    assert Answer.objects.filter(question__code="P_COUNTRY").count() == 1
    assert Selection.objects.filter(question__code="P_COUNTRY").count() == 1


def test_resume_on_another_device_at_the_first_unfinished_domain(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    other_device = session_client(invitation)
    assert other_device.get("/r/").status_code == 200
    assert other_device.get("/r/resume/")["Location"] == "/r/page/2/"
    assert shown_page(other_device.post("/r/consent/")) == "/r/page/2/"  # consenting again resumes too
    page = other_device.get("/r/page/1/").content.decode()
    assert 'value="4"' in page and '<option value="CA" selected>' in page and 'value="SENIOR" checked' in page


def test_back_saves_and_returns(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    response = respondent.post("/r/page/2/", {**D1, "_action": "back"})
    assert shown_page(response) == "/r/page/1/" and "D1_Q1" in stored(invitation)
    assert 'value="SENIOR" checked' in response.content.decode()


def complete(client):
    client.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    return client.post("/r/page/2/", D1)


def test_review_then_submit_then_read_only(respondent, invitation):
    last_page = complete(respondent)
    assert shown_page(last_page) == "/r/review/"
    assert without_csrf(last_page) == without_csrf(respondent.get("/r/review/"))
    review = respondent.get("/r/review/").content.decode()
    assert "Dispersal" in review and "Small units" in review and "1. Intelligence sharing" in review
    assert "Canada" in review and 'action="/r/submit/"' in review
    thanked = respondent.post("/r/submit/")
    assert (
        shown_page(thanked) == "/r/thanks/" and "your answers have been submitted" in thanked.content.decode()
    )
    assert shown_page(respondent.post("/r/submit/")) == "/r/thanks/"  # a double click has one effect
    invitation.refresh_from_db()
    assert invitation.status == "completed" and invitation.completed_at
    assert invitation.events.filter(kind="completed").count() == 1
    thanks = respondent.get("/r/thanks/").content.decode()
    assert "your answers have been submitted" in thanks and "Small units" in thanks
    assert respondent.get("/r/")["Location"] == "/r/thanks/"
    before = stored(invitation)
    late = respondent.post("/r/page/1/", {**PROFILE, "P_PEERS": "9"})
    assert late.status_code == 409 and stored(invitation) == before


def test_the_status_history_records_consent_start_and_completion_at_their_times(invitation):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = session_client(invitation)
    client.post("/r/consent/")
    with CaptureQueriesContext(connection) as first_save:
        client.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    event_writes = [
        q["sql"] for q in first_save.captured_queries if "respondents_invitationevent" in q["sql"]
    ]
    client.post("/r/page/2/", D1)
    client.post("/r/submit/")
    invitation.refresh_from_db()
    events = {event.kind: event for event in invitation.events.all()}
    assert events["consented"].at == invitation.consented_at
    assert events["consented"].detail == {"consent_version": invitation.consent_version}
    assert events["started"].at == invitation.started_at and events["started"].detail == {}
    assert events["completed"].at == invitation.completed_at
    assert len(event_writes) == 1
    if connection.vendor == "postgresql":  # the row goes with the answers and the progress
        assert "respondents_answer" in event_writes[0] and "UPDATE" in event_writes[0]


def test_submit_before_finishing_is_refused(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    response = respondent.post("/r/submit/", follow=True)
    assert "still have questions to answer" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "started"


def test_before_opening_and_after_closing_the_link_says_so_and_accepts_nothing(
    respondent, invitation, open_questionnaire
):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    saved = stored(invitation)
    now = timezone.now()
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(
        opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=2)
    )
    assert "not open yet" in respondent.get("/r/page/1/").content.decode()
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(
        opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1)
    )
    assert "is closed" in respondent.get("/r/").content.decode()
    assert respondent.post("/r/page/1/", {**PROFILE, "P_PEERS": "9"}).status_code == 409
    assert stored(invitation) == saved


def test_language_switch_changes_interface_and_content(respondent, invitation):
    respondent.post("/r/language/", {"language": "fr", "next": "/r/page/1/"})
    page = respondent.get("/r/page/1/")
    html = page.content.decode()
    assert page["Content-Language"] == "fr" and '<html lang="fr">' in html
    assert "Profil" in html and "Haute direction" in html and "(obligatoire)" in html
    assert Response.objects.get(invitation=invitation).language == "fr"
    assert respondent.post("/r/language/", {"language": "de"}).status_code == 400
    # An outside `next` is ignored.
    assert (
        respondent.post("/r/language/", {"language": "en", "next": "https://evil.example/"})["Location"]
        == "/r/"
    )


def test_declined_respondent_cannot_answer(invitation):
    response_decline(invitation=invitation)
    client = session_client(invitation)
    assert client.post("/r/consent/").status_code == 409
    assert not Response.objects.exists()


# --- speed --------------------------------------------------------------------------------------


def test_page_queries_do_not_grow_with_questions(respondent, invitation, django_assert_max_num_queries):
    """Profile has 5 questions, domain 1 has 7: the same ceiling for both (measured: 2 and 10-12)."""
    respondent.get("/r/page/1/")  # the definition is cached after the first page
    for number, data in ((1, {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"}), (2, D1)):
        with django_assert_max_num_queries(3):
            assert respondent.get(f"/r/page/{number}/").status_code == 200
        with django_assert_max_num_queries(12):
            respondent.post(f"/r/page/{number}/", data)


def test_consent_after_mail_delivery_keeps_the_email_row_sent(invitation):
    response_consent(invitation=invitation, language="en")
    assert OutboxMessage.objects.get(invitation=invitation).status == "sent"
    assert len(mail.outbox) == 1


def test_landing_gives_an_estimated_time(invitation):
    html = session_client(invitation).get("/r/").content.decode()
    assert "It takes about 5 minutes." in html


@pytest.mark.django_db(transaction=True)
def test_two_tabs_saving_the_same_page_at_once_keep_one_answer_per_question(open_questionnaire, researcher):
    """Two requests race on one response: the row lock serialises them; one answer per question."""
    import threading

    from django.db import connection

    from respondents.services import response_save_domain, seed_invite

    invitation = seed_invite(questionnaire=open_questionnaire, email="race@example.org", actor=researcher)
    response = response_consent(invitation=invitation, language="en")
    submitted = {key: [value] for key, value in PROFILE.items()}
    barrier, failures = threading.Barrier(2), []

    def save():
        try:
            barrier.wait()
            response_save_domain(response=response, domain_code="PROFILE", submitted=submitted)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert Answer.objects.filter(response=response).count() == 5
    assert Selection.objects.filter(response=response, question__code="P_LEVEL").count() == 1


@pytest.mark.postgresql  # SQLite has no row locks to wait on
@pytest.mark.django_db(transaction=True)
def test_a_second_submit_that_waited_for_the_first_still_offers_nominations(open_questionnaire, researcher):
    """A double click on Submit: the second request waits for the first one's lock, then answers
    with the same thank-you page, nominations included."""
    import threading
    import time

    from django.db import connection, transaction

    from respondents.services import response_submit, seed_invite

    invitation = seed_invite(questionnaire=open_questionnaire, email="twice@example.org", actor=researcher)
    response_consent(invitation=invitation, language="en")
    client = session_client(invitation)
    complete(client)
    locked, failures = threading.Event(), []

    def first_click():
        try:
            with transaction.atomic():
                response_submit(response=Response.objects.get(invitation=invitation))
                locked.set()
                time.sleep(0.5)  # the second click arrives and waits meanwhile
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            locked.set()
            connection.close()

    thread = threading.Thread(target=first_click)
    thread.start()
    locked.wait(10)
    second = client.post("/r/submit/")
    thread.join()
    assert failures == []
    assert shown_page(second) == "/r/thanks/"
    assert "Who else should we consult?" in second.content.decode()


def shown_at(page) -> str:
    return re.search(r'name="_shown_at" value="(\d+)"', page.content.decode()).group(1)


def test_an_old_copy_of_a_page_sent_again_saves_nothing_over_newer_answers(respondent, invitation):
    """Without JavaScript the browser's Back button can send a page again from its history (or a
    tab left open can): answers saved since are not overwritten, nor answers elsewhere dropped."""
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    old_copy = shown_at(respondent.get("/r/page/2/"))
    respondent.post("/r/page/2/", {**D1, "_shown_at": old_copy})
    newer = stored(invitation)
    again = respondent.post("/r/page/2/", {**D1, "D1_Q4": "Unit Z", "_shown_at": old_copy})
    assert again.status_code == 409 and stored(invitation) == newer
    page = again.content.decode()
    assert "nothing was saved from it" in page and 'value="Unit X"' in page  # what is saved now
    # The page shown with it carries the new stamp: sending that one saves.
    changed = respondent.post("/r/page/2/", {**D1, "D1_Q4": "Unit Z", "_shown_at": shown_at(again)})
    assert changed.status_code == 200 and stored(invitation)["D1_Q4"] == "Unit Z"


def test_a_double_click_on_next_saves_the_same_answers_twice_without_complaint(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    copy = shown_at(respondent.get("/r/page/2/"))
    for _ in range(2):
        assert shown_page(respondent.post("/r/page/2/", {**D1, "_shown_at": copy})) == "/r/review/"
    assert stored(invitation)["D1_Q4"] == "Unit X"


def test_a_declined_respondent_can_no_longer_save_or_submit(respondent, invitation):
    respondent.post("/r/page/1/", {**PROFILE, "_shown": "P_COUNTRY,P_LEVEL,P_SITE,P_PEERS,P_SCORE"})
    respondent.post("/r/decline/")
    before = stored(invitation)
    assert respondent.post("/r/page/1/", {**PROFILE, "P_PEERS": "9"}).status_code == 409
    respondent.post("/r/submit/")
    invitation.refresh_from_db()
    assert invitation.status == "declined" and stored(invitation) == before


def test_wrong_revoked_and_closed_tokens_take_the_same_path(invitation, open_questionnaire, researcher):
    """Same status, same page, same number of queries: timing and output tell a guesser nothing."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from respondents.services import seed_invite

    revoked = seed_invite(questionnaire=open_questionnaire, email="gone@example.org", actor=researcher)
    Invitation.objects.filter(pk=revoked.pk).update(status="revoked")
    closed_questionnaire = Questionnaire.objects.create(
        slug="closed-too", languages=["en"], title={"en": "C"}, status="closed"
    )
    closed = Invitation.objects.create(questionnaire=closed_questionnaire, number=1, language="en")
    seen = set()
    for token in ("w" * len(invitation.token), revoked.token, closed.token):
        with CaptureQueriesContext(connection) as queries:
            response = Client(REMOTE_ADDR="198.51.100.9").get(f"/r/{token}/")
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        seen.add((response.status_code, len(queries.captured_queries), page))
    assert len(seen) == 1


def test_before_opening_the_page_gives_the_opening_time_in_the_questionnaires_zone_and_language(
    respondent, invitation, open_questionnaire
):
    opens = datetime(2031, 3, 14, 13, 30, tzinfo=UTC)
    Questionnaire.objects.filter(pk=open_questionnaire.pk).update(
        opens_at=opens, closes_at=opens + timedelta(days=30), time_zone="America/Toronto"
    )
    html = respondent.get("/r/").content.decode()
    assert "It opens on March 14, 2031, 9:30 a.m.. Please come back then" in html  # 13:30 UTC, in Toronto
    respondent.post("/r/language/", {"language": "fr", "next": "/r/"})
    html = respondent.get("/r/").content.decode()
    assert "14 mars 2031 09:30" in html


# --- saving without a lock (PostgreSQL) ----------------------------------------------------------


def _fresh(invitation) -> Response:
    return Response.objects.select_related("invitation", "questionnaire").get(invitation=invitation)


def _as_posted(fields: dict) -> dict:
    return {key: value if isinstance(value, list) else [value] for key, value in fields.items()}


@pytest.mark.postgresql
def test_the_usual_save_is_its_answers_read_and_one_statement_without_a_lock(invitation):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from questionnaires.selectors import question_ids
    from respondents.services import response_save_domain

    response_consent(invitation=invitation, language="en")
    response = _fresh(invitation)
    question_ids(response.questionnaire)  # cached per revision, as in a server in service
    with CaptureQueriesContext(connection) as queries:
        result = response_save_domain(response=response, domain_code="PROFILE", submitted=_as_posted(PROFILE))
    assert result.ok
    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == 2 and not any("FOR UPDATE" in statement for statement in sql)
    assert stored(invitation)["P_LEVEL"] == "SENIOR"
    saved = _fresh(invitation)
    assert saved.completed_domains == ["PROFILE"] and saved.started_at and saved.updated_at
    assert (response.updated_at, response.started_at) == (saved.updated_at, saved.started_at)
    invitation.refresh_from_db()
    assert invitation.status == "started" and invitation.started_at == saved.started_at
    assert invitation.events.filter(kind="started").count() == 1


def test_a_save_from_a_response_read_before_another_save_loses_nothing(invitation):
    """Two tabs: each request read the response before the other saved. The second save must not
    write its stale progress over the first's: it is made again under the response's lock."""
    from respondents.services import response_save_domain

    response_consent(invitation=invitation, language="en")
    first_tab, second_tab = _fresh(invitation), _fresh(invitation)
    assert response_save_domain(response=first_tab, domain_code="PROFILE", submitted=_as_posted(PROFILE)).ok
    assert response_save_domain(response=second_tab, domain_code="D1", submitted=_as_posted(D1)).ok
    saved = _fresh(invitation)
    assert sorted(saved.completed_domains) == ["D1", "PROFILE"]
    assert set(stored(invitation)) >= {"P_LEVEL", "D1_Q4"}
    assert Answer.objects.filter(response=saved).count() == len(stored(invitation))
    assert invitation.events.filter(kind="started").count() == 1


def test_a_save_from_a_response_read_before_it_was_submitted_saves_nothing(invitation):
    from respondents.services import NotAccepting, response_save_domain, response_submit

    response_consent(invitation=invitation, language="en")
    assert response_save_domain(
        response=_fresh(invitation), domain_code="PROFILE", submitted=_as_posted(PROFILE)
    ).ok
    assert response_save_domain(response=_fresh(invitation), domain_code="D1", submitted=_as_posted(D1)).ok
    stale = _fresh(invitation)
    response_submit(response=_fresh(invitation))
    before = stored(invitation)
    with pytest.raises(NotAccepting):
        response_save_domain(
            response=stale, domain_code="D1", submitted=_as_posted({**D1, "D1_Q4": "Changed"})
        )
    assert stored(invitation) == before


def test_a_save_from_a_response_since_erased_saves_nothing(invitation):
    from respondents.services import NotAccepting, response_save_domain

    response_consent(invitation=invitation, language="en")
    stale = _fresh(invitation)
    Response.objects.filter(pk=stale.pk).delete()
    with pytest.raises(NotAccepting):
        response_save_domain(response=stale, domain_code="PROFILE", submitted=_as_posted(PROFILE))
    assert not Answer.objects.exists()


def _as_a_request_reads_it(invitation) -> Response:
    from respondents.selectors import respondent_invitation

    return respondent_invitation(invitation.pk).response


@pytest.mark.postgresql
def test_a_respondents_request_reads_the_answers_with_the_response_in_one_statement(
    invitation, django_assert_num_queries
):
    from questionnaires.selectors import question_ids
    from respondents.selectors import response_answers
    from respondents.services import response_save_domain

    response_consent(invitation=invitation, language="en")
    assert response_save_domain(
        response=_fresh(invitation), domain_code="PROFILE", submitted=_as_posted(PROFILE)
    ).ok
    question_ids(invitation.questionnaire)  # cached per revision, as in a server in service
    with django_assert_num_queries(1):
        response = _as_a_request_reads_it(invitation)
    assert response.answers_as_read == response_answers(_fresh(invitation))
    assert response.answers_as_read["P_LEVEL"] == "SENIOR"
    with django_assert_num_queries(1):  # the usual save: one statement, the answers already read
        assert response_save_domain(response=response, domain_code="D1", submitted=_as_posted(D1)).ok
    assert stored(invitation)["D1_Q4"] == "Unit X"


def test_answers_read_before_another_tab_saved_are_not_trusted_under_the_lock(invitation):
    """A request read the response and its answers; another tab then finished the questionnaire.
    Submit locks the response and reads the answers again: it finds them complete."""
    from respondents.services import response_save_domain, response_submit

    response_consent(invitation=invitation, language="en")
    assert response_save_domain(
        response=_fresh(invitation), domain_code="PROFILE", submitted=_as_posted(PROFILE)
    ).ok
    earlier = _as_a_request_reads_it(invitation)
    assert response_save_domain(response=_fresh(invitation), domain_code="D1", submitted=_as_posted(D1)).ok
    response_submit(response=earlier)
    assert _fresh(invitation).is_submitted


def test_a_save_from_answers_read_before_another_tab_saved_loses_nothing(invitation):
    from respondents.services import response_save_domain

    response_consent(invitation=invitation, language="en")
    first_tab, second_tab = _as_a_request_reads_it(invitation), _as_a_request_reads_it(invitation)
    assert response_save_domain(response=first_tab, domain_code="PROFILE", submitted=_as_posted(PROFILE)).ok
    assert response_save_domain(response=second_tab, domain_code="D1", submitted=_as_posted(D1)).ok
    assert sorted(_fresh(invitation).completed_domains) == ["D1", "PROFILE"]
    assert set(stored(invitation)) >= {"P_LEVEL", "D1_Q4"}


def test_a_first_save_from_a_request_that_read_the_invitation_before_it_was_revoked_saves_nothing(
    invitation, researcher
):
    from respondents.services import NotAccepting, invitation_revoke, response_save_domain

    response_consent(invitation=invitation, language="en")
    earlier = _as_a_request_reads_it(invitation)
    invitation_revoke(invitation=Invitation.objects.get(pk=invitation.pk), actor=researcher)
    with pytest.raises(NotAccepting):
        response_save_domain(response=earlier, domain_code="PROFILE", submitted=_as_posted(PROFILE))
    invitation.refresh_from_db()
    assert invitation.status == "revoked" and not Answer.objects.exists()
    assert not invitation.events.filter(kind="started").exists()
