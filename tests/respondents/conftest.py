from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from questionnaires.services import questionnaire_import, questionnaire_set_schedule, questionnaire_set_status
from respondents.services import response_consent, seed_invite
from respondents.views import SESSION_KEY
from tests.factories import UserFactory

EVERY_TYPE = Path(__file__).resolve().parents[1] / "questionnaires" / "data" / "every_type.json"


@pytest.fixture
def researcher(db):
    return UserFactory(username="researcher")


@pytest.fixture
def open_questionnaire(researcher):
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=researcher)
    now = timezone.now()
    questionnaire_set_schedule(questionnaire=questionnaire, opens_at=now - timedelta(days=1),
                               closes_at=now + timedelta(days=30), time_zone="America/Toronto", actor=researcher)
    return questionnaire_set_status(questionnaire=questionnaire, status="open", actor=researcher)


@pytest.fixture
def invitation(open_questionnaire, researcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return seed_invite(questionnaire=open_questionnaire, email="ana@example.gov", name="Ana Official",
                           organisation="Ministry", country="CA", language="en", actor=researcher)


def session_client(invitation) -> Client:
    """A browser that opened the personal link."""
    client = Client()
    response = client.get(f"/r/{invitation.token}/")
    assert response.status_code == 302
    return client


@pytest.fixture
def respondent(invitation):
    response_consent(invitation=invitation, language="en")
    return session_client(invitation)


@pytest.fixture
def session_key():
    return SESSION_KEY
