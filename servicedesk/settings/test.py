"""Settings for the test suite: real PostgreSQL, fast hashing, no pool between tests."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# pytest-django opens and closes connections around each test; a pool would keep
# connections to the test database alive across its teardown.
DATABASES["default"]["OPTIONS"].pop("pool", None)  # noqa: F405
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")  # noqa: F405
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LANGUAGE_CODE = "en"
# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
