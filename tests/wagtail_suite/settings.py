"""Wagtail's own test settings and apps, with our search backend as the default (``make test-wagtail``).

Wagtail's search-related tests (page search, the admin's search, choosers, snippets, documents) run
against ``search.backend`` here to hold it to what Wagtail's database backend does.
"""

import tempfile
from pathlib import Path

from wagtail.test.settings import *  # noqa: F403
from wagtail.test.settings import INSTALLED_APPS, WAGTAILSEARCH_BACKENDS

INSTALLED_APPS = [*INSTALLED_APPS, "search", "practices", "modelcluster", "django_countries"]
WAGTAILSEARCH_BACKENDS = {**WAGTAILSEARCH_BACKENDS, "default": {"BACKEND": "search.backend"}}

_TMP = Path(tempfile.mkdtemp(prefix="kb-wagtail-suite-"))
SEARCH_INDEX_DIR = _TMP / "search-index"
ELASTICSEARCH_URL = ""
ELASTICSEARCH_INDEX_PREFIX = "kbwagtailtest"
ELASTICSEARCH_TIMEOUT = 2.0
ELASTICSEARCH_API_KEY = ELASTICSEARCH_USERNAME = ELASTICSEARCH_PASSWORD = ""
ELASTICSEARCH_VERIFY_CERTS = True
KB_BASE_URL = "http://testserver"
KB_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
KB_RATE_LIMIT_PER_MINUTE = 10_000
KB_TRUSTED_PROXIES = 0
KB_REVIEW_AFTER_MONTHS = 12
COUNTRIES_OVERRIDE = {"XK": "Kosovo"}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
