# The portal's image: web (gunicorn), worker and beat (celery) all run from it;
# docker-compose.yml picks the command. Every setting comes from the
# environment (privacy_admin/settings.py); no key is baked into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. The lock holds
# only wheels for this platform (psycopg-binary, argon2-cffi-bindings), so no
# compiler is needed.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .

# Static files are collected at build time. Settings refuse to load with DEBUG
# off and no keys, so this one command gets throw-away values that exist only
# for its duration: they are not ENV, not in the image's config, and not used
# at run time (the real keys come from the environment, see docker-compose.yml).
RUN DEBUG=false \
    SECRET_KEY=collectstatic-only-not-a-secret-collectstatic-only-not-a-secret \
    FIELD_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
    AUDIT_HMAC_KEY=collectstatic-only-not-a-secret-hmac \
    LOOKUP_HASH_KEY=collectstatic-only-not-a-secret-lookup \
    ALLOWED_HOSTS=build.invalid \
    EMAIL_HOST=build.invalid \
    python manage.py collectstatic --noinput -v 0

# Run as an unprivileged user; var/ holds uploads (MEDIA_ROOT) and beat's
# schedule file.
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "privacy_admin.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
