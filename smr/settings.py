"""One settings module for every environment, configured from the environment.

With nothing set, the app runs embedded: SQLite, Celery tasks executed eagerly, e-mail to files.
``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL and Redis.
With ``DEBUG`` off it refuses to start without a real ``SECRET_KEY``.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


TESTING = "pytest" in sys.modules or env_bool("SMR_TESTING", False)

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DEBUG is off: set SECRET_KEY to a random value of at least 50 characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_fsm",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "audit",
    "carechain",
    "referrals",
    "pathways",
    "billing",
    "reminders",
    "campaigns",
    "reports",
    # After the django_otp plugins: accounts/admin.py takes their device admins away.
    "accounts",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "smr.urls"
WSGI_APPLICATION = "smr.wsgi.application"
ASGI_APPLICATION = "smr.asgi.application"

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
                "carechain.context_processors.roles",
                "reminders.context_processors.my_reminders",
            ],
        },
    },
]

# Behind pgbouncer in transaction mode (docs/scaling.md) a connection is shared between
# transactions, so server-side cursors (named cursors used by QuerySet.iterator()) must be off:
# DATABASE_DISABLE_SERVER_SIDE_CURSORS=true. DATABASE_CONN_MAX_AGE keeps a connection per worker
# thread open for that many seconds instead of reconnecting on every request.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
        disable_server_side_cursors=env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False),
    )
}
# PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost; the reports'
# aggregates (EXISTS subplans per row) pass it and spent seconds compiling to save milliseconds
# (docs/explain/reports.md). The app's queries are short, so JIT is off unless DATABASE_JIT=true.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool(
    "DATABASE_JIT", False
):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# The cache holds the rate limits (the API's, carechain.api.throttling, and the campaigns' public
# answer page). Per process by default; with more
# than one gunicorn worker or machine set CACHE_URL=redis://host:6379/<db> so that every process
# counts against the same limit (Django's own Redis cache backend).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, got {CACHE_URL!r}")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# The audit log's hash chains written side by side (audit.services); 1 is a single chain, which
# serialises every audited write of the platform.
AUDIT_CHAINS = env_int("AUDIT_CHAINS", 16)
if not 1 <= AUDIT_CHAINS <= 1000:
    raise ImproperlyConfigured(f"AUDIT_CHAINS must be between 1 and 1000, got {AUDIT_CHAINS}")

AUTH_USER_MODEL = "carechain.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)

# No inline script or style anywhere (tests/accounts/test_content_security_policy.py keeps it
# so); the QR code of the two-factor set-up is a data: image; Swagger UI loads its start script
# from its own URL (SpectacularSwaggerSplitView, templates/drf_spectacular/swagger_ui.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
}

# --- Logging in: password, then a second factor (NEN 7510) -----------------------------------
# Everyone who can see patient data (an active membership, staff, superusers) passes a TOTP code or
# a one-time recovery code after the password. Only a development machine may switch it off.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
if not DEBUG and not OTP_REQUIRED:
    raise ImproperlyConfigured(
        "DEBUG is off: two-factor authentication (OTP_REQUIRED) must stay on."
    )
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "SMR ketenzorg")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# django-axes: five wrong passwords lock the account for 15 minutes; an address is locked only after
# 30 failures of any usernames, so one person's typing does not lock out a whole GP practice behind
# its one address (accounts/lockout.py).
AXES_HANDLER = "accounts.lockout.AccountLockoutHandler"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts during the lockout do not prolong it, so the stated 15 minutes hold.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Logins are in the audit log already; no second, unbounded log of every login.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command
# Behind the TLS proxy every request comes from the proxy: count the proxies in front of Django so
# the lockout by address uses the client's address from X-Forwarded-For, not the proxy's.
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent_mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@smr.example.nl")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
# Embedded default: without a broker every task runs in-process, so a newcomer needs no servers.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker keeps its database connection for DATABASE_CONN_MAX_AGE as a web worker does
# (smr/celery.py closes old connections around each task); Celery's Django fix-up would otherwise
# reconnect for every task. It still reconnects after this many tasks.
CELERY_DB_REUSE_MAX = 10_000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Webhooks to the referrers' systems: https only. Tests run a receiver on http://127.0.0.1 and
# allow that host here (never set it in production).
WEBHOOK_ALLOW_HTTP_HOSTS = env_list("WEBHOOK_ALLOW_HTTP_HOSTS", [])
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# The reports' stored figures (reports.snapshots): the beat recomputes the current month, quarter
# and year of every zorggroep every REPORTS_REFRESH_MINUTES, the other periods of the menu once a
# night; the page uses stored figures of the current periods up to REPORTS_FRESH_MINUTES old (else
# it computes them while the person waits), and of other periods when computed the same day.
REPORTS_REFRESH_MINUTES = env_int("REPORTS_REFRESH_MINUTES", 15)
REPORTS_FRESH_MINUTES = env_int("REPORTS_FRESH_MINUTES", 60)
if not 1 <= REPORTS_REFRESH_MINUTES <= 1440:
    raise ImproperlyConfigured(
        f"REPORTS_REFRESH_MINUTES must be between 1 and 1440, got {REPORTS_REFRESH_MINUTES}"
    )
if REPORTS_FRESH_MINUTES < REPORTS_REFRESH_MINUTES:
    raise ImproperlyConfigured(
        "REPORTS_FRESH_MINUTES must be at least REPORTS_REFRESH_MINUTES, got "
        f"{REPORTS_FRESH_MINUTES} < {REPORTS_REFRESH_MINUTES}"
    )
# Periodic work: scans, never far-future ETA tasks. The DatabaseScheduler copies these entries into
# the admin (Periodic tasks), where times can be changed or entries disabled.
CELERY_BEAT_SCHEDULE = {
    "feedback-letters-sweep": {"task": "referrals.tasks.sweep_letters", "schedule": 300.0},
    "reminders-daily-scan": {
        "task": "reminders.tasks.scan_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    "reminders-daily-digest": {
        "task": "reminders.tasks.send_reminder_digests",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon-fri"),
    },
    "billing-collect": {
        "task": "billing.tasks.collect_billable_trajectories",
        "schedule": crontab(minute=15),
    },
    "billing-monthly-invoices": {
        "task": "billing.tasks.issue_monthly_invoices",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),
    },
    "campaigns-letter-sweep": {
        "task": "campaigns.tasks.sweep_letter_chunks",
        "schedule": 300.0,
    },
    "campaigns-erase-expired": {
        "task": "campaigns.tasks.erase_expired_invitees",
        "schedule": crontab(hour=3, minute=30),
    },
    "audit-verify-chain": {
        "task": "audit.tasks.verify_audit_chain",
        "schedule": crontab(hour=2, minute=30),
    },
    "reports-refresh-current": {
        "task": "reports.tasks.refresh_report_snapshots",
        "schedule": REPORTS_REFRESH_MINUTES * 60.0,
        "kwargs": {"which": "current"},
    },
    "reports-refresh-menu": {
        "task": "reports.tasks.refresh_report_snapshots",
        "schedule": crontab(hour=0, minute=30),
        "kwargs": {"which": "menu"},
    },
}

# --- Letter campaigns (brievenactie) ---------------------------------------------------------
# The address printed on the invitation letters: invitees type it, so it must be public and short.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
# Key of the opt-out hashes (a keyed hash of the BSN, nothing else is kept of who opted out). Set
# it once in production and never change it: changing it forgets every opt-out.
CAMPAIGN_OPT_OUT_KEY = os.environ.get("CAMPAIGN_OPT_OUT_KEY", SECRET_KEY)

# Shown on the zorggroep invoices as the account to pay to (the provider's own bank account).
INVOICE_IBAN = os.environ.get("INVOICE_IBAN", "NL00 BANK 0000 0000 00")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "carechain.api.authentication.OrganisationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "carechain.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "carechain.api.exceptions.exception_handler",
    # OPTIONS names the view and points at the schema (DRF's default crashed on viewsets).
    "DEFAULT_METADATA_CLASS": "carechain.api.metadata.SchemaMetadata",
    # JSON only: a form-encoded or multipart body is a 415, not a half-understood request.
    "DEFAULT_PARSER_CLASSES": ["carechain.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["carechain.api.throttling.PerClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("API_RATE", "600/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SMR ketenzorg API",
    "DESCRIPTION": (
        "REST API of the stop-smoking care-chain platform. Integrations and insurers authenticate "
        "with an organisation API key in the `Authorization: Api-Key <key>` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    # Swagger UI is served from our own static files: no CDN, and a strict CSP stays possible.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # 401, 403, 429 on every operation, 400/413/415 with a body, 404 with an id or a cursor.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "carechain.api.schema.document_common_errors",
    ],
}

# The single place where an accepted referral is handed to the stop-smoking trajectory (pathways
# sits above referrals, so referrals names it here instead of importing it).
REFERRAL_ACCEPTED_HANDLER = "pathways.services.trajectory_open_for_referral"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every rendering step at INFO; only its warnings matter here.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    CELERY_TASK_ALWAYS_EAGER = True
    MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT", "/tmp/smr-test-media"))  # noqa: S108
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"client": "100000/min"}
