"""Wagtail's own test settings and apps, with our search backend as the default (``make test-wagtail``).

Wagtail's search-related tests (page search, the admin's search, choosers, snippets, documents) run
against ``search.backend`` here to hold it to what Wagtail's database backend does.
"""

import tempfile
from pathlib import Path

from wagtail.test.settings import *  # noqa: F403
from wagtail.test.settings import INSTALLED_APPS, TEMPLATES, WAGTAILSEARCH_BACKENDS

from kb.settings import base as kb_base

# Our own settings as the site has them (so a new one cannot be missing here), then this suite's.
globals().update(
    {
        name: getattr(kb_base, name)
        for name in dir(kb_base)
        if name.startswith(("KB_", "SEARCH_", "ELASTICSEARCH_")) or name == "BASE_DIR"
    }
)

INSTALLED_APPS = [*INSTALLED_APPS, "search", "practices", "modelcluster", "django_countries"]
# Our backend answers page searches; everything else goes to the backend Wagtail tests with.
WAGTAILSEARCH_BACKENDS = {
    **WAGTAILSEARCH_BACKENDS,
    "default": {"BACKEND": "search.backend", "FALLBACK": WAGTAILSEARCH_BACKENDS["default"]["BACKEND"]},
}

# Wagtail's Jinja2 test templates need jinja2, which the site does not use (nor install).
TEMPLATES = [t for t in TEMPLATES if not t["BACKEND"].endswith("Jinja2")]

_TMP = Path(tempfile.mkdtemp(prefix="kb-wagtail-suite-"))
SEARCH_INDEX_DIR = _TMP / "search-index"
KB_RATE_LIMIT_DB = _TMP / "ratelimit.sqlite3"
ELASTICSEARCH_URL = ""
ELASTICSEARCH_INDEX_PREFIX = "kbwagtailtest"
KB_BASE_URL = "http://testserver"
KB_RATE_LIMIT_PER_MINUTE = KB_SEARCH_RATE_LIMIT_PER_MINUTE = KB_EXPORT_RATE_LIMIT_PER_MINUTE = 10_000
COUNTRIES_OVERRIDE = {"XK": "Kosovo"}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Our admin hooks link to the editors' guide.
ROOT_URLCONF = "tests.wagtail_suite.urls"
