"""Two-factor authentication: staff who may export answers or see names give a code from an
authenticator app after their password; others are not asked; a wrong code lets no one in."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from consultation.models import AuditEntry
from questionnaires.services import membership_set
from tests.factories import PASSWORD, QuestionnaireFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def required(settings):
    settings.OTP_REQUIRED = True


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    return (
        f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead):06d}"
    )


def logged_in(username: str) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def researcher_account():
    user = UserFactory(username="two-factor-researcher")
    membership_set(questionnaire=QuestionnaireFactory(), user=user, role="researcher", actor=None)
    return user


def test_a_researcher_sets_up_an_authenticator_then_gets_in(researcher_account, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no back-off between the wrong and the right code here
    client = logged_in(researcher_account.username)
    response = client.get("/author/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/?next=")
    page = client.get(response["Location"]).content.decode()
    assert 'id="secret"' in page and "data:image/svg+xml" in page
    assert not TOTPDevice.objects.filter(user=researcher_account).exists()  # nothing stored until confirmed
    typed = re.sub(r"\s", "", re.search(r'id="secret">([^<]+)<', page).group(1))
    device = TOTPDevice(user=researcher_account, key=base64.b32decode(typed + "=" * (-len(typed) % 8)).hex())
    assert client.post("/accounts/two-factor/", {"code": "000000", "next": "/author/"}).status_code == 400
    assert client.get("/author/").status_code == 302  # still not in
    response = client.post("/accounts/two-factor/", {"code": code_for(device), "next": "/author/"})
    assert response.status_code == 302 and response["Location"] == "/author/"
    assert client.get("/author/").status_code == 200
    device = TOTPDevice.objects.get(user=researcher_account)
    assert device.confirmed and device.key == base64.b32decode(typed + "=" * (-len(typed) % 8)).hex()
    assert AuditEntry.objects.filter(action="two_factor.set_up", actor=researcher_account).exists()


def test_the_next_login_asks_for_a_code_from_the_same_device(researcher_account):
    device = TOTPDevice.objects.create(user=researcher_account, name="phone", confirmed=True)
    client = logged_in(researcher_account.username)
    page = client.get("/accounts/two-factor/?next=/").content.decode()
    assert 'id="secret"' not in page  # the key is never shown again
    assert client.post("/accounts/two-factor/", {"code": code_for(device), "next": "/"}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_monitor_is_not_asked_unless_they_chose_an_authenticator(researcher_account):
    monitor = UserFactory(username="two-factor-monitor")
    membership_set(questionnaire=QuestionnaireFactory(), user=monitor, role="monitor", actor=None)
    assert logged_in(monitor.username).get("/").status_code == 200
    TOTPDevice.objects.create(user=monitor, name="phone", confirmed=True)  # optional, set up by choice
    assert logged_in(monitor.username).get("/").status_code == 302


def test_a_forged_next_goes_home(researcher_account):
    device = TOTPDevice.objects.create(user=researcher_account, name="phone", confirmed=True)
    client = logged_in(researcher_account.username)
    response = client.post(
        "/accounts/two-factor/", {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_respondent_pages_never_ask(researcher_account, client):
    assert client.get("/r/").status_code == 404  # the neutral page, not a redirect to log in


def test_wrong_codes_slow_down_further_tries(researcher_account):
    device = TOTPDevice.objects.create(user=researcher_account, name="phone", confirmed=True)
    client = logged_in(researcher_account.username)
    client.post("/accounts/two-factor/", {"code": "000000", "next": "/"})
    response = client.post("/accounts/two-factor/", {"code": code_for(device), "next": "/"})
    assert response.status_code == 400 and "Too many wrong codes" in response.content.decode()
    assert client.get("/author/").status_code == 302


def test_someone_with_only_the_password_never_sees_the_key_the_owner_confirms(researcher_account):
    intruder = logged_in(researcher_account.username)
    seen = re.search(r'id="secret">([^<]+)<', intruder.get("/accounts/two-factor/").content.decode()).group(1)
    owner = logged_in(researcher_account.username)
    shown = re.search(r'id="secret">([^<]+)<', owner.get("/accounts/two-factor/").content.decode()).group(1)
    assert shown != seen
    page = owner.get("/accounts/two-factor/")
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]


def test_staff_accounts_need_the_second_factor_too():
    staff = UserFactory(username="two-factor-staff", is_staff=True)
    response = logged_in(staff.username).get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")
