"""Production settings: refuse to start insecure."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

if not env.SECRET_KEY or len(env.SECRET_KEY) < 32:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 32+ characters.")
if "insecure" in env.SECRET_KEY or len(set(env.SECRET_KEY)) < 10:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY looks like a placeholder: generate a random one.")
if env.DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production.")
if not env.ALLOWED_HOSTS or "*" in env.ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the real host names, without '*'.")
if not env.DATABASE_URL:  # noqa: F405
    raise ImproperlyConfigured("DATABASE_URL must point at the production database.")

# Provider staff sign in with a TOTP code too; the demo's password-only logins are for
# local use. Turning it off here is refused rather than silently accepted.
REQUIRE_STAFF_TOTP = env.env_bool("REQUIRE_STAFF_TOTP", True)  # noqa: F405
if not REQUIRE_STAFF_TOTP:
    raise ImproperlyConfigured("REQUIRE_STAFF_TOTP must stay on in production.")
if PASSWORD_HASHERS[0] != "django.contrib.auth.hashers.Argon2PasswordHasher":  # noqa: F405
    raise ImproperlyConfigured("New passwords must be hashed with Argon2 in production.")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
