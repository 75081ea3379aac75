import pytest
from django.test import Client

from tests.factories import MembershipFactory, QuestionnaireFactory, UserFactory


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache (throttles and cached pages must not leak between tests)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def questionnaire(db):
    return QuestionnaireFactory()


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(questionnaire):
    user = UserFactory()
    MembershipFactory(questionnaire=questionnaire, user=user, role="owner")
    return _client_for(user)


@pytest.fixture
def client_for():
    return _client_for
