"""The PostgreSQL backend's health check: no round trip while the server is quiet, and a
connection the server ended is still replaced before a request uses it."""

import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoDatabaseWrapper

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _server_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_request() -> None:
    """What Django does between two requests (the request_finished/started signals)."""
    connection.close_if_unusable_or_obsolete()


def _admin_connection():
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"] or "postgres",
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )


def test_health_checks_are_on():
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.vendor == "postgresql"


def test_a_quiet_connection_is_checked_without_asking_the_server(monkeypatch):
    first = _server_pid()
    asked = []
    monkeypatch.setattr(DjangoDatabaseWrapper, "is_usable", lambda self: asked.append(1) or True)
    for _ in range(3):
        _next_request()
        assert _server_pid() == first
    assert asked == []


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it():
    ended = _server_pid()
    with _admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [ended])
    # The server's goodbye reaches the socket a moment later.
    deadline = time.monotonic() + 5
    from consultation.postgresql.base import _quiet

    while _quiet(connection.connection) and time.monotonic() < deadline:
        time.sleep(0.01)
    _next_request()
    replacement = _server_pid()  # no error: the check saw the connection was gone
    assert replacement != ended


def test_a_connection_mid_transaction_is_left_to_djangos_own_check():
    from consultation.postgresql.base import _quiet

    _server_pid()
    raw = connection.connection
    assert _quiet(raw)
    with raw.transaction():
        raw.execute("SELECT 1")
        assert not _quiet(raw)


def test_without_the_quiet_socket_check_the_server_is_asked_each_request(monkeypatch, settings):
    settings.CONN_HEALTH_CHECKS_QUIET_SOCKET = False
    _server_pid()
    asked = []
    monkeypatch.setattr(DjangoDatabaseWrapper, "is_usable", lambda self: asked.append(1) or True)
    for _ in range(2):
        _next_request()
        _server_pid()
    assert asked == [1, 1]
