"""Settings shared by every environment; values come from ``servicedesk.env``."""

from __future__ import annotations

from datetime import timedelta

import dj_database_url
from django.utils.translation import gettext_lazy as _

from servicedesk import env
from servicedesk.observability import logging_config

BASE_DIR = env.BASE_DIR

SECRET_KEY = env.SECRET_KEY or "insecure-local-development-key-change-me"
DEBUG = env.DEBUG
ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "servicedesk",
    "calendars",
    "clients",
    "partners",
    "sla",
    "tickets",
    "integrations",
    "audit",
]

MIDDLEWARE = [
    "servicedesk.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servicedesk.security.SecurityHeadersMiddleware",
    "servicedesk.resilience.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "servicedesk.security.SessionTimeoutMiddleware",
    "servicedesk.security.StaffTwoFactorMiddleware",
    "servicedesk.middleware.ActorMiddleware",
    "servicedesk.db_context.DbContextMiddleware",
    "servicedesk.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "servicedesk.context_processors.actor",
            ],
        },
    },
]


def database_config(url: str) -> dict:
    """Django's DATABASES entry for ``url``, with psycopg 3's connection pool switched on."""
    config = dj_database_url.parse(url, conn_max_age=0)
    config["OPTIONS"] = {"pool": {"min_size": 1, "max_size": env.DB_POOL_MAX_SIZE, "timeout": 10}}
    # With the pool, this makes psycopg check a connection before lending it: one cut by a
    # database restart is replaced, so the application recovers by itself.
    config["CONN_HEALTH_CHECKS"] = True
    # A request must never wait forever on a lock another request holds.
    config["OPTIONS"]["options"] = "-c statement_timeout=30000 -c lock_timeout=10000"
    return config


DATABASES = {
    "default": database_config(env.DATABASE_URL or "postgres://postgres@127.0.0.1:5432/servicedesk")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "servicedesk.User"
# Argon2id first: new and re-saved passwords use it; older hashes still verify and are
# upgraded on the next successful sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.LANGUAGE_CODE
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.STATIC_ROOT
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.MEDIA_ROOT
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = env.MAX_UPLOAD_BYTES

EMAIL_BACKEND = env.EMAIL_URL
DEFAULT_FROM_EMAIL = env.DEFAULT_FROM_EMAIL

SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "servicedesk.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["servicedesk.api.permissions.HasActor"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "servicedesk.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "servicedesk.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "servicedesk.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service desk API",
    "DESCRIPTION": "Tickets, stores and partners of a multi-tenant IT service desk.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several models have a ``kind``/``status``; name each enum after its choices class.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.choices.TicketStatus",
        "TicketKindEnum": "tickets.choices.TicketKind",
        "TicketEventKindEnum": "tickets.choices.EventKind",
        "PriorityEnum": "tickets.choices.Priority",
        "CategoryEnum": "tickets.choices.Category",
        "PartnerKindEnum": "partners.choices.PartnerKind",
        "EquipmentKindEnum": "clients.choices.EquipmentKind",
        "CalendarExceptionKindEnum": "calendars.choices.ExceptionKind",
    },
    # validatorUrl None: Swagger UI would otherwise send the schema URL to swagger.io.
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "persistAuthorization": True,
        "validatorUrl": None,
    },
}

CELERY_BROKER_URL = env.CELERY_BROKER_URL or "memory://"
# Without a broker (make demo on a bare machine) tasks run in-process: same code, no worker.
CELERY_TASK_ALWAYS_EAGER = not env.CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
# A task whose worker died is redelivered after this long (Redis's default is an hour); it
# must stay above the time limit so a slow task is not run twice while still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "unacked_restore_interval": 10}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
SLA_SWEEP_SECONDS = env.SLA_SWEEP_SECONDS

# One JSON object per line on stderr (LOG_FORMAT=plain for a terminal); see docs/OPERATIONS.md.
LOGGING = logging_config(level=env.LOG_LEVEL, fmt=env.LOG_FORMAT)

# --- Safe writes and limits (idempotency keys, rate limits, request sizes, cache) ---

# One cache every gunicorn worker shares, so a rate limit holds across processes: Redis when
# CACHE_URL/REDIS_URL is set, otherwise a database table (created by migration
# servicedesk 0004), so the demo needs nothing more than PostgreSQL.
if env.CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.CACHE_URL,
            "KEY_PREFIX": "servicedesk",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "servicedesk_cache",
            # Django's default of 300 entries would cull live rate-limit counters.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
# Per-principal limits (servicedesk.api.throttling): one bucket per API token, or per user
# for session callers; the token endpoint is limited per client IP + username against
# password guessing. ``None`` switches a limit off.
API_THROTTLE_RATES = {
    "principal": env.API_RATE_PER_TOKEN or None,
    "token_obtain": env.API_RATE_TOKEN_OBTAIN or None,
}
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "servicedesk.api.throttling.PrincipalRateThrottle",
    "servicedesk.api.throttling.TokenObtainRateThrottle",
]
# Request bodies: JSON above MAX_REQUEST_BYTES and multipart above the upload limit plus
# room for the form fields answer 413 before anything is read (servicedesk.api.idempotency).
MAX_REQUEST_BYTES = env.MAX_REQUEST_BYTES or DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_MULTIPART_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024
# Archives (zip, docx, xlsx) are refused when they would expand beyond this or compress
# suspiciously well (tickets.uploads).
MAX_UNPACKED_BYTES = 10 * MAX_UPLOAD_BYTES
MAX_COMPRESSION_RATIO = 100
# Idempotency-Key records: replayable for a day; a claim whose request never finished
# (a crashed worker) frees the key after a minute.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
IDEMPOTENCY_LOCK_SECONDS = 60
# The token endpoint's answer holds a secret: it is never stored for replay.
IDEMPOTENCY_EXEMPT_URL_NAMES = ["api:auth-token"]

# --- Integrations (webhooks, event feed, imports and exports) ---

# Webhooks (integrations/ssrf.py, integrations/services.py). Private, loopback and
# link-local targets and ports other than 80/443 are refused unless this is on: local
# development and tests with a receiver on 127.0.0.1 only, never production.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_ALLOWED_PORTS = (80, 443)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = 3.0
WEBHOOK_READ_TIMEOUT_SECONDS = 10.0
# A claimed delivery is someone's for this long; if its worker dies, it is retried after.
# It must exceed connect + read timeouts, or a slow send could be claimed twice.
WEBHOOK_CLAIM_LEASE_SECONDS = 60
WEBHOOK_DELIVERY_BATCH = 32  # deliveries one send run claims
WEBHOOK_DELIVERY_CONCURRENCY = 8  # sent in parallel threads: a slow receiver blocks no other
WEBHOOK_RETRY_FIRST_SECONDS = 30  # then doubling, with +-10 % jitter ...
WEBHOOK_RETRY_MAX_SECONDS = 3600  # ... capped at an hour ...
WEBHOOK_GIVE_UP_SECONDS = 24 * 3600  # ... until a day after the first attempt
WEBHOOK_FANOUT_SECONDS = 5.0  # beat: events -> deliveries
WEBHOOK_DELIVERY_SECONDS = 10.0  # beat: send what is due (also kicked after each fan-out)
# The API schema names the webhook enums after their choices classes.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "WebhookEventTypeEnum": "integrations.choices.WebhookEventType",
        "WebhookDeliveryStatusEnum": "integrations.choices.DeliveryStatus",
    }
)

# --- Accounts and security headers ---
# Provider staff (admins, dispatchers) must sign in with a TOTP code as well. Off in base so
# the documented demo logins work with a password alone; production turns it on.
REQUIRE_STAFF_TOTP = env.env_bool("REQUIRE_STAFF_TOTP", False)
OTP_TOTP_ISSUER = "Service desk"
# Brute-force lockout (servicedesk.login_guard): failures counted within the window.
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_FAILURE_LIMIT_PER_USERNAME = 5
LOGIN_FAILURE_LIMIT_PER_IP = 30  # a store's NAT may hide many honest people behind one IP
LOGIN_FAILURE_LIMIT_PER_CODE = 5
# Sessions end after SESSION_COOKIE_AGE from sign-in, or after this long without a request.
SESSION_IDLE_TIMEOUT = timedelta(hours=2)
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
DEFAULT_EXCEPTION_REPORTER_FILTER = "servicedesk.security.SecretsExceptionReporterFilter"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The engineer's check-in reads the position; nothing else needs a device.
PERMISSIONS_POLICY = "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"

# --- Audit and operations (actor context, logs, metrics) ---
# /metrics: with a token only "Authorization: Bearer <token>" may scrape; without one only
# loopback and private addresses may. PROMETHEUS_MULTIPROC_DIR (read by prometheus-client)
# switches on multi-process aggregation for gunicorn and Celery workers.
METRICS_TOKEN = env.METRICS_TOKEN
# Workers log through LOGGING (JSON, with task ids) instead of Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Audit page and CSV export: rows per page, and the most rows one export may write.
AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_MAX_ROWS = 100_000
