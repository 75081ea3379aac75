import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from questionnaires.services import questionnaire_import, questionnaire_set_schedule, questionnaire_set_status
from tests.factories import MembershipFactory, QuestionnaireFactory, UserFactory

EVERY_TYPE = Path(__file__).resolve().parent / "questionnaires" / "data" / "every_type.json"


def broker_is_redis() -> bool:
    return os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://"))


def database_is_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config, items):
    """Integration tests need a Redis broker, `postgresql` tests PostgreSQL; on the embedded default
    they are left out (not skipped): .ci/run runs the suite on both."""
    left_out = set()
    if not broker_is_redis():
        left_out.add("integration")
    if not database_is_postgresql():
        left_out.add("postgresql")
    selected = [item for item in items if not left_out & set(item.keywords)]
    deselected = [item for item in items if left_out & set(item.keywords)]
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


@pytest.fixture
def researcher(db):
    return UserFactory(username="researcher")


@pytest.fixture
def open_questionnaire(researcher):
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=researcher)
    now = timezone.now()
    questionnaire_set_schedule(
        questionnaire=questionnaire,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        time_zone="America/Toronto",
        actor=researcher,
    )
    return questionnaire_set_status(questionnaire=questionnaire, status="open", actor=researcher)
