"""What the benchmarks that run on the demo consultation share: production-like settings from the
environment, a scratch PostgreSQL database (made afresh, or reused with --reuse), migrations, static
files and the demo questionnaire, then Django set up in this process."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "radicalized-offenders-consultation"


def demo_database(database_url: str, *, reuse: bool) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "consultation.settings",
            "DJANGO_READ_DOT_ENV": "false",
            "DEBUG": "false",
            "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "OPT_OUT_HASH_KEY": "benchmark-only-opt-out-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": "/tmp/consultation-bench-static",
            "OTP_REQUIRED": "false",  # the benchmark's client logs in without an authenticator
        }
    )
    name = urllib.parse.urlparse(database_url).path.lstrip("/")
    import psycopg

    manage = [sys.executable, "manage.py"]
    if not reuse:
        with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, check=True)
    subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], cwd=ROOT, check=True)
    if not reuse:
        subprocess.run([*manage, "load_demo", "--force"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    import django

    django.setup()


def simulated(questionnaire, respondents: int, *, reuse: bool) -> float | None:
    """Fill the demo with `respondents` simulated ones (unless reusing a database a previous run
    left) and return the seconds it took; then vacuum and analyze, as autovacuum would have by the
    time anyone reads the figures (visibility map, statistics)."""
    import time

    from django.db import connection

    from respondents.simulation import simulate_consultation

    seconds = None
    if not reuse:
        print(f"simulating {respondents:,} respondents …", flush=True)
        started = time.perf_counter()
        simulate_consultation(questionnaire, respondents=respondents, seed=1, bulk_load=True)
        seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return seconds


def timed(client, url: str, runs: int, *, cold: bool = False) -> tuple[float, float]:
    """Median and worst milliseconds of a GET, after one to compile templates and warm caches;
    `cold` empties the cache before each (the dashboard's snapshot too)."""
    import statistics
    import time

    from django.core.cache import cache

    client.get(url)
    times = []
    for _ in range(runs):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(times) * 1000, max(times) * 1000
