"""Test settings: fast hashing, in-memory mail; the database comes from DATABASE_URL as usual."""

import os

os.environ.setdefault("DEV_KEYS", "true")

from purworejo_portal.settings.base import *  # noqa: F403
from purworejo_portal.settings.base import BASE_DIR, DATABASES

FIELD_ENCRYPTION_KEYS = [
    "x1y0vU3-rTqQ9bKxH2w9e4b6m3Z8a1cD5fG7hJ9kL0s=",
]
BLIND_INDEX_KEY = "test-blind-index-key-not-secret"
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
MEDIA_ROOT = BASE_DIR / "var" / "test-private"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
# Tasks run in-process in tests; tests/conftest.py's celery_worker_app switches to a real worker.
CELERY_TASK_ALWAYS_EAGER = True
