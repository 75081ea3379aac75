import pytest
from django.db.models.query_utils import DeferredAttribute
from django.test import Client

from questionnaires.models import Questionnaire
from respondents.models import Invitation, Response
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


@pytest.fixture
def refuse_deferred_loads(monkeypatch):
    """Respondents' pages load only some fields of the invitation, questionnaire and response
    (respondents.selectors.respondent_invitation): touching another would cost a query per field."""
    load = DeferredAttribute.__get__

    def refusing(self, instance, cls=None):
        if (
            isinstance(instance, Invitation | Questionnaire | Response)
            and self.field.attname not in instance.__dict__
        ):
            raise AssertionError(
                f"{type(instance).__name__}.{self.field.attname} was not loaded with the page"
            )
        return load(self, instance, cls)

    monkeypatch.setattr(DeferredAttribute, "__get__", refusing)
