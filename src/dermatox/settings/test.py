"""Tests: the same stack as production, with a throwaway key and plain static storage.

SQLite tests run on a real file (WAL, IMMEDIATE transactions) so concurrency tests and the live
server behave as in production; PostgreSQL when DATABASE_URL points at one.
"""

import os
import tempfile
from pathlib import Path

from dermatox.common.filecrypt import development_key

from .base import *  # noqa: F403
from .base import database_from_env, logging_config

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
_db = database_from_env(
    os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/dermatox-unused.sqlite3"
)
if _db["ENGINE"].endswith("sqlite3"):
    _db["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"dermatox-test-{os.getpid()}.sqlite3")}
DATABASES = {"default": _db}
STORAGES = {
    "default": {"BACKEND": "dermatox.common.storage.EncryptedInMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# !!! The FIXED, PUBLICLY KNOWN development key for stored files (never for real files).
DERMATOX_FILE_KEY = development_key()
DERMATOX_FILE_KEY_OLD = []

# Still Argon2, with a small memory cost so hundreds of test users hash quickly. Production keeps the
# default (base.py); a test checks that.
PASSWORD_HASHERS = ["dermatox.settings.test_hashers.FastArgon2PasswordHasher"]

# Static files straight from the apps (no collectstatic in tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Tasks stay on the database backend (as in production); tests run them inline with `db_worker --batch`.
# Reminder windows fixed here so the environment cannot change what the tests expect.
DERMATOX_REMINDER_HOURS = 24
DERMATOX_RECALL_LEAD_DAYS = 7
DERMATOX_EMERGENCY_ACCESS_MINUTES = 60
DERMATOX_EMERGENCY_ACCESS_MAX_MINUTES = 240

# The access log stays quiet in tests (tests of the log raise its level themselves).
LOGGING = logging_config(level="WARNING", fmt="json", access=False)

# One token makes thousands of requests in the contract tests (schemathesis); the throttle tests set small rates.
DERMATOX_API_TOKEN_RATE = "1000000/m"  # noqa: S105 (a rate, not a secret)

# !!! TESTS ONLY: a fixed, public audit MAC key (production refuses to start without its own).
DERMATOX_AUDIT_KEY = "dermatox-TEST-ONLY-audit-key-NOT-SECRET"

# An audit action missing from dermatox/audit/actions.py fails the test that writes it.
DERMATOX_STRICT_AUDIT_ACTIONS = True
