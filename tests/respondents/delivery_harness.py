"""Real servers for the delivery integration tests: an SMTP sink, a Redis of the test's own, a Celery
worker (with its beat) and a gunicorn, all on loopback ports of their own.

Scenarios that stop or kill a server use these, never the machine's shared Redis.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class SmtpSink:
    """Records every message it accepts; can answer 451 or 550 first, and take its time."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []  # (Message-ID, recipient)
        self.script: list[str] = []  # replies to give before accepting, e.g. ["451 4.3.0 busy"]
        self.refuse: dict[str, str] = {}  # recipient -> permanent reply
        self.delay = 0.0
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        recipient = envelope.rcpt_tos[0]
        with self.lock:
            if recipient in self.refuse:
                return self.refuse[recipient]
            if self.script:
                return self.script.pop(0)
            parsed = message_from_bytes(envelope.content)
            # A long header is folded on the wire (RFC 5322): unfold it to compare ids.
            message_id = "".join(str(parsed["Message-ID"]).split())
            self.received.append((message_id, recipient))
        return "250 OK"

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(message_id for message_id, _ in self.received)

    def recipients(self) -> list[str]:
        with self.lock:
            return [recipient for _, recipient in self.received]

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 20, f"redis on port {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def database_url() -> str:
    """The test database, for the server processes: they must see what the test commits."""
    settings = connection.settings_dict
    assert connection.vendor == "postgresql", "integration tests run on PostgreSQL"
    user, password = settings["USER"] or "postgres", settings["PASSWORD"] or "postgres"
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{user}:{password}@{host}:{port}/{settings['NAME']}"


def server_env(*, redis: RedisServer, smtp: SmtpSink, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consultation.settings",
        "DJANGO_READ_DOT_ENV": "false",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis.url,
        "CACHE_URL": "locmemcache://integration",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "5",
        # Quick enough for a test, the same mechanisms as production.
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_LEASE_SECONDS": "5",
        "OUTBOX_RETRY_BASE_SECONDS": "1",
        "CELERY_VISIBILITY_TIMEOUT": "10",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "REMINDER_SCAN_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


class Worker:
    """`celery worker -B`: one process, one child (at most one message in flight when it is killed)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        schedule = self.log.with_suffix(".schedule")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "consultation", "worker", "-B",
                "-s", str(schedule), "-P", "prefork", "-c", "1",
                "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes the child and beat too
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the whole worker: no clean shutdown, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class WebServer:
    """gunicorn on a free port with the same settings as the worker."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.env = {**env, "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": f"http://127.0.0.1:{self.port}"}
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "consultation.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for(self._answers, 30, "gunicorn")
        return self

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)
