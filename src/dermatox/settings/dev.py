"""Local use (`make run`): debug pages, a secret key kept in var/, loopback hosts."""

import os
import secrets

from dermatox.common.filecrypt import development_key

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    DERMATOX_ACCESS_LOG,
    DERMATOX_AUDIT_KEY,
    DERMATOX_FILE_KEY,
    SECRET_KEY,
    VAR_DIR,
    logging_config,
)

DEBUG = True
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
STORAGES = {
    "default": {"BACKEND": "dermatox.common.storage.EncryptedFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _local_secret_key() -> str:
    """A per-installation key, made once and kept beside the database."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = SECRET_KEY or _local_secret_key()

# Reminder emails are written as files, one per message, to var/mail/ (nothing leaves the machine).
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"

# A developer reads the log in a terminal: scrubbed text lines unless DERMATOX_LOG_FORMAT says json.
LOGGING = logging_config(
    level=os.environ.get("DERMATOX_LOG_LEVEL", "WARNING"),
    fmt=os.environ.get("DERMATOX_LOG_FORMAT", "text"),
    access=DERMATOX_ACCESS_LOG,
)

# !!! DEVELOPMENT ONLY: a fixed, PUBLIC audit MAC key, so a laptop database verifies without setup. Anyone
# can forge this chain's MACs. Production refuses to start without its own DERMATOX_AUDIT_KEY.
DERMATOX_AUDIT_KEY = DERMATOX_AUDIT_KEY or "dermatox-DEVELOPMENT-ONLY-audit-key-NOT-SECRET"

# !!! A FIXED, PUBLICLY KNOWN key for stored files unless DERMATOX_FILE_KEY is set: development only.
DERMATOX_FILE_KEY = DERMATOX_FILE_KEY or development_key()
