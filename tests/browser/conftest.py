"""Headless Chromium from Debian's packages (never a Playwright browser download)."""

import os

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves (set-up, assertions) are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(CHROMIUM):
        raise pytest.UsageError(
            f"Browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium"
        )
