"""docker-compose.yml is for users (no Docker engine runs in CI): keep it valid and complete."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_has_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis", "mailpit"}
    assert "gunicorn consultation.wsgi" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A consultation worker")
    assert services["beat"]["command"].startswith("celery -A consultation beat")
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and env["CELERY_BROKER_URL"].startswith("redis://")
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_every_variable_the_example_documents_is_read_by_the_settings():
    settings_text = (ROOT / "consultation" / "settings.py").read_text()
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            assert f'"{name}"' in settings_text, f"{name} is documented but never read"


def test_models_and_migrations_agree(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
