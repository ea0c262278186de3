"""The one settings module. Every value comes from the environment (see
`.env.example` and the README's table); with nothing set the app runs on SQLite
with in-process Celery tasks, console e-mail and development keys kept in
`.dev-keys.json`. With DEBUG off it refuses to start without real keys.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from privacy_admin.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    load_dev_keys,
    parse_field_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

# --- Keys -------------------------------------------------------------------
_dev_keys = load_dev_keys(BASE_DIR / ".dev-keys.json") if DEBUG else {}


def _key(name):
    value = env_str(name) or _dev_keys.get(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return value


SECRET_KEY = _key("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = parse_field_keys(
    [item.strip() for item in _key("FIELD_ENCRYPTION_KEYS").split(",") if item.strip()]
)
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must name at least one key")
AUDIT_HMAC_KEY = _key("AUDIT_HMAC_KEY")
if len(AUDIT_HMAC_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must be at least 32 characters")
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters")
if AUDIT_HMAC_KEY == SECRET_KEY:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must differ from SECRET_KEY")
# The audit log's own retention term: events older than this many years are
# removed by the nightly retention job, leaving a checkpoint (retention/auditterm.py).
AUDIT_RETENTION_YEARS = env_int("AUDIT_RETENTION_YEARS", 5, minimum=1, maximum=50)
# Keyed hash for looking up a BSN without decrypting every row (S-25). Changing
# it means recomputing the hashes: `manage.py rotate_encryption_keys` does that.
LOOKUP_HASH_KEY = _key("LOOKUP_HASH_KEY")
if len(LOOKUP_HASH_KEY) < 32 or LOOKUP_HASH_KEY in (SECRET_KEY, AUDIT_HMAC_KEY):
    raise ImproperlyConfigured("LOOKUP_HASH_KEY must be 32+ characters and differ from the other keys")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# How many reverse proxies of our own stand in front of the app, each appending
# to X-Forwarded-For. 0: the header is ignored and REMOTE_ADDR is the client.
# The client address counts login failures (S-2) and goes into the audit log.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Applications -----------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "guardian",
    "privacy_admin.apps.CoreConfig",
    "students.apps.StudentsConfig",
    "consent.apps.ConsentConfig",
    "breaches.apps.BreachesConfig",
    "retention.apps.RetentionConfig",
    "disclosures.apps.DisclosuresConfig",
    "disclosures.rights.apps.RightsConfig",
    "statement.apps.StatementConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files with DEBUG off too (gunicorn in docker-compose); answered
    # before sessions or the gate are touched.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "privacy_admin.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "privacy_admin.middleware.StaffGateMiddleware",
    # The parents' portal is a realm of its own, with its own login (U-4).
    "consent.parents.ParentGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "privacy_admin.urls"
WSGI_APPLICATION = "privacy_admin.wsgi.application"

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
                "privacy_admin.context_processors.portal",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        # Connections are kept 60 s and checked before reuse: a connection the
        # server dropped while idle (restart, failover, pg_terminate_backend)
        # is replaced instead of failing the next request (tests/faults).
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    except Exception as exc:  # dj_database_url raises several types
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # IMMEDIATE makes every atomic block take the write lock up front, so
            # the audit chain head is never read by two writers at once.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------
# Sessions live in the database and the cache is per process: the portal keeps
# serving pages when Redis is down (S-29). Redis is only Celery's broker.
REDIS_URL = env_str("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker process was killed (SIGKILL, the OOM killer) goes back to
# the queue instead of being failed and acknowledged: every task is idempotent
# and claims its work in the database (S-27, S-28; tests/faults).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A frozen or unreachable Redis must not hang the request that queues a task
# (S-29): connecting and reading time out after 2 s and a publish is retried
# once, so `.delay()` fails within seconds and the work waits in the database
# (retention.tasks.queue_confirmed_purge). Redis redelivers a task a killed
# worker never acknowledged after the visibility timeout (1 hour); a task
# still running then is delivered twice, which its claim makes harmless.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2, "visibility_timeout": 3600}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/Amsterdam"

# --- Auth, second factor, sessions ------------------------------------------
AUTH_USER_MODEL = "privacy_admin.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
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
PASSWORD_RESET_TIMEOUT = 60 * 60

SESSION_ENGINE = "privacy_admin.sessions"
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15, minimum=1, maximum=240)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1, maximum=24)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
STEP_UP_MINUTES = env_int("STEP_UP_MINUTES", 5, minimum=1, maximum=60)

# Login guessing (S-2): failures counted in a sliding window, so the limit lifts
# by itself after the window (the cool-off).
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15, minimum=1)
LOGIN_FAILURES_PER_USER_AND_ADDRESS = env_int("LOGIN_FAILURES_PER_USER_AND_ADDRESS", 5, minimum=1)
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 20, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 50, minimum=1)

OTP_TOTP_ISSUER = "Privacy Admin"
# Exponential back-off per device after a wrong code: 1, 2, 4, ... seconds.
OTP_THROTTLE_FACTOR = env_int("OTP_THROTTLE_FACTOR", 1, minimum=0)

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

# --- Security headers (S-18, S-19) ------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- E-mail -----------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    # Console mail in production would put login codes and reset links in the
    # logs and never reach the FG (S-24, R-BRK-1).
    raise ImproperlyConfigured("EMAIL_HOST must be set when DEBUG is off")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "privacy@localhost")

# --- Language, time ---------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- Static -----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only production collects files (the Docker image); development serves from static/.
STATIC_ROOT = None if DEBUG else BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# In development (and tests) files come straight from static/; in production
# from STATIC_ROOT, filled by collectstatic in the image.
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# --- Logging: never personal data, codes or secrets (S-24) ------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
