"""ragbase settings. Every value comes from the environment (or .env) through django-environ;
each is documented in .env.example."""
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from ragbase.embedded_postgres import embedded_database_url
from ragbase.startup import StartupError

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if not env.bool("RAGBASE_IGNORE_DOTENV", default=False):
    env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("RAGBASE_VAR_DIR", default=str(BASE_DIR / "var")))

GENERATE_KEY_HINT = 'generate one with: python3 -c "import secrets; print(secrets.token_hex(32))"'


def _parse_hex_key(name: str, value: str) -> bytes:
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise StartupError(f"{name} must be 64 hex characters (32 bytes); {GENERATE_KEY_HINT}")
    return key


# --- Core ---------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise StartupError(f"SECRET_KEY is not set; {GENERATE_KEY_HINT}")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# System check ids not to report, e.g. drive.W001 on a server that indexes uploads only.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# --- Production security (applies when DEBUG is off) --------------------------------------
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
# TLS ends at the reverse proxy, which tells Django the original scheme in this header.
if env.bool("SECURE_PROXY_SSL_HEADER", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes (plain http from inside the network, by IP) are answered by ragbase.probes before the
# https redirect and the host check.

# --- Content-Security-Policy (django-csp 4), on every response: pages, admin, API docs ----------
# Scripts, styles, fetch/XHR only from this site, no inline <script>/<style>/style=/on*= (CSS and
# JS live in static files), nothing may frame the site. Pages with the Google connect form add
# Google's authorize origin to form-action (drive.views). Rules for templates: docs/deploy.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: for the icons inside the admin's and Swagger UI's CSS
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Metrics ---------------------------------------------------------------------------------
# /metrics answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>`, or localhost if allowed.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_LOCALHOST = env.bool("METRICS_ALLOW_LOCALHOST", default=True)

# --- Health ----------------------------------------------------------------------------------
# /readyz answers 503 when the oldest PENDING chunk has waited longer than this.
READY_MAX_OUTBOX_AGE_SECONDS = env.int("READY_MAX_OUTBOX_AGE_SECONDS", default=900)

# --- Encryption of stored secrets (AES-256-GCM) -------------------------------------------
_raw_key = env.str("APP_ENCRYPTION_KEY", default="")
if not _raw_key:
    raise StartupError(f"APP_ENCRYPTION_KEY is not set; {GENERATE_KEY_HINT}")
APP_ENCRYPTION_KEY = _parse_hex_key("APP_ENCRYPTION_KEY", _raw_key)
# Keys being rotated out: still able to decrypt, never used to encrypt.
APP_ENCRYPTION_RETIRED_KEYS = [
    _parse_hex_key("APP_ENCRYPTION_RETIRED_KEYS", k)
    for k in env.list("APP_ENCRYPTION_RETIRED_KEYS", default=[])
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ragbase",  # before django_q: its `qcluster` command is ragbase's (ragbase/management/commands/qcluster.py)
    "django_q",
    "social_django",
    "axes",
    "csp",
    "django_prometheus",
    "chunks",
    "drive",
    "search",
]

# Database sessions, read by plain SQL (ragbase/sessions.py).
SESSION_ENGINE = "ragbase.sessions"

MIDDLEWARE = [
    "ragbase.probes.ProbeMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "social_django.middleware.SocialAuthExceptionMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ragbase.urls"
WSGI_APPLICATION = "ragbase.wsgi.application"
ASGI_APPLICATION = "ragbase.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: Postgres only (row locks with SKIP LOCKED, LISTEN/NOTIFY, JSONB) ----------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    EMBEDDED_POSTGRES = False
else:
    DATABASES = {"default": env.db_url_config(embedded_database_url(VAR_DIR / "pgdata"))}
    EMBEDDED_POSTGRES = True
# Set by ragbase/gunicorn_config.py in the web server's processes, and by manage.py for `serve --dev`
# (never in .env).
WEB_SERVER_PROCESS = env.bool("RAGBASE_WEB_SERVER", default=False)
# The web server's processes share a bounded psycopg pool among their threads: a burst of requests waits up to DB_POOL_TIMEOUT_SECONDS
# for a connection instead of opening one each. Other processes (django-q2 workers, commands) have
# one thread and keep one persistent connection. The total must stay below the server's
# max_connections (system check ragbase.E020, and `serve` at start).
DB_POOL_MIN_SIZE = env.int("DB_POOL_MIN_SIZE", default=2)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
DB_POOL_TIMEOUT_SECONDS = env.float("DB_POOL_TIMEOUT_SECONDS", default=10.0)
DB_MAX_CONNECTIONS = env.int("DB_MAX_CONNECTIONS", default=100)
# The web server's queries are cancelled after this many seconds: gunicorn's threads do not bound a
# request's time themselves, so a runaway query cannot hold a thread and a connection forever.
DB_STATEMENT_TIMEOUT_SECONDS = env.int("DB_STATEMENT_TIMEOUT_SECONDS", default=30)
if WEB_SERVER_PROCESS:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's pool requires it
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["pool"] = {"min_size": DB_POOL_MIN_SIZE, "max_size": DB_POOL_MAX_SIZE, "timeout": DB_POOL_TIMEOUT_SECONDS}
    _options["options"] = f"{_options.get('options', '')} -c statement_timeout={DB_STATEMENT_TIMEOUT_SECONDS * 1000}".strip()
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Vector store --------------------------------------------------------------------------
# Only "qdrant" (system check ragbase.E002); QDRANT_URL chooses the embedded engine or a server.
VECTOR_DB_PROVIDER = env.str("VECTOR_DB_PROVIDER", default="qdrant")
QDRANT_URL = env.str("QDRANT_URL", default="")
QDRANT_API_KEY = env.str("QDRANT_API_KEY", default="")
QDRANT_COLLECTION = env.str("QDRANT_COLLECTION", default="ragbase_hybrid")
# Used only when QDRANT_URL is unset: the embedded engine's folder, owned by one process.
QDRANT_PATH = Path(env.str("QDRANT_PATH", default=str(VAR_DIR / "qdrant")))
QDRANT_TIMEOUT_SECONDS = env.float("QDRANT_TIMEOUT_SECONDS", default=10.0)
# Set by `manage.py serve` for the web server's processes (never in .env): the socket at which the
# embedded store's owner answers them, and the key a connection must know (chunks/vector_index/owner_link.py).
STORE_OWNER_SOCKET = env.str("RAGBASE_STORE_OWNER_SOCKET", default="")
STORE_OWNER_KEY = env.str("RAGBASE_STORE_OWNER_KEY", default="")
# Embedded mode: `serve` builds the engine's HNSW index at start, before it serves (see docs/outbox.md).
QDRANT_INDEX_ON_START = env.bool("QDRANT_INDEX_ON_START", default=True)

# --- Outbox (chunks -> vector store) --------------------------------------------------------
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=512)
OUTBOX_DRAIN_THREADS = env.int("OUTBOX_DRAIN_THREADS", default=2)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=2.0)
OUTBOX_BACKOFF_MAX_SECONDS = env.float("OUTBOX_BACKOFF_MAX_SECONDS", default=600.0)
OUTBOX_SCHEDULE_SECONDS = env.int("OUTBOX_SCHEDULE_SECONDS", default=60)
OUTBOX_POLL_SECONDS = env.float("OUTBOX_POLL_SECONDS", default=5.0)
# The scheduled light Postgres <-> vector store check (chunks.services.index_check); 0: never.
INDEX_CHECK_MINUTES = env.int("INDEX_CHECK_MINUTES", default=60)

# --- Auth ----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes, every login form: /accounts/login/ and /admin/login/). After
# AXES_FAILURE_LIMIT failed logins from one address, or for one username, further logins from it
# or as it are refused for AXES_COOLOFF_MINUTES (0: until an admin resets them). An item
# "username+ip_address" in AXES_LOCKOUT_PARAMETERS counts that pair together.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
_axes_cooloff_minutes = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=_axes_cooloff_minutes) if _axes_cooloff_minutes > 0 else None
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("AXES_LOCKOUT_PARAMETERS", default=["ip_address", "username"])
]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ragbase.views.locked_out"
# Reverse proxies in front of ragbase that append the client's address to X-Forwarded-For
# (0: the connecting address is the client's). Behind the usual TLS proxy: 1.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "ragbase.client_ip.client_ip"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a request without credentials gets 401 with `WWW-Authenticate: Token`.
        "ragbase.api_tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"search": env.str("SEARCH_THROTTLE_RATE", default="120/min")},
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored; `Authorization: Token <token>`.
# The prefix makes a leaked token recognisable to secret scanners.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS) if API_TOKEN_TTL_DAYS > 0 else None,
    "TOKEN_PREFIX": "ragbase_",
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ragbase API",
    "DESCRIPTION": "Search your documents; upload and list them.",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "ragbase.openapi.add_error_responses"],
    # Swagger UI from the pinned drf-spectacular-sidecar package, served as static files: the page
    # works offline and runs no third-party code. No validator badge (it would call swagger.io).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Web server: gunicorn (ragbase/gunicorn_config.py, for `manage.py serve` and the image) ----
# Worker processes, in both modes (embedded: they reach the store through `serve`, its owner).
GUNICORN_WORKERS = env.int("GUNICORN_WORKERS", default=2)
# Threads per process, each serving one request at a time (docs/bench.md: measured on 2 cores).
GUNICORN_THREADS = env.int("GUNICORN_THREADS", default=4)
# A worker process that stops answering its master this long is killed and replaced (a request's
# own time is bounded by DB_STATEMENT_TIMEOUT_SECONDS and QDRANT_TIMEOUT_SECONDS).
GUNICORN_TIMEOUT = env.int("GUNICORN_TIMEOUT", default=60)
# On SIGTERM: seconds in-flight requests get to finish before the process is killed.
GUNICORN_GRACEFUL_TIMEOUT = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
# Seconds an idle keep-alive connection stays open (behind a proxy: below the proxy's own).
GUNICORN_KEEPALIVE = env.int("GUNICORN_KEEPALIVE", default=5)
# One line per request on stdout.
GUNICORN_ACCESS_LOG = env.bool("GUNICORN_ACCESS_LOG", default=True)
# `serve` on SIGTERM: seconds the django-q2 cluster gets to stop before it is killed.
SERVE_CLUSTER_STOP_SECONDS = env.int("SERVE_CLUSTER_STOP_SECONDS", default=10)

# --- django-q2 -------------------------------------------------------------------------------
# django-q2 clusters publish their status (for /readyz and the admin) in a cache every process
# can read: a table in Postgres (made by migration ragbase 0002), as the web server and the
# cluster are separate processes, on separate machines in server mode. Django's own default
# cache stays in-process memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "cluster_status": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "ragbase_cluster_status"},
}

Q_CLUSTER = {
    "name": "ragbase",
    "orm": "default",
    "cache": "cluster_status",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT_SECONDS", default=600),
    # retry must exceed timeout, or a slow task is started again while still running.
    "retry": env.int("Q_RETRY_SECONDS", default=660),
    # django-q2 defaults to retrying a failing task forever.
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    # After downtime, run a schedule once, not once per missed slot.
    "catch_up": False,
    "ack_failures": True,
    "save_limit": env.int("Q_SAVE_LIMIT", default=1000),
    "sync": env.bool("Q_SYNC", default=False),
}

# --- Embedded demo admin -------------------------------------------------------------------
RAGBASE_ADMIN_USERNAME = env.str("RAGBASE_ADMIN_USERNAME", default="admin")
RAGBASE_ADMIN_PASSWORD = env.str("RAGBASE_ADMIN_PASSWORD", default="")
RAGBASE_ADMIN_EMAIL = env.str("RAGBASE_ADMIN_EMAIL", default="admin@localhost")

# --- I18N, static, media -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# LOG_FORMAT=json: one JSON object per line (python-json-logger) for log collectors.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes.apps announces itself at INFO in every process; its lockout warnings (axes.handlers) stay.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes.apps": {"level": "WARNING"}},
}

# --- Embedding and chunking ----------------------------------------------------------------
# The bundled default needs no network; BAAI/bge-small-en-v1.5 works where a model hub is reachable.
DENSE_MODEL = env.str("DENSE_MODEL", default="ragbase/all-MiniLM-L6-v2-int8")
SPARSE_MODEL = env.str("SPARSE_MODEL", default="Qdrant/bm25")
# BM25's parameters (SPARSE_MODEL=Qdrant/bm25). AVG_LEN is the mean chunk length in BM25 terms
# (ragbase's 200-token chunks: ~80); k1 0.9 was measured best (README, Retrieval quality). Part of
# the collection's model_id: changing one means `manage.py reindex` (chunks.checks).
SPARSE_BM25_K1 = env.float("SPARSE_BM25_K1", default=0.9)
SPARSE_BM25_B = env.float("SPARSE_BM25_B", default=0.75)
SPARSE_BM25_AVG_LEN = env.float("SPARSE_BM25_AVG_LEN", default=80.0)
MODELS_DIR = Path(env.str("MODELS_DIR", default=str(VAR_DIR / "models")))
EMBED_BATCH_SIZE = env.int("EMBED_BATCH_SIZE", default=64)
# Threads of one embedding call (ONNX Runtime intra-op); 0 = one per core. Several worker
# processes on one machine: cores / Q_WORKERS each, or they fight over the cores.
EMBED_THREADS = env.int("EMBED_THREADS", default=0)
# The web server embeds queries on many request threads at once: one thread per call there (ONNX
# Runtime's extra threads spin while waiting; measured −30 % CPU per search under load, docs/bench.md).
WEB_EMBED_THREADS = env.int("WEB_EMBED_THREADS", default=1)
if WEB_SERVER_PROCESS:
    EMBED_THREADS = WEB_EMBED_THREADS
CHUNK_SIZE_TOKENS = env.int("CHUNK_SIZE_TOKENS", default=200)
CHUNK_OVERLAP_TOKENS = env.int("CHUNK_OVERLAP_TOKENS", default=40)
INGEST_MAX_FILE_BYTES = env.int("INGEST_MAX_FILE_BYTES", default=50 * 1024 * 1024)
INGEST_MAX_PDF_PAGES = env.int("INGEST_MAX_PDF_PAGES", default=2000)
INGEST_MAX_TEXT_CHARS = env.int("INGEST_MAX_TEXT_CHARS", default=5_000_000)
# What one user's stored uploads may take in MEDIA_ROOT, bytes (0: no limit).
UPLOAD_QUOTA_BYTES = env.int("UPLOAD_QUOTA_BYTES", default=1024 ** 3)
# Uploads over INGEST_MAX_FILE_BYTES or the quota stop while the body is read (413, nothing stored).
FILE_UPLOAD_HANDLERS = [
    "chunks.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Search --------------------------------------------------------------------------------
# Candidates taken from each leg (dense, sparse) before they are fused (200: measured, README).
SEARCH_PREFETCH_LIMIT = env.int("SEARCH_PREFETCH_LIMIT", default=200)
# How hybrid search merges its legs: rrf:K, rrf:K:DENSE,SPARSE (leg weights) or dbsf (search.checks).
# rrf:60:0.8,1 (the dense leg at 0.8): measured, README's Retrieval quality.
SEARCH_FUSION = env.str("SEARCH_FUSION", default="rrf:60:0.8,1")
SEARCH_DEFAULT_TOP_K = env.int("SEARCH_DEFAULT_TOP_K", default=10)
# Fused chunks a search grouped by document reads: the documents found are those among them.
SEARCH_GROUP_DEPTH = env.int("SEARCH_GROUP_DEPTH", default=100)

# --- Google Drive (per-user OAuth, sync) -----------------------------------------------------
GOOGLE_OAUTH_CLIENT_ID = env.str("GOOGLE_OAUTH_CLIENT_ID", default="")
GOOGLE_OAUTH_CLIENT_SECRET = env.str("GOOGLE_OAUTH_CLIENT_SECRET", default="")
GOOGLE_AUTH_URI = env.str("GOOGLE_AUTH_URI", default="https://accounts.google.com/o/oauth2/auth")
GOOGLE_TOKEN_URI = env.str("GOOGLE_TOKEN_URI", default="https://oauth2.googleapis.com/token")
GOOGLE_REVOKE_URI = env.str("GOOGLE_REVOKE_URI", default="https://oauth2.googleapis.com/revoke")
GOOGLE_USERINFO_URI = env.str("GOOGLE_USERINFO_URI", default="https://www.googleapis.com/oauth2/v3/userinfo")
# Base URL of the Drive v3 API (googleapiclient's api_endpoint: rootUrl + servicePath).
GOOGLE_DRIVE_API_ROOT = env.str("GOOGLE_DRIVE_API_ROOT", default="https://www.googleapis.com/drive/v3/")
DRIVE_SCOPES = ["https://www.googleapis.com/auth/drive.readonly"]
DRIVE_SYNC_INTERVAL_MINUTES = env.int("DRIVE_SYNC_INTERVAL_MINUTES", default=30)
DRIVE_MAX_RETRIES = env.int("DRIVE_MAX_RETRIES", default=5)
DRIVE_BACKOFF_BASE_SECONDS = env.float("DRIVE_BACKOFF_BASE_SECONDS", default=1.0)
DRIVE_BACKOFF_MAX_SECONDS = env.float("DRIVE_BACKOFF_MAX_SECONDS", default=120.0)
DRIVE_HTTP_TIMEOUT_SECONDS = env.int("DRIVE_HTTP_TIMEOUT_SECONDS", default=30)
DRIVE_MAX_FILE_BYTES = env.int("DRIVE_MAX_FILE_BYTES", default=INGEST_MAX_FILE_BYTES)
DRIVE_PAGE_SIZE = env.int("DRIVE_PAGE_SIZE", default=1000)
# A sync is a chain of bounded tasks: none works longer than this (a system check keeps it at
# most half of Q_TIMEOUT_SECONDS).
DRIVE_TASK_SECONDS = env.int("DRIVE_TASK_SECONDS", default=60)
DRIVE_LISTING_PAGES_PER_TASK = env.int("DRIVE_LISTING_PAGES_PER_TASK", default=20)
DRIVE_PROCESSING_TASKS = env.int("DRIVE_PROCESSING_TASKS", default=2)
DRIVE_BATCH_FILES = env.int("DRIVE_BATCH_FILES", default=64)
DRIVE_BATCH_CHUNKS = env.int("DRIVE_BATCH_CHUNKS", default=256)
DRIVE_STALL_MINUTES = env.int("DRIVE_STALL_MINUTES", default=20)

# django-axes refuses a locked-out login before any password is checked; social-auth is used only
# to connect a Drive to the logged-in user.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "drive.auth.GoogleDriveOAuth2",
]
SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = GOOGLE_OAUTH_CLIENT_ID
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = GOOGLE_OAUTH_CLIENT_SECRET
SOCIAL_AUTH_GOOGLE_OAUTH2_SCOPE = DRIVE_SCOPES
SOCIAL_AUTH_GOOGLE_OAUTH2_AUTH_EXTRA_ARGUMENTS = {"access_type": "offline", "prompt": "consent"}
SOCIAL_AUTH_GOOGLE_OAUTH2_USE_UNIQUE_USER_ID = True
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/drive/"
SOCIAL_AUTH_LOGIN_ERROR_URL = "/drive/"
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "drive.pipeline.require_logged_in_user",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.social_auth.associate_user",
    # No load_extra_data: it writes Google's tokens into UserSocialAuth.extra_data (drive.pipeline).
    "drive.pipeline.store_drive_connection",
)
