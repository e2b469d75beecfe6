"""Settings for the test suite: the production settings with test-safe defaults.

Every default here can be overridden from the environment (the test command points
DATABASE_URL at a throwaway Postgres and CELERY_BROKER_URL at a throwaway Redis).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "siemhub-test-secret-key-not-for-production")
# A fixed Fernet key for tests only (never used outside the test suite).
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "3C5mX0nQyq1mH1k3S7b8n2o9YzKQbV8rJw5cF4dN6eA=")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("SIEMHUB_VAR_DIR", tempfile.mkdtemp(prefix="siemhub-test-var-"))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

from siemhub.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
SIEMHUB_KICK_ON_COMMIT = False  # unit tests drive the engine directly; e2e tests turn it on
