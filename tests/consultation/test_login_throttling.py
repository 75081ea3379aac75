"""Staff logins: repeated failures lock one account from one address, logged; others carry on."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def attempt(address: str, username: str, password: str) -> int:
    client = Client(REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"username": username, "password": password}).status_code


def test_five_failures_lock_that_account_from_that_address_only(caplog):
    UserFactory(username="ana")
    UserFactory(username="ben")
    for _ in range(4):
        assert attempt("203.0.113.5", "ana", "wrong") == 200  # the form again, with its error
    assert attempt("203.0.113.5", "ana", "wrong") == 429  # the fifth failure locks
    assert attempt("203.0.113.5", "ana", PASSWORD) == 429  # locked, even with the right password
    assert "after repeated login failures" in caplog.text  # the lockout is logged
    assert attempt("203.0.113.5", "ben", PASSWORD) == 302  # a colleague in the same office
    assert attempt("198.51.100.7", "ana", PASSWORD) == 302  # the same account elsewhere


def test_a_success_before_the_limit_starts_the_count_again():
    UserFactory(username="cleo")
    for _ in range(4):
        attempt("203.0.113.6", "cleo", "wrong")
    assert attempt("203.0.113.6", "cleo", PASSWORD) == 302
    for _ in range(4):
        attempt("203.0.113.6", "cleo", "wrong")
    assert attempt("203.0.113.6", "cleo", PASSWORD) == 302


def test_the_address_comes_from_the_trusted_proxy_setting_not_a_forged_header(settings):
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy: X-Forwarded-For is ignored
    UserFactory(username="dan")
    for index in range(5):
        client = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
        client.post("/accounts/login/", {"username": "dan", "password": "wrong"})
    assert attempt("203.0.113.9", "dan", PASSWORD) == 429
