import pytest
from django.test import Client

from respondents.services import response_consent, seed_invite
from respondents.views import SESSION_KEY


@pytest.fixture
def invitation(open_questionnaire, researcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return seed_invite(
            questionnaire=open_questionnaire,
            email="ana@example.gov",
            name="Ana Official",
            organisation="Ministry",
            country="CA",
            language="en",
            actor=researcher,
        )


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
