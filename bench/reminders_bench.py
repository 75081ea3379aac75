"""Benchmark: the reminder scan over 100,000 invitations (20,000 due), then one worker delivering them.

    make bench-reminders          # or: .venv/bin/python -m bench.reminders_bench --help

Creates a scratch PostgreSQL database (consultation_bench_reminders), a questionnaire and the
invitations, then times `reminders_queue` (the scan and the outbox rows) and reports its peak memory.
It starts a Redis and an SMTP sink of its own first, so the scan's sweep hands the rows to the
broker; then one `celery worker` (prefork, one process per CPU unless --concurrency says otherwise)
delivers them, and the benchmark reports messages delivered per second. Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/consultation_bench_reminders"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=20_000)
    parser.add_argument(
        "--concurrency", type=int, default=0, help="worker processes (default: Celery's, one per CPU)"
    )
    args = parser.parse_args()

    redis_port, smtp_port = free_port(), free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "consultation.settings",
        "DJANGO_READ_DOT_ENV": "false",
        "DEBUG": "false",  # as in production: the cached template loader
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "OPT_OUT_HASH_KEY": "benchmark-only-opt-out-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": "locmemcache://bench",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    name = urllib.parse.urlparse(args.database_url).path.lstrip("/")
    import psycopg

    with psycopg.connect(args.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ}, check=True)

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from questionnaires.models import Questionnaire
    from respondents.models import Invitation, OutboxMessage
    from respondents.reminders import reminders_queue

    print(f"creating {args.invitations:,} invitations, {args.due:,} of them due …", flush=True)
    questionnaire = Questionnaire.objects.create(
        slug="bench",
        languages=["en", "fr"],
        title={"en": "Benchmark consultation", "fr": "Consultation d'essai"},
        organisation={"en": "Research Branch", "fr": "Direction de la recherche"},
        status=Questionnaire.Status.OPEN,
        mail_hours=[0, 24],
        mail_weekdays=[0, 1, 2, 3, 4, 5, 6],
    )
    now = timezone.now()
    batch = []
    for number in range(1, args.invitations + 1):
        due = number <= args.due
        batch.append(
            Invitation(
                questionnaire=questionnaire,
                number=number,
                email=f"official{number}@example.gov",
                email_normalised=f"official{number}@example.gov",
                language="fr" if number % 3 == 0 else "en",
                status=Invitation.Status.EMAILED if due or number % 2 else Invitation.Status.COMPLETED,
                emailed_at=now - timedelta(days=8 if due else 2),
            )
        )
        if len(batch) == 5000:
            Invitation.objects.bulk_create(batch)
            batch = []
    Invitation.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    redis = sink = worker = None
    try:
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{smtp_port}",
                "-c",
                "aiosmtpd.handlers.Sink",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(redis_port)
        wait_port(smtp_port)
        before = peak_rss_mb()
        started = time.perf_counter()
        queued = reminders_queue(questionnaire, now=now)
        scan_seconds = time.perf_counter() - started
        print(f"scan: {queued:,} reminders queued in {scan_seconds:.2f} s; peak memory {peak_rss_mb():.0f} MB "
              f"(process, {before:.0f} MB before the scan)")  # fmt: skip

        # The scan's after-commit sweep has handed every row to Redis: the worker starts on a full queue.
        pool = ["--concurrency", str(args.concurrency)] if args.concurrency else []
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "consultation", "worker", *pool,
             "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT,
            env={**os.environ},
        )  # fmt: skip
        started = time.perf_counter()
        pending = OutboxMessage.objects.filter(kind="reminder", status=OutboxMessage.Status.PENDING)
        while pending.exists():
            time.sleep(0.5)
            if time.perf_counter() - started > 900:
                break
        seconds = time.perf_counter() - started
        sent = OutboxMessage.objects.filter(kind="reminder", status=OutboxMessage.Status.SENT).count()
        print(
            f"delivery: {sent:,} messages sent by one worker ({args.concurrency or os.cpu_count()} processes) "
            f"in {seconds:.1f} s: {sent / seconds:.0f} messages/s"
        )
    finally:
        for process in (worker, sink, redis):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
