import os
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection

from consultation.celery import app
from consultation.tasks import HEARTBEAT_KEY, heartbeat

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_default_writes_one_eml_file_per_message(tmp_path):
    connection = get_connection("consultation.mail.EmlFileBackend", file_path=str(tmp_path))
    message = EmailMultiAlternatives(
        "Invitation",
        "Plain text body",
        "study@example.org",
        ["Ana.Official@example.gov"],
        connection=connection,
    )
    message.attach_alternative("<p>HTML body</p>", "text/html")
    assert message.send() == 1
    EmailMultiAlternatives(
        "Second", "b", "study@example.org", ["b@example.org"], connection=connection
    ).send()
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2 and not list(tmp_path.glob("*.part"))
    parsed = message_from_bytes(files[0].read_bytes())
    assert parsed["To"] == "Ana.Official@example.gov" and parsed["Subject"] == "Invitation"
    assert parsed.is_multipart()


def test_without_a_broker_tasks_run_in_process():
    heartbeat.delay()
    assert cache.get(HEARTBEAT_KEY)


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_real_worker_consumes_from_redis():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consultation",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        cache.delete(HEARTBEAT_KEY)
        app.send_task("consultation.tasks.heartbeat", queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not cache.get(HEARTBEAT_KEY):
            time.sleep(0.2)
        assert cache.get(HEARTBEAT_KEY), "the worker did not run the task"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
