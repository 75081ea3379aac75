import pytest
from django.contrib.auth.models import Permission

from questionnaires.services import questionnaire_import
from tests.conftest import EVERY_TYPE
from tests.factories import UserFactory


@pytest.fixture
def owner():
    """A researcher who may create questionnaires (the site permission), owner of `draft`."""
    user = UserFactory(username="owner")
    user.user_permissions.add(Permission.objects.get(codename="add_questionnaire"))
    return user


@pytest.fixture
def draft(owner):
    return questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=owner)
