"""Settings, read from the environment only (see .env.example for every variable).

With no variables at all except DEBUG and SECRET_KEY (which `make run` writes into .env) the
platform runs on its embedded default: SQLite under var/, Celery tasks executed in-process,
emails written as .eml files under var/mail/. Production sets DATABASE_URL, CELERY_BROKER_URL,
CACHE_URL and the EMAIL_* variables.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# `make run` writes .env for the embedded default; real deployments set the environment instead.
if env.bool("DJANGO_READ_DOT_ENV", default=True):
    env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY in the environment "
            "(for example: SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')), "
            "or run `make run`, which writes a development .env for you."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"

# Opted-out addresses are kept only as HMACs under this key. It is not the SECRET_KEY, and it is
# never rotated: a new key would forget every opt-out.
OPT_OUT_HASH_KEY = env.str("OPT_OUT_HASH_KEY", default="")
if not OPT_OUT_HASH_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "OPT_OUT_HASH_KEY is not set and DEBUG is off. Set it once, to a random value of its own "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), and never change it."
        )
    OPT_OUT_HASH_KEY = "insecure-development-opt-out-key-only-used-with-DEBUG"
if OPT_OUT_HASH_KEY == SECRET_KEY:
    raise ImproperlyConfigured(
        "OPT_OUT_HASH_KEY must differ from SECRET_KEY: the two are rotated differently."
    )

# Where links in emails point: the address respondents open.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# How many reverse proxies (load balancer, nginx) append to X-Forwarded-For in front of the app.
# The client address used for throttling and logs is taken that many hops from the right;
# 0 means the app faces clients directly and X-Forwarded-For is ignored (it could be forged).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_countries",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "consultation",
    "questionnaires",
    "respondents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "consultation.middleware.ClientAddressMiddleware",
    "consultation.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "consultation.two_factor.TwoFactorMiddleware",
    "consultation.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Staff logins: after AXES_FAILURE_LIMIT failures for one account from one address, that account is
# locked for that address for an hour (an office behind one address is not locked as a whole, and
# someone guessing one colleague's password does not lock the others). Every lockout is logged.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)

# A code from an authenticator app after the password, for staff who may export answers or see
# names (consultation/two_factor.py). On by default in production; the embedded demo runs without.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Consultation platform")
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address as TRUSTED_PROXY_COUNT reads it (consultation/middleware.py), never a forgeable header.
AXES_CLIENT_IP_CALLABLE = "consultation.middleware.client_ip_for_axes"

ROOT_URLCONF = "consultation.urls"
WSGI_APPLICATION = "consultation.wsgi.application"

TEMPLATES = [
    {
        # Respondents' pages (consultation/jinja2.py says why); everything else below.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "consultation.jinja2.environment",
            "context_processors": ["consultation.jinja2.csrf_once"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL through psycopg 3 in production; SQLite under var/ as the embedded default.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that needs no round trip (consultation/postgresql).
    DATABASES["default"]["ENGINE"] = "consultation.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at the
        # start of a transaction instead of failing half-way with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
elif env.bool("DATABASE_POOL", default=False):
    # Django's built-in psycopg 3 pool; it replaces persistent connections (CONN_MAX_AGE).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=10),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# The health check asks the connection's socket before the server (consultation/postgresql).
CONN_HEALTH_CHECKS_QUIET_SOCKET = env.bool("CONN_HEALTH_CHECKS_QUIET_SOCKET", default=True)
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Parameters travel apart from the SQL and psycopg prepares a statement the fifth time a
    # connection runs it, so PostgreSQL parses and plans the respondents' few queries once per
    # connection, and psycopg no longer quotes every parameter into the SQL in Python. On by
    # default, as in Rails' PostgreSQL adapter. Turn it off behind PgBouncer in transaction mode
    # older than 1.21. A prepared statement fails once a migration changes the type of a column
    # it returns, until its connection closes (CONN_MAX_AGE); restart the app after such a
    # migration, as docker-compose.yml does by migrating before gunicorn starts.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://consultation")}

# Sessions read from the cache and written through to the database: a respondent's page costs no
# session query, and a cache restart loses nobody's session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A session lasts at most a working day, and ends sooner when unused (IdleSessionMiddleware).
SESSION_MAX_HOURS = 12  # from login, or from opening the personal link, however active
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
STAFF_IDLE_MINUTES = env.int("STAFF_IDLE_MINUTES", default=60)
RESPONDENT_IDLE_MINUTES = env.int("RESPONDENT_IDLE_MINUTES", default=120)

# --- Celery ---------------------------------------------------------------------------------
# No broker configured: tasks run in-process, right after the transaction that queued them.
CELERY_TASK_ALWAYS_EAGER = not env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
# Acknowledge a task only once it has run, and give it back if its worker process dies: a task
# lost with a crash runs again. Tasks take ids and the outbox rows decide, so running twice is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One task at a time per process: a crashed worker holds back (and later hands back) only that one.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task (its whole worker was killed) goes back to the queue after this long.
    # Longer than any task runs (a batch of 100 emails takes seconds), or it would run twice at once;
    # the outbox sweep, not this timeout, is what recovers lost deliveries quickly.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often kombu looks for such tasks (interval x throttle seconds; its default is 10 x 10).
    "unacked_restore_interval": env.float("CELERY_UNACKED_RESTORE_INTERVAL", default=10.0),
    "unacked_restore_throttle": env.float("CELERY_UNACKED_RESTORE_THROTTLE", default=10.0),
}
# A request that queues an email must not hang while Redis is down: a short connection timeout and
# a short publish retry, after which the row waits in the database for the sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"
# Run by exactly one `celery -A consultation beat` (two would scan twice; the outbox keys would still
# keep each reminder single, but the work would double).
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "consultation.tasks.heartbeat", "schedule": 60.0},
    "outbox-sweep": {
        "task": "respondents.tasks.outbox_sweep_task",
        "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=60),
    },
    "reminder-scan": {
        "task": "respondents.tasks.reminders_scan_task",
        "schedule": env.float("REMINDER_SCAN_SECONDS", default=15 * 60),
    },
}

# A dashboard snapshot this old is refreshed (its page reloads its figures every minute): everyone
# watching reads the same snapshot, and an older one is served while a worker computes the next.
DASHBOARD_SECONDS = env.int("DASHBOARD_SECONDS", default=30)

# --- Outbox ---------------------------------------------------------------------------------
# A temporary failure (4xx, refused connection, time-out) is retried after base, 2 x base, 4 x base ...
# seconds, capped, up to a number of attempts; a 5xx refusal fails the row at once.
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=6 * 3600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# A row handed to the broker is not swept again for this long (its task may still be queued).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=600)

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="consultation.mail.EmlFileBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Consultation <consultation@localhost>")
EMAIL_REPLY_TO = env.str("EMAIL_REPLY_TO", default="")  # where respondents' replies go, if not From
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# With django-anymail as EMAIL_BACKEND (a provider's API instead of SMTP), its tracking webhooks
# report later bounces and complaints: set ANYMAIL_WEBHOOK_SECRET ("user:password" for the
# webhook's basic auth) to mount them under /anymail/.
ANYMAIL_WEBHOOK_SECRET = env.str("ANYMAIL_WEBHOOK_SECRET", default="")
ANYMAIL = {"WEBHOOK_SECRET": ANYMAIL_WEBHOOK_SECRET} if ANYMAIL_WEBHOOK_SECRET else {}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "consultation.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Page security --------------------------------------------------------------------------
# Strict policy on every page: scripts and styles only from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_address": {"()": "consultation.middleware.ClientAddressLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(client_address)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["client_address"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
    },
}
