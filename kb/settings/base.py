"""Settings shared by every environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KB_VAR_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "kb",
    "search",
    "practices",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.routable_page",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "django_countries",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "axes",
    "django.forms",
    "csp",
]

MIDDLEWARE = [
    "practices.uploads.UploadCleanupMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kb.csp.KBCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "practices.admin_viewer.AdminViewerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "kb.ratelimit.RateLimitMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its lock-out page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes): after KB_SIGNIN_FAILURE_LIMIT failed sign-ins (or wrong set-password
# links) for one account, or from one address, that account or address is refused for
# KB_SIGNIN_COOLOFF_MINUTES. Attempts and lock-outs are logged and listed in the database.
AXES_FAILURE_LIMIT = int(os.environ.get("KB_SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KB_SIGNIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "kb.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "kb.signin.lockout"
AXES_RESET_ON_SUCCESS = True
# The log says which account and address (passwords are never logged).
AXES_SENSITIVE_PARAMETERS: list[str] = []

# Content-Security-Policy (django-csp) on every response: the public site needs no outside source and
# no inline script or style; Wagtail's admin gets the looser policy below (kb.csp).
_CSP_COMMON = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {**_CSP_COMMON, "script-src": ["'self'"], "style-src": ["'self'"]},
}
# Wagtail 8's admin still writes inline scripts and style attributes, previews pages in a frame and
# shows uploads from blob: URLs before they are sent.
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        **_CSP_COMMON,
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "frame-src": ["'self'"],
    },
}

ROOT_URLCONF = "kb.urls"
WSGI_APPLICATION = "kb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
# SQLite serves searches and takes imports at once: WAL lets readers and one writer run together,
# IMMEDIATE transactions take the write lock up front (a deferred one that reads, then writes, fails
# at once with "database is locked" when another writer got in between), and a writer waits for the
# lock for up to KB_SQLITE_BUSY_TIMEOUT seconds instead of failing.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": float(os.environ.get("KB_SQLITE_BUSY_TIMEOUT", "20")),
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/Belgrade"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

WAGTAIL_SITE_NAME = "Danube ICT Good Practice Knowledge Base"
# The address the site is served on, for links that leave a request: e-mails, printed credentials,
# set-password links, feeds, exports, the API, the sitemap. `make run` sets it from HOST and PORT.
KB_BASE_URL = (
    os.environ.get("KB_BASE_URL") or os.environ.get("WAGTAILADMIN_BASE_URL") or "http://127.0.0.1:8000"
).rstrip("/")
WAGTAILADMIN_BASE_URL = KB_BASE_URL
# The API's detail and download links.
WAGTAILAPI_BASE_URL = KB_BASE_URL
WAGTAILDOCS_DOCUMENT_MODEL = "practices.KBDocument"
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_EXTENSIONS = ["pdf", "pptx", "docx", "odp", "odt"]
WAGTAIL_I18N_ENABLED = False
TAGGIT_CASE_INSENSITIVE = True
WAGTAILSEARCH_HITS_MAX_AGE = 90
# Admin page search answered by our engine (search.backend); other models by the database backend.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.backend"}}

# The embedded engine's index: a derived artefact, rebuilt by `manage.py rebuild_search_index`.
SEARCH_INDEX_DIR = Path(os.environ.get("SEARCH_INDEX_DIR", VAR_DIR / "search-index"))
# The embedded engine: "fts5" (SQLite FTS5) or "tantivy" (in SEARCH_INDEX_DIR/tantivy/).
KB_SEARCH_ENGINE = os.environ.get("KB_SEARCH_ENGINE", "fts5").strip().lower()
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
ELASTICSEARCH_INDEX_PREFIX = os.environ.get("ELASTICSEARCH_INDEX_PREFIX", "kb")
ELASTICSEARCH_TIMEOUT = float(os.environ.get("ELASTICSEARCH_TIMEOUT", "2"))
ELASTICSEARCH_API_KEY = os.environ.get("ELASTICSEARCH_API_KEY", "")
ELASTICSEARCH_USERNAME = os.environ.get("ELASTICSEARCH_USERNAME", "")
ELASTICSEARCH_PASSWORD = os.environ.get("ELASTICSEARCH_PASSWORD", "")
ELASTICSEARCH_VERIFY_CERTS = os.environ.get("ELASTICSEARCH_VERIFY_CERTS", "true").lower() != "false"

# Uploads: refused by size while they stream (never stored past the limit), by content before they are kept.
KB_MAX_UPLOAD_BYTES = int(os.environ.get("KB_MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))
WAGTAILDOCS_MAX_UPLOAD_SIZE = KB_MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "practices.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Requests per minute per client address: the API and feeds; the search page and autocomplete;
# exports. Counted atomically across workers (kb.ratelimit): in PostgreSQL, or on SQLite in a file
# of its own, KB_RATE_LIMIT_DB.
KB_RATE_LIMIT_PER_MINUTE = int(os.environ.get("KB_RATE_LIMIT_PER_MINUTE", "120"))
KB_SEARCH_RATE_LIMIT_PER_MINUTE = int(os.environ.get("KB_SEARCH_RATE_LIMIT_PER_MINUTE", "300"))
KB_EXPORT_RATE_LIMIT_PER_MINUTE = int(os.environ.get("KB_EXPORT_RATE_LIMIT_PER_MINUTE", "30"))
KB_RATE_LIMIT_DB = Path(os.environ.get("KB_RATE_LIMIT_DB", VAR_DIR / "ratelimit.sqlite3"))
# How many reverse proxies in front of the site append to X-Forwarded-For (0: use the socket address).
KB_TRUSTED_PROXIES = int(os.environ.get("KB_TRUSTED_PROXIES", "0"))
# Messages a client address may send through practices' contact forms per hour.
KB_CONTACT_MESSAGES_PER_HOUR = int(os.environ.get("KB_CONTACT_MESSAGES_PER_HOUR", "3"))
# Practices not reviewed for this many months appear in the "needs review" report.
KB_REVIEW_AFTER_MONTHS = int(os.environ.get("KB_REVIEW_AFTER_MONTHS", "12"))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache",
    }
}

REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kb@localhost")

# Everything worth a look goes to stderr, in every environment: Django's own request errors (with
# their tracebacks) and warnings, which Django's defaults print only with DEBUG on.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "search": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

COUNTRIES_OVERRIDE = {"XK": "Kosovo"}
WAGTAILDOCS_DOCUMENT_FORM_BASE = "practices.forms.KBDocumentForm"
# Widgets' templates live with the others in templates/ (practices/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# No autosave: it posts half-filled forms (400 on validation errors, refused while in review) and its
# silent failures lose edits; editors save with "Save draft" and are warned before leaving unsaved work.
WAGTAIL_AUTOSAVE_INTERVAL = 0
WAGTAILADMIN_USER_LOGIN_FORM = "practices.forms.EmailLoginForm"
# Background work (document text extraction): run at once in-process by default; a production deployment
# can point this at a worker backend. Extraction itself always runs in a limited child process.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# The site works offline: no call to wagtail.org from the admin.
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
