"""Browser fixtures for the e2e page tests: the machine's Chromium, driven by Playwright.

Playwright cannot download its own browser here, so every launch points at the Debian
Chromium (``$CHROMIUM``, default /usr/bin/chromium) with flags that keep it headless, offline
and quiet (../shared/ENVIRONMENT.md §6).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1360, "height": 900}}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go (``$SIEMHUB_TEST_ARTIFACTS``, default ``<repo>/test-artifacts``)."""
    default = Path(__file__).resolve().parents[2] / "test-artifacts"
    path = Path(os.environ.get("SIEMHUB_TEST_ARTIFACTS") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path
