"""Settings for the test suite: real PostgreSQL, fast hashing, no pool between tests."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# pytest-django opens and closes connections around each test; a pool would keep
# connections to the test database alive across its teardown.
DATABASES["default"]["OPTIONS"].pop("pool", None)  # noqa: F405
# Transactional tests are emptied by TRUNCATE; the append-only audit table lets that through
# only on connections that say so (audit/migrations/0001).
DATABASES["default"]["OPTIONS"]["options"] += " -c servicedesk.audit_truncate=allow"  # noqa: F405
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")  # noqa: F405
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LANGUAGE_CODE = "en"
# Rate limits off (their cache reads and writes would add to the pinned query counts);
# tests/api/test_limits.py switches them on with override_settings.
API_THROTTLE_RATES = {"principal": None, "token_obtain": None}
# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
