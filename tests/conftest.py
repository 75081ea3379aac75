import os

import pytest
from django.test import Client

from tests.factories import MembershipFactory, QuestionnaireFactory, UserFactory


def broker_is_redis() -> bool:
    return os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://"))


def pytest_collection_modifyitems(config, items):
    """Integration tests need a Redis broker; on the embedded default they are left out (not skipped)."""
    if broker_is_redis():
        return
    selected = [item for item in items if "integration" not in item.keywords]
    deselected = [item for item in items if "integration" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config):
    if broker_is_redis():
        return "integration tests: on (CELERY_BROKER_URL points at Redis)"
    return "integration tests: left out (no Redis broker configured; .ci/run runs them)"


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
