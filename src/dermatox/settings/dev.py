"""Local use (`make run`): debug pages, a secret key kept in var/, loopback hosts."""

import secrets

from dermatox.common.filecrypt import development_key

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DERMATOX_FILE_KEY, SECRET_KEY, VAR_DIR

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

# !!! A FIXED, PUBLICLY KNOWN key for stored files unless DERMATOX_FILE_KEY is set: development only.
DERMATOX_FILE_KEY = DERMATOX_FILE_KEY or development_key()
