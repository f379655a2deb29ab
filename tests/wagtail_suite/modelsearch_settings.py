"""modelsearch's test app with our search backend as the default (``make test-modelsearch``).

modelsearch's ``BackendTests`` run against ``search.backend`` here (tests/wagtail_suite/modelsearch_backend.py).
They read and override ``MODELSEARCH_BACKENDS`` and import ``modelsearch.models``, so modelsearch's own
app stands in for ``wagtail.search`` (the same app under Wagtail's label and setting name).

Their fixture, ``search.json``, is not in modelsearch's wheel or sdist: ``MODELSEARCH_FIXTURES`` names
the folder that holds it (``make test-modelsearch`` takes the older one Wagtail 7.1.2's wheel ships).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from kb.settings.test import *  # noqa: F403
from kb.settings.test import _TMP, INSTALLED_APPS, SQLITE_OPTIONS

_FIXTURES = os.environ.get("MODELSEARCH_FIXTURES", "")
if not _FIXTURES or not (Path(_FIXTURES) / "search.json").is_file():
    raise ImproperlyConfigured(
        "MODELSEARCH_FIXTURES must name a folder holding modelsearch's search.json fixture "
        f"(modelsearch/test/testapp/fixtures/ in its repository); got {_FIXTURES!r}"
    )
FIXTURE_DIRS = [_FIXTURES]

INSTALLED_APPS = ["modelsearch" if app == "wagtail.search" else app for app in INSTALLED_APPS] + [
    "modelsearch.test.testapp"
]
# Its migrations depend on wagtail.search's, which is not installed here: its tables are made directly,
# before the migrated ones. PostgreSQL refuses that (their foreign keys to pages), so SQLite only,
# whatever DATABASE_URL says.
MIGRATION_MODULES = {"wagtailsearchpromotions": None}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _TMP / "modelsearch.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
    }
}

MODELSEARCH_BACKENDS = {"default": {"BACKEND": "search.backend"}}
