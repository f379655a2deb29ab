import tempfile
import uuid
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
_TMP = Path(tempfile.mkdtemp(prefix="kb-test-"))
MEDIA_ROOT = _TMP / "media"
SEARCH_INDEX_DIR = _TMP / "search-index"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
KB_RATE_LIMIT_PER_MINUTE = KB_SEARCH_RATE_LIMIT_PER_MINUTE = KB_EXPORT_RATE_LIMIT_PER_MINUTE = 10_000
KB_RATE_LIMIT_DB = _TMP / "ratelimit.sqlite3"
STATIC_ROOT = _TMP / "static"
WHITENOISE_AUTOREFRESH = True
# Tests pointed at a live cluster (ELASTICSEARCH_URL set) write their own indices, never the site's.
ELASTICSEARCH_INDEX_PREFIX = f"kbtest-{uuid.uuid4().hex[:8]}"
