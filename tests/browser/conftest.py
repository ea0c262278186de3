"""Playwright (sync API) on Debian's chromium for the browser tests.

Nothing is downloaded: the browser is /usr/bin/chromium from apt, never
`playwright install`; without it the browser tests skip, except under CI.
One browser per test session keeps the suite fast; each test gets a fresh
context, so cookies never leak from one test to the next.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in this thread; without this flag
# Django refuses ORM calls made from the test body (SynchronousOnlyOperation).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Generous enough for a loaded CI machine, short enough that a hang fails fast.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        # Skipped on a developer's machine without it; in CI (.ci/run installs
        # it) a missing browser is a failure, never a silent skip.
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    # Dutch is the portal's default language and what a school's browser sends.
    context = browser.new_context(locale="nl-NL")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()
