from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Proves a worker is consuming: the time it last ran, in the shared cache."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
