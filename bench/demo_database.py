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
