"""Production: refuses to start without a secret key and allowed hosts; HTTPS-only cookies."""

import os

from django.core.exceptions import ImproperlyConfigured

from dermatox.common.filecrypt import FileKeyError, parse_key

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DERMATOX_AUDIT_KEY, DERMATOX_FILE_KEY, DERMATOX_FILE_KEY_OLD, SECRET_KEY

if not SECRET_KEY:
    raise ImproperlyConfigured("DERMATOX_SECRET_KEY must be set in production")
if not DERMATOX_FILE_KEY:
    raise ImproperlyConfigured(
        "DERMATOX_FILE_KEY must be set in production: it encrypts stored files (docs/security/encryption.md)"
    )
try:  # a malformed key stops the start, not the first consent signed
    for _setting, _key in [("DERMATOX_FILE_KEY", DERMATOX_FILE_KEY)] + [
        ("DERMATOX_FILE_KEY_OLD", k) for k in DERMATOX_FILE_KEY_OLD
    ]:
        parse_key(_key, setting=_setting)
except FileKeyError as _exc:
    raise ImproperlyConfigured(str(_exc)) from None
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DERMATOX_ALLOWED_HOSTS must name the host(s) this site answers to")
if len(DERMATOX_AUDIT_KEY) < 32:
    raise ImproperlyConfigured(
        "DERMATOX_AUDIT_KEY must be set in production (at least 32 characters, e.g. from "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), kept off the database host"
    )

# The CDS Hooks services answer only EHRs holding a key registered in DERMATOX_CDS_CLIENTS.
DERMATOX_CDS_OPEN = os.environ.get("DERMATOX_CDS_OPEN", "0") == "1"

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# HSTS preload submission is a decision for each site's owner, not a default we make for them.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Reminder emails through SMTP (DERMATOX_EMAIL_HOST, _PORT, _USER, _PASSWORD, _USE_TLS, DERMATOX_EMAIL_FROM).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("DERMATOX_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DERMATOX_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("DERMATOX_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DERMATOX_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("DERMATOX_EMAIL_USE_TLS", "1") == "1"
