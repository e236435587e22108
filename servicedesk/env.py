"""The one place that reads the process environment.

Settings modules import from here; nothing else in the project calls ``os.environ``,
so every knob the platform has is listed in this file (and in README's table).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in _TRUE


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATABASE_URL = env_str("DATABASE_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10)
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ru")
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static"))
EMAIL_URL = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "servicedesk@localhost")
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 30)
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
# Largest non-upload API request body (JSON); 0 means Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 0)
# A cache shared by every worker process (rate limits); empty means a database table.
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
# DRF rate strings ("600/min"); an empty value switches that limit off.
API_RATE_PER_TOKEN = env_str("API_RATE_PER_TOKEN", "600/min")
API_RATE_TOKEN_OBTAIN = env_str("API_RATE_TOKEN_OBTAIN", "10/min")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "json")
METRICS_TOKEN = env_str("METRICS_TOKEN")
