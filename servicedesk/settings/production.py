"""Production settings: refuse to start insecure."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

if not env.SECRET_KEY or len(env.SECRET_KEY) < 32:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 32+ characters.")
if env.DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production.")
if not env.ALLOWED_HOSTS or "*" in env.ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the real host names, without '*'.")
if not env.DATABASE_URL:  # noqa: F405
    raise ImproperlyConfigured("DATABASE_URL must point at the production database.")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
