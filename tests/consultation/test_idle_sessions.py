"""Sessions end after inactivity: staff are sent to log in again; respondents lose nothing, as their
personal link opens a new session at the first unfinished domain."""

from __future__ import annotations

import re

import pytest
from django.test import Client

import consultation.middleware as middleware
from respondents.services import response_consent, response_save_domain, seed_invite
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(middleware, "_now", lambda: now[0])
    return now


def test_staff_are_logged_out_after_an_idle_hour(clock, settings):
    settings.STAFF_IDLE_MINUTES = 60
    client = Client()
    client.force_login(UserFactory(username="idle"))
    assert client.get("/").status_code == 200
    clock[0] += 59 * 60
    assert client.get("/").status_code == 200  # still within the hour, and it counts as activity
    clock[0] += 59 * 60
    assert client.get("/").status_code == 200
    clock[0] += 61 * 60
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_idle_respondent_comes_back_with_the_link_and_nothing_lost(clock, open_questionnaire, researcher):
    invitation = seed_invite(questionnaire=open_questionnaire, email="idle@example.gov", actor=researcher)
    response = response_consent(invitation=invitation, language="en")
    profile = {"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]}
    assert response_save_domain(response=response, domain_code="PROFILE", submitted=profile).ok
    client = Client()
    client.get(f"/r/{invitation.token}/")
    assert client.get("/r/page/1/").status_code == 200
    clock[0] += 3 * 3600
    assert client.get("/r/page/1/").status_code == 404  # the session ended: the neutral page
    client.get(f"/r/{invitation.token}/")
    resumed = client.get("/r/resume/")
    assert resumed.status_code == 302 and resumed["Location"] == "/r/page/2/"
    page = client.get("/r/page/1/").content.decode()
    assert re.search(r'name="P_LEVEL"[^>]*value="SENIOR" checked', page)


def test_a_session_ends_twelve_hours_after_login_however_active(clock):
    client = Client()
    client.force_login(UserFactory(username="busy"))
    for _ in range(24):  # every half hour for twelve hours
        clock[0] += 30 * 60
        assert client.get("/").status_code == 200
    clock[0] += 31 * 60
    assert client.get("/").status_code == 302


def test_the_dashboards_own_refresh_is_not_activity(clock, open_questionnaire, researcher):
    client = Client()
    client.force_login(researcher)
    for _ in range(13):  # an open dashboard tab refreshing every five minutes for an hour
        clock[0] += 5 * 60
        client.get(f"/dashboard/{open_questionnaire.slug}/data.json")
    assert client.get("/").status_code == 302


def test_a_page_posted_after_the_idle_limit_is_still_saved(clock, open_questionnaire, researcher):
    invitation = seed_invite(questionnaire=open_questionnaire, email="late@example.gov", actor=researcher)
    response_consent(invitation=invitation, language="en")
    client = Client()
    client.get(f"/r/{invitation.token}/")
    clock[0] += 3 * 3600  # the page stayed open over lunch
    posted = client.post(
        "/r/page/1/", {"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]}
    )
    assert posted.status_code == 200 and b'<meta name="page-url" content="/r/page/' in posted.content
    from respondents.selectors import response_answers

    assert response_answers(invitation.response)["P_LEVEL"] == "SENIOR"
