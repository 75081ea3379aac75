"""Throttling of failed link look-ups, per client address, through the cache.

Only failures count: a valid link is never throttled, so a ministry whose officials all come
from one address still gets in. If the cache is down the throttle lets requests through and logs it.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

FAILED_LOOKUP_LIMIT = 20
WINDOW_SECONDS = 600


def _key(address: str) -> str:
    return f"throttle:link-failures:{address}"


def failed_lookups_exceeded(address: str) -> bool:
    try:
        return (cache.get(_key(address)) or 0) >= FAILED_LOOKUP_LIMIT
    except Exception:
        logger.warning("Cache unreachable: link throttle not applied", exc_info=True)
        return False


def failed_lookup_record(address: str) -> None:
    try:
        if not cache.add(_key(address), 1, timeout=WINDOW_SECONDS):
            cache.incr(_key(address))
    except ValueError:  # expired between add and incr
        cache.set(_key(address), 1, timeout=WINDOW_SECONDS)
    except Exception:
        logger.warning("Cache unreachable: failed link look-up not counted", exc_info=True)
