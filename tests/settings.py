"""Test settings: the real settings, read from the same environment, with test-only conveniences.

`make test` runs the suite on the embedded default; with DATABASE_URL, CELERY_BROKER_URL and
CACHE_URL pointing at PostgreSQL and Redis (as .ci/run does) it runs against the real servers.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("OPT_OUT_HASH_KEY", "test-only-opt-out-key-not-for-production-use-9876543210")

from consultation.settings import *  # noqa: F403
from consultation.settings import VAR_DIR

# Fast password hashing: tests create many accounts.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = str(VAR_DIR / "test-media")
# Serve static files from the finders, without a collectstatic run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Unit tests run tasks in-process, right after the transaction that queued them. Integration
# tests (marked `integration`) send to the real broker with send_task and a real worker process.
CELERY_TASK_ALWAYS_EAGER = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, like the embedded default (WAL, busy timeout): concurrent writers wait for each other
    # as they do in `make run`, where an in-memory shared-cache database would fail them at once.
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405

# Two-factor authentication is on in production (OTP_REQUIRED follows DEBUG); the suite logs staff in
# with force_login, so it is off here and tests/consultation/test_two_factor.py turns it on.
OTP_REQUIRED = False
