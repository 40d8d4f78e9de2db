"""Settings for financetracker, read from the environment (12-factor).

Production refuses to start without SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS. `dev.py serve` sets
DEBUG and points DATABASE_URL at an embedded PostgreSQL when none is given.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static

from financetracker.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
# pytest imports itself before Django settings; tests get a throwaway key instead of a real secret.
RUNNING_TESTS = "pytest" in sys.modules

_secret_key = env_str("SECRET_KEY")
if not _secret_key:
    if not (DEBUG or RUNNING_TESTS):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE).")
    _secret_key = "insecure-development-key-only-for-debug-and-tests-0123456789abcdef"  # noqa: S105
SECRET_KEY: str = _secret_key

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin's theme: before django.contrib.admin so its templates win (see UNFOLD below).
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_prometheus",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # Background imports: Django's Tasks API (django.tasks from Django 6.0) with its PostgreSQL backend.
    "django_tasks",
    "django_tasks_db",
    "financetracker.core",
    "financetracker.security",
    "ledger",
    "budgets",
    "uploads",
]

MIDDLEWARE = [
    # First: every later middleware, view and log line sees the request id.
    "financetracker.core.request_context.RequestContextMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "financetracker.security.csp.ThemedAdminCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # JSON error bodies and Cache-Control: no-store on every /api/ response.
    "financetracker.core.api.middleware.ApiResponseMiddleware",
    "financetracker.security.outage.DatabaseOutageMiddleware",
    "financetracker.security.login_rate.AdminLoginRateMiddleware",
    # Last: turns a login refused by django-axes into its lockout answer.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "financetracker.urls"
WSGI_APPLICATION = "financetracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "financetracker" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL")
if not _database_url:
    if not (DEBUG or RUNNING_TESTS):
        raise ImproperlyConfigured("DATABASE_URL must be set, e.g. postgres://user:pass@host:5432/db.")
    _database_url = "postgres://postgres@127.0.0.1:5432/financetracker"
DATABASES = {
    "default": dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        # Before each request's first statement on a reused connection: a poll of its socket, not Django's
        # `SELECT 1` round trip, which runs only when the poll finds something (financetracker/postgresql).
        conn_health_checks=True,
        # django-prometheus's backend (query metrics) with that health check.
        engine="financetracker.postgresql",
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
# Kubernetes keeps the password in a Secret file apart from the URL, which then sits in a ConfigMap.
_database_password = env_str("DATABASE_PASSWORD")
if _database_password:
    DATABASES["default"]["PASSWORD"] = _database_password
# Behind PgBouncer in transaction mode a server-side cursor would outlive its server connection;
# that deployment also sets DATABASE_CONN_MAX_AGE=0 (the pooler keeps the connections).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False)
# /readyz gives the database this long (seconds, connect and query together) on a connection of its own,
# so a frozen server answers 503 before the readiness probe's timeout (3 s in deploy/) fires.
READYZ_DATABASE_TIMEOUT = float(env_str("READYZ_DATABASE_TIMEOUT", "1.5") or "1.5")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "ft") or "ft"
if RUNNING_TESTS:
    # Parallel test workers share one Redis database; each keeps to its own keys.
    CACHE_KEY_PREFIX += "-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Redis is a cache: losing it must degrade, never fail a request.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                # Kept out of REDIS_URL so the URL can sit in a ConfigMap and the password in a Secret file.
                "PASSWORD": env_str("REDIS_PASSWORD") or None,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Sessions live in PostgreSQL only. With cached_db a logout while Redis is unreachable deletes the row but
# not the cached copy, which Redis serves again when it returns: the logged-out cookie comes back to life.
# One primary-key read a request is the price of a logout that always holds (and of no logout on a Redis loss).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Authentication -------------------------------------------------------------------------------
AUTH_USER_MODEL = "ledger.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Signing in without a ?next= lands on the dashboard (the themed login form carries no "next" of its own).
LOGIN_REDIRECT_URL = "admin:budgets_dashboard"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (username, address) before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login protection (django-axes; admin login and POST /api/v1/auth/token/) -----------------------
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 ignores the header (see
# financetracker/security/client_ip.py). Every address-keyed limit uses this.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Failures counted per (username, address): an attacker elsewhere cannot lock the real person out, and
# the lock lifts by itself after the cool-off. Counted in PostgreSQL, so Redis being down changes nothing.
# Lockouts are read and lifted with `manage.py axes_list_attempts` / `axes_reset_username`: the admin's
# pages for them would be superuser-only tables that say less than the commands.
AXES_ENABLE_ADMIN = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
# Failures during a lockout do not extend it: the lock always ends one cool-off after it began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# Sign-in attempts of one address on the admin, whatever the usernames (the token endpoint's rate is
# DEFAULT_THROTTLE_RATES["token_obtain"]).
ADMIN_LOGIN_THROTTLE_RATE = env_str("ADMIN_LOGIN_THROTTLE_RATE", "10/min") or "10/min"
AXES_CLIENT_IP_CALLABLE = "financetracker.security.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "financetracker.security.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC") or "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or BASE_DIR / "staticfiles")
# Uploaded files are never served from a public URL: only authenticated views stream them.
UPLOADS_ROOT = Path(env_str("UPLOADS_ROOT", str(BASE_DIR / ".data" / "uploads")) or "")
STORAGE_BACKEND = (env_str("STORAGE_BACKEND", "filesystem") or "filesystem").lower()
if STORAGE_BACKEND == "filesystem":
    _default_storage: dict[str, object] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(UPLOADS_ROOT), "base_url": None},
    }
elif STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET") or "",
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("S3_SIGNED_URL_SECONDS", 60),
            "file_overwrite": False,
            # Reads of large imports spill to disk (TMPDIR) past this size instead of filling a worker's memory.
            "max_memory_size": env_int("S3_MAX_MEMORY_SIZE", 5 * 1024 * 1024),
        },
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND={STORAGE_BACKEND!r} must be 'filesystem' or 's3'.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or RUNNING_TESTS
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Larger uploads spool here: in Kubernetes a volume sized for concurrent 200 MiB imports, not /tmp.
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR") or None

# --- Background tasks (uploads/tasks.py) -----------------------------------------------------------
# The queue is a table in PostgreSQL (django-tasks-db): nothing else to operate. `manage.py run_worker` runs it.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "imports"],
    }
}
# A statement up to this size is previewed and committed inside the request (answer 201/200 at once);
# larger ones go to the worker (202, progress on the import). 0 sends every import to the worker.
IMPORT_INLINE_MAX_BYTES = env_int("IMPORT_INLINE_MAX_BYTES", 512 * 1024)
# A running import task writes a heartbeat this often; one silent for IMPORT_TASK_STALE_SECONDS has lost its
# worker (killed, node gone) and is failed by the recovery that every worker runs at start and every minute.
IMPORT_TASK_HEARTBEAT_SECONDS = env_int("IMPORT_TASK_HEARTBEAT_SECONDS", 10)
IMPORT_TASK_STALE_SECONDS = env_int("IMPORT_TASK_STALE_SECONDS", 120)
# The worker's liveness file (its probes read its age; /tmp is an emptyDir in Kubernetes).
WORKER_HEALTH_PATH = env_str("WORKER_HEALTH_PATH", "/tmp/worker-health") or "/tmp/worker-health"  # noqa: S108

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ledger.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON nesting bounded and NUL characters refused before any view sees the data (financetracker/core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "financetracker.core.api.parsers.BoundedJSONParser",
        "financetracker.core.api.parsers.StrictFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "financetracker.core.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "ledger.api.filters.ScopedFilterBackend",  # relations filter by id: no choice lists, no oracle
        "financetracker.core.api.ordering.StrictOrderingFilter",  # an ordering it cannot apply is a 400
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "financetracker.core.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_RATES": {"token_obtain": env_str("TOKEN_THROTTLE_RATE", "10/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "financetracker API",
    "DESCRIPTION": "Household finance: accounts, transactions, budgets, imports. Amounts are strings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "financetracker.core.money.CURRENCY_CHOICES",
        "InvitationStatusEnum": "ledger.models.invitations.INVITATION_STATES",
    },
}

# --- Security (HTTPS terminates at the ingress) ---------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not (DEBUG or RUNNING_TESTS))
# Probes and Prometheus talk plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy on every response (django-csp 4). No 'unsafe-inline': our templates load their
# scripts and styles from static files; the few inline blocks carry the per-request nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO") or "INFO"
# One JSON object a line on stdout (readable lines under DEBUG), each with the request context.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "financetracker.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "financetracker.logging.JsonFormatter"},
        "console": {"()": "financetracker.logging.ConsoleFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "console" if DEBUG else "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's defaults add stderr and mail handlers to these; ours alone, so each event is one line.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Statements with their parameters never reach the logs.
        "django.db.backends": {"level": "WARNING"},
        # One line per request at INFO: LOG_LEVEL=WARNING keeps only the 4xx/5xx ones (and their cost).
        "financetracker.request": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
# /metrics: with a token, only `Authorization: Bearer <token>` may scrape; without one, only direct
# (not proxied) requests from loopback or private addresses. See financetracker/metrics_view.py.
METRICS_TOKEN = env_str("METRICS_TOKEN") or ""

# --- Admin theme (django-unfold) ------------------------------------------------------------------
# The back office is the product's main screen: its name, its icon, a sidebar grouped by what people do
# (financetracker/admin_navigation.py), and "View site" leading to the dashboard.
UNFOLD = {
    "SITE_TITLE": "financetracker",
    "SITE_HEADER": "financetracker",
    "SITE_URL": "/",
    "SITE_SYMBOL": "account_balance_wallet",
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": lambda request: static("ledger/favicon.svg")},
    ],
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": [lambda request: static("ledger/admin_theme.css")],
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": "financetracker.admin_navigation.navigation",
    },
}

# --- Product settings -----------------------------------------------------------------------------
DEMO_USERNAME = "demo"
