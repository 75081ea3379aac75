import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consultation.settings")

app = Celery("consultation")
# Every CELERY_* setting in settings.py configures the app; without a broker,
# CELERY_TASK_ALWAYS_EAGER runs tasks in-process (the embedded default).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
