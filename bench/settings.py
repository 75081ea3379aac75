"""Settings for benchmark servers: production settings plus the floor view's URL."""

from consultation.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
