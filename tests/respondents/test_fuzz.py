"""Property-based attacks on the respondent endpoints: whatever is sent, the answer is never a 500,
and saved answers change only when the page accepted the input (a redirect), never on a refusal."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respondents.models import Answer, Invitation, Response
from respondents.selectors import response_answers

from .conftest import session_client

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same attacks on every run: a failure here is reproducible
)

HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "\x00",
        "a\x00b",
        '=HYPERLINK("http://x")',
        "9" * 400,
        "-1e309",
        "NaN",
        "Infinity",
        "²",
        "",
        " ",
        "x" * 20_000,
        "SENIOR",
        "CUSTODIAL",
        "CA",
        "ZZ",
        "1",
        "0",
        "-5",
        "3.5",
        "DISPERSAL",
        "OTHER",
    ]
)
FIELD_NAMES = st.sampled_from(
    [
        "P_COUNTRY", "P_LEVEL", "P_SITE", "P_PEERS", "P_SCORE", "P_LEVEL.other", "D1_Q1", "D1_Q1.other",
        "D1_Q2", "D1_Q3", "D1_Q4", "D1_Q5", "D1_Q6.INTEL", "D1_Q6.TRANSFER", "D1_Q7.ISOLATION",
        "D1_Q7.MIXED", "_action", "_shown", "unknown", "P_COUNTRY.other", "csrfmiddlewaretoken",
    ]
)  # fmt: skip
PAYLOADS = st.dictionaries(
    st.one_of(FIELD_NAMES, st.text(max_size=30)),
    st.lists(st.one_of(HOSTILE, st.text(max_size=50)), min_size=0, max_size=3),
    max_size=12,
)


def stored(invitation: Invitation) -> dict:
    response = Response.objects.filter(invitation=invitation).first()
    return response_answers(response) if response else {}


@FUZZ
@given(payload=PAYLOADS, page=st.sampled_from([1, 2, 3, 99]))
def test_domain_pages_never_fail_and_only_valid_input_changes_answers(respondent, invitation, payload, page):
    before = stored(invitation)
    response = respondent.post(f"/r/page/{page}/", payload)
    assert response.status_code < 500
    if response.status_code != 302:
        assert stored(invitation) == before


@FUZZ
@given(payload=PAYLOADS)
def test_raw_bodies_with_invalid_utf8_and_null_bytes_are_handled(respondent, invitation, payload):
    before = stored(invitation)
    body = b"P_LEVEL=%FF%FE&P_COUNTRY=%00CA&D1_Q4=%C3%28&" + "&".join(f"{k}=x" for k in payload).encode(
        "utf-8", "surrogatepass"
    )
    response = respondent.post("/r/page/1/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500
    if response.status_code != 302:
        assert stored(invitation) == before


@FUZZ
@given(payload=PAYLOADS, path=st.sampled_from(["/r/consent/", "/r/decline/", "/r/submit/", "/r/nominate/",
                                               "/r/forward/", "/r/language/"]))  # fmt: skip
def test_the_other_respondent_posts_never_fail(respondent, invitation, payload, path):
    answers = Answer.objects.filter(response__invitation=invitation).count()
    response = respondent.post(path, payload)
    assert response.status_code < 500
    assert Answer.objects.filter(response__invitation=invitation).count() == answers


@FUZZ
@given(token=st.text(max_size=300))
def test_any_token_gets_the_neutral_page_or_the_link(invitation, token):
    client = Client()
    for method, url in (
        ("get", f"/r/{token}/"),
        ("get", f"/r/optout/{token}/"),
        ("post", f"/r/optout/{token}/"),
    ):
        try:
            response = getattr(client, method)(url)
        except ValueError:  # the test client refuses some characters in a URL; a browser could not send them
            continue
        assert response.status_code in (200, 301, 302, 404, 405, 429)
    assert Invitation.objects.get(pk=invitation.pk).opted_out_at is None


@FUZZ
@given(payload=PAYLOADS)
def test_someone_elses_response_cannot_be_reached_by_changing_fields(
    respondent, invitation, open_questionnaire, researcher, payload
):
    from respondents.services import response_consent, seed_invite

    other = Invitation.objects.filter(email="other@example.gov").first() or seed_invite(
        questionnaire=open_questionnaire, email="other@example.gov", actor=researcher
    )
    if not Response.objects.filter(invitation=other).exists():
        response_consent(invitation=other, language="en")
    before = stored(other)
    payload = {**payload, "invitation": [str(other.pk)], "response": [str(other.pk)], "token": [other.token]}
    respondent.post("/r/page/1/", payload)
    assert stored(other) == before


def test_the_fuzzed_respondent_still_answers_normally(respondent, invitation):
    """After all that, valid input is still accepted (the session and the response are intact)."""
    response = respondent.post(
        "/r/page/1/",
        {
            "P_COUNTRY": ["CA"],
            "P_LEVEL": ["SENIOR"],
            "P_SITE": ["ADMIN"],
            "P_PEERS": ["3"],
            "_action": ["next"],
        },
    )
    # Saved; with no "_shown" posted, every question counts as new, so the page is shown again.
    assert response.status_code == 200 and b'<meta name="page-url" content="/r/page/1/">' in response.content
    assert stored(invitation)["P_LEVEL"] == "SENIOR"
    assert session_client(invitation).get("/r/").status_code in (200, 302)
