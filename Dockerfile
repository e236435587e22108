# Production image: gunicorn serves the app; the same image runs the Celery worker and beat
# (docker-compose.yml picks the command). Settings: servicedesk.settings.production, which
# refuses to start without SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=servicedesk.settings.production \
    STATIC_ROOT=/app/var/static \
    MEDIA_ROOT=/app/var/media

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change reuses this layer. The
# project declares no installable packages (the code runs from /app), so `pip install .`
# installs exactly the runtime dependencies.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected at build time with the production storage (compressed by
# whitenoise). The values below exist only for this step: production settings insist on them.
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdef \
    DATABASE_URL=postgres://build@localhost/build \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput -v0

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app

EXPOSE 8000
# No gunicorn access log: the application logs every request as a JSON line with its id.
CMD ["gunicorn", "servicedesk.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", \
     "--no-control-socket"]
