"""Playwright driving Debian's Chromium; tests skip, saying why, where it is not installed."""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"browser test skipped: no Chromium at {CHROMIUM} (apt-get install chromium)",
)


@contextmanager
def browser_page(**options):
    """A fresh page that records console errors and uncaught page errors in ``page.kb_errors``;
    ``options`` go to Playwright's ``new_page`` (``viewport``, ``java_script_enabled``...)."""
    # Playwright's sync API runs an event loop; Django's async-safety check must allow ORM use meanwhile.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(**options)
            page.kb_errors = []
            page.on("console", lambda m: m.type == "error" and page.kb_errors.append(m.text))
            page.on("pageerror", lambda e: page.kb_errors.append(str(e)))
            yield page
        finally:
            browser.close()
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
