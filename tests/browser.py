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


@contextmanager
def shared_live_site(django_db_blocker):
    """A live server for one module's browser tests, and the database open to the data the module
    builds (committed, so the server's thread sees it) before it yields. Afterwards the database is
    emptied and given back the content migrations made, as a ``serialized_rollback`` test leaves it.

    The module marks its tests ``django_db(serialized_rollback=True)`` (so the test database is
    created and its migrated content serialized) and uses ``shared_dirs`` for uploads and the index."""
    from pytest_django.live_server_helper import LiveServer

    from django.core.management import call_command
    from django.db import connection

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with django_db_blocker.unblock():
        server = LiveServer("localhost")
        try:
            yield server.url
        finally:
            server.stop()
            call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
            # The restored rows keep their ids; PostgreSQL's sequences must move past them (as
            # loaddata does), or the next row made would take id 1 again. SQLite needs nothing.
            from django.apps import apps
            from django.core.management.color import no_style

            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                    cursor.execute(statement)
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
