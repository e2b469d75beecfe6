"""Settings from the environment (django-environ; a ``.env`` file beside manage.py is read).

Embedded default: SQLite in ``var/`` and Celery's filesystem broker, no server to install.
Production: ``DATABASE_URL=postgres://...`` and ``CELERY_BROKER_URL=redis://...``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import environ

from siemhub.keycheck import EncryptionKeyError, validate_keys

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# SIEMHUB_ENV_FILE points elsewhere (or at /dev/null to read none); the environment always wins.
environ.Env.read_env(os.environ.get("SIEMHUB_ENV_FILE", str(BASE_DIR / ".env")), overwrite=False)

VAR_DIR = Path(env.str("SIEMHUB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not env.bool("SIEMHUB_ALLOW_INSECURE_SECRET_KEY", default=False):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY is not set: put it in the environment or in .env")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# FIELD_ENCRYPTION_KEY: one Fernet key, or a comma-separated list for rotation (the first key
# encrypts, every key decrypts). Checked at start-up by siemhub.startup.
_keys = [k.strip() for k in env.list("FIELD_ENCRYPTION_KEY", default=[]) if k.strip()]
try:
    validate_keys(_keys)
except EncryptionKeyError as _exc:
    # Refuse to start: the encryption library would otherwise fail later with a traceback, or
    # worse, silently hand back ciphertext as if it were the secret.
    sys.stderr.write(f"siemhub: refusing to start: {_exc}\n")
    raise SystemExit(78) from None
FIELD_ENCRYPTION_KEY = _keys[0] if len(_keys) == 1 else tuple(_keys)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "encrypted_model_fields",
    "integrations",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "siemhub.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "siemhub.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'siemhub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; IMMEDIATE
    # transactions take the write lock up front so concurrent writers wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/settings/siem/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "integrations.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "siemhub API",
    "DESCRIPTION": "Configure SIEM integrations, ingest events, inspect deliveries and dead letters.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Celery -------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A kick that cannot be published is not an error: the event is in the database and the
# beat sweep delivers it. So publishing must fail fast instead of blocking an API request.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the DB connection after every task by default: one new
# PostgreSQL connection per kick. Reuse it (measured: PostgreSQL CPU per event roughly halved
# for single-event ingest).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)

# --- siemhub ------------------------------------------------------------------------------
SIEM_DEAD_LETTER_PATH = env.str("SIEM_DEAD_LETTER_PATH", default=str(VAR_DIR / "dead-letters.jsonl"))
SIEMHUB_MAX_ATTEMPTS = env.int("SIEMHUB_MAX_ATTEMPTS", default=5)
SIEMHUB_BATCH_MAX_EVENTS = env.int("SIEMHUB_BATCH_MAX_EVENTS", default=1000)
SIEMHUB_BACKOFF_INITIAL_S = env.float("SIEMHUB_BACKOFF_INITIAL_S", default=1.0)
SIEMHUB_BACKOFF_MAX_S = env.float("SIEMHUB_BACKOFF_MAX_S", default=300.0)
SIEMHUB_SWEEP_INTERVAL_S = env.float("SIEMHUB_SWEEP_INTERVAL_S", default=10.0)
SIEMHUB_DRAIN_BUDGET_S = env.float("SIEMHUB_DRAIN_BUDGET_S", default=30.0)
SIEMHUB_LEASE_S = env.float("SIEMHUB_LEASE_S", default=300.0)
SIEMHUB_EVENT_RETENTION_DAYS = env.int("SIEMHUB_EVENT_RETENTION_DAYS", default=7)
SIEMHUB_ATTEMPT_RETENTION_DAYS = env.int("SIEMHUB_ATTEMPT_RETENTION_DAYS", default=14)
SIEMHUB_INGEST_MAX_BYTES = env.int("SIEMHUB_INGEST_MAX_BYTES", default=10 * 1024 * 1024)
SIEMHUB_INGEST_MAX_EVENTS = env.int("SIEMHUB_INGEST_MAX_EVENTS", default=10000)
SIEMHUB_KICK_ON_COMMIT = env.bool("SIEMHUB_KICK_ON_COMMIT", default=True)
# Django's own request body cap; the ingest view applies SIEMHUB_INGEST_MAX_BYTES itself.
DATA_UPLOAD_MAX_MEMORY_SIZE = SIEMHUB_INGEST_MAX_BYTES

CELERY_BEAT_SCHEDULE = {
    "sweep-pending": {"task": "delivery.sweep_pending", "schedule": SIEMHUB_SWEEP_INTERVAL_S},
    "purge-old": {"task": "delivery.purge_old", "schedule": 3600.0},
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "siemhub.logging.RedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
