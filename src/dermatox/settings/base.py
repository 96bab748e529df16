"""Settings shared by every environment; everything site-specific comes from the environment.

Environment variables:
  DATABASE_URL          sqlite:///var/dermatox.sqlite3 (default) or postgres://user:pass@host/db
  DERMATOX_SECRET_KEY   required in production
  DERMATOX_FILE_KEY     key encrypting stored files, 32 bytes URL-safe base64 (`dermatox files keygen`);
                        required in production; DERMATOX_FILE_KEY_OLD: earlier keys (comma-separated)
  DERMATOX_ALLOWED_HOSTS comma-separated host names
  DERMATOX_VAR_DIR      where SQLite files, media and collected static live (default ./var)
  DERMATOX_SESSION_IDLE_MINUTES  log out after this much inactivity (default 30)
  DERMATOX_EMAIL_FROM   sender of reminder emails (default "Dermatox <no-reply@localhost>")
  DERMATOX_REMINDER_HOURS   appointment reminders go out this many hours before the start (default 24)
  DERMATOX_RECALL_LEAD_DAYS recall reminders go out this many days before a follow-up is due (default 7)
  DERMATOX_BULK_EXPORT_HOURS bulk export files are deleted this many hours after the export (default 24)
  DERMATOX_CDS_CLIENTS  JSON file of the EHRs (issuer + public keys) that may call the CDS Hooks services
  DERMATOX_CLINICAL_OVERRIDES  a folder with the clinic's values for unconfirmed clinical defaults
  DERMATOX_EMERGENCY_ACCESS_MINUTES  how long a physician's emergency access (break-the-glass) lasts by default
                        (default 60); DERMATOX_EMERGENCY_ACCESS_MAX_MINUTES the longest one may ask for (240)
  DERMATOX_AUDIT_KEY    the audit chain's MAC key (required in production; never stored in the database)
  DERMATOX_AUDIT_ANCHOR_TO  where `dermatox audit anchor` appends the signed head: a file (default
                        var/audit-anchors.jsonl) or "syslog"
  DERMATOX_AUDIT_ANCHOR_MINUTES  the worker anchors the audit head this often (default 60; 0: never)
  DERMATOX_BACKUP_DIR   where `dermatox backup` writes (default var/backups)
  DERMATOX_PG_BIN       folder holding pg_dump/pg_restore (default: PATH, then /usr/lib/postgresql/*/bin)
  DERMATOX_CDS_OPEN     1: CDS services take calls without a JWT (default 1 only while no clients file is set;
                        production default 0)
  DERMATOX_LOG_FORMAT   json (default: one JSON object a line) or text
  DERMATOX_LOG_LEVEL    WARNING (default), INFO, ...
  DERMATOX_ACCESS_LOG   0 turns the access log (one line a request, route and status only) off
  DERMATOX_HEALTH_MAX_QUEUE_MINUTES, DERMATOX_HEALTH_MIN_FREE_MB  /healthz limits (30 minutes, 500 MB)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from dermatox.clinical import reference as _clinical_reference
from dermatox.ops.logs import logging_config

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DERMATOX_VAR_DIR", "var")).resolve()

DEBUG = False
SECRET_KEY = os.environ.get("DERMATOX_SECRET_KEY", "")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DERMATOX_ALLOWED_HOSTS", "").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DERMATOX_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "ninja",  # the API docs page uses ninja's own copy of Swagger UI (its static files), not a CDN
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # Second factor (TOTP apps, one-time recovery codes): docs/security/second-factor.md
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "dermatox.accounts",
    "dermatox.audit",
    "dermatox.patients",
    "dermatox.assessments",
    "dermatox.treatments",
    "dermatox.inventory",
    "dermatox.intake",
    "dermatox.scheduling",
    "dermatox.documents",
    "dermatox.bulk",
    "dermatox.chart",  # composed reads (no models): registers the case builder with treatments
    "dermatox.web",
]

MIDDLEWARE = [
    "dermatox.ops.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "dermatox.api.input_guard.InputGuardMiddleware",  # before anything reads a body (sizes, NUL)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files keep their own caching headers and carry no policy.
    "csp.middleware.CSPMiddleware",
    "dermatox.common.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): second factor given this session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "dermatox.web.middleware.ClinicContextMiddleware",
    "dermatox.web.middleware.SecondFactorMiddleware",  # after the clinic context: it reads request.actor
]

ROOT_URLCONF = "dermatox.urls"
WSGI_APPLICATION = "dermatox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dermatox.web.context_processors.clinic",
            ],
        },
    },
]


def database_from_env(url: str) -> dict:
    """One parsed DATABASE_URL, with the SQLite settings that behave well under concurrent writers."""
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["NAME"] = str(Path(config["NAME"]).resolve()) if config["NAME"] != ":memory:" else ":memory:"
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
            ),
        }
    return config


DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dermatox.sqlite3'}")
DATABASES = {"default": database_from_env(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "clinic-choose"
LOGOUT_REDIRECT_URL = "login"

# Argon2 first: new passwords are hashed with it; older hashes are upgraded on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Lockout (django-axes, docs/security/headers-and-throttling.md): failed sign-ins within 15 minutes, counted
# three ways, each with its own limit; reaching one locks for 15 minutes (dermatox.accounts.sign_in_limits).
DERMATOX_SIGN_IN_LIMITS = [
    (("username", "ip_address"), int(os.environ.get("DERMATOX_SIGN_IN_LIMIT_ACCOUNT_ADDRESS", "5"))),
    (("username",), int(os.environ.get("DERMATOX_SIGN_IN_LIMIT_ACCOUNT", "10"))),  # from any address
    (("ip_address",), int(os.environ.get("DERMATOX_SIGN_IN_LIMIT_ADDRESS", "20"))),  # over any accounts
]
AXES_LOCKOUT_PARAMETERS = [list(fields) for fields, _limit in DERMATOX_SIGN_IN_LIMITS]
AXES_FAILURE_LIMIT = DERMATOX_SIGN_IN_LIMITS[0][1]
AXES_HANDLER = "dermatox.accounts.sign_in_limits.SignInLimitsHandler"
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_LOCKOUT_CALLABLE = "dermatox.accounts.sign_in_limits.lockout_response"  # the template + Retry-After
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Lockout and audit must agree on who the client is (see dermatox.common.http.client_ip).
AXES_CLIENT_IP_CALLABLE = "dermatox.common.http.client_ip"

# Second factor (dermatox.accounts.second_factor). The issuer is the name the authenticator app shows.
# django-otp's back-off (1, 2, 4, 8 s after each wrong code) counts on the TOTP device, shared by every
# session of the account; after DERMATOX_2FA_LOCK_AFTER wrong codes in a row (authenticator or recovery
# code) the account's second factor is locked for DERMATOX_2FA_LOCK_MINUTES.
OTP_TOTP_ISSUER = "Dermatox"
OTP_STATIC_THROTTLE_FACTOR = 0  # recovery-code failures are counted on the TOTP device instead
DERMATOX_2FA_LOCK_AFTER = 5
DERMATOX_2FA_LOCK_MINUTES = int(os.environ.get("DERMATOX_2FA_LOCK_MINUTES", "15"))

# Idle timeout: every request pushes the expiry forward; idle sessions die.
SESSION_COOKIE_AGE = int(os.environ.get("DERMATOX_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4; docs/security/headers-and-throttling.md). Scripts and styles only from
# our own static files, or inline with this response's nonce (`nonce="{{ request.csp_nonce }}"`); no inline
# event handlers, no style="" attributes, no eval, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],  # data: for the icons inside Swagger UI's stylesheet
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features no page of ours uses (there is no photo capture yet: camera too), refused to every origin.
DERMATOX_PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tr", "Türkçe")]
TIME_ZONE = os.environ.get("DERMATOX_TIME_ZONE", "Europe/Istanbul")

# A clinic's own values for the clinical data's unconfirmed (U/X) defaults: a folder of TOML files named as
# the data files (docs/pathways.md "Clinic-editable defaults"). Refused at start if it changes a confirmed row.
DERMATOX_CLINICAL_OVERRIDES = os.environ.get("DERMATOX_CLINICAL_OVERRIDES", "")
_clinical_reference.use_overrides(DERMATOX_CLINICAL_OVERRIDES)
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "dermatox.common.storage.EncryptedFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Stored files (consent PDFs, bulk exports) are encrypted with this key (docs/security/encryption.md).
# DERMATOX_FILE_KEY_OLD: comma-separated earlier keys, still read until `dermatox files encrypt` re-encrypts.
DERMATOX_FILE_KEY = os.environ.get("DERMATOX_FILE_KEY", "")
DERMATOX_FILE_KEY_OLD = [
    k.strip() for k in os.environ.get("DERMATOX_FILE_KEY_OLD", "").split(",") if k.strip()
]

DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
# Input bounds at the edge (issue 12 §1.5; docs/security/bulk-and-input.md): a body over this is a 413
# (api/input_guard.py), and every JSON body is read by common/json_body.py (depth 64, this size).
# 5 MB holds the largest legitimate body (a CDS request prefetching a long record).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DERMATOX_MAX_REQUEST_BYTES", str(5 * 1024 * 1024)))

# Logs: JSON lines with a request id and no patient data (dermatox/ops/logs.py, docs/operations.md).
DERMATOX_ACCESS_LOG = os.environ.get("DERMATOX_ACCESS_LOG", "1") != "0"
LOGGING = logging_config(
    level=os.environ.get("DERMATOX_LOG_LEVEL", "WARNING"),
    fmt=os.environ.get("DERMATOX_LOG_FORMAT", "json"),
    access=DERMATOX_ACCESS_LOG,
)
# /healthz answers 503 when the oldest due task waited longer than this, or the disk is this full.
DERMATOX_HEALTH_MAX_QUEUE_MINUTES = int(os.environ.get("DERMATOX_HEALTH_MAX_QUEUE_MINUTES", "30"))
DERMATOX_HEALTH_MIN_FREE_MB = int(os.environ.get("DERMATOX_HEALTH_MIN_FREE_MB", "500"))

TRUST_X_FORWARDED_FOR = os.environ.get("DERMATOX_TRUST_X_FORWARDED_FOR", "") == "1"

# A patient's intake link (opened on the clinic's tablet) works this many hours, once.
DERMATOX_INTAKE_LINK_HOURS = int(os.environ.get("DERMATOX_INTAKE_LINK_HOURS", "4"))
LOCALE_PATHS = [Path(__file__).resolve().parent.parent / "locale"]

# Background work (reminders): django-tasks with its database backend; `dermatox worker` runs the tasks.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Reminders (see docs/scheduling.md). Email itself: dev writes files to var/mail/, tests keep it in memory,
# production sends through SMTP (settings/production.py).
DEFAULT_FROM_EMAIL = os.environ.get("DERMATOX_EMAIL_FROM", "Dermatox <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 15
DERMATOX_REMINDER_HOURS = int(os.environ.get("DERMATOX_REMINDER_HOURS", "24"))
DERMATOX_RECALL_LEAD_DAYS = int(os.environ.get("DERMATOX_RECALL_LEAD_DAYS", "7"))
# Bulk export files hold whole clinics' records: the worker deletes them this many hours after the export.
DERMATOX_BULK_EXPORT_HOURS = int(os.environ.get("DERMATOX_BULK_EXPORT_HOURS", "24"))
# "shared": seen by every server process (gunicorn runs several), in the database; `dermatox migrate`
# creates its table. Holds the CDS Hooks token ids already used, so a token works once in any process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "dermatox_cache"},
}
# Emergency access (break-the-glass, docs/security/emergency-access.md): how long a grant lasts by default,
# and the longest a physician may ask for.
DERMATOX_EMERGENCY_ACCESS_MINUTES = int(os.environ.get("DERMATOX_EMERGENCY_ACCESS_MINUTES", "60"))
DERMATOX_EMERGENCY_ACCESS_MAX_MINUTES = int(os.environ.get("DERMATOX_EMERGENCY_ACCESS_MAX_MINUTES", "240"))
# Request limits (django-ratelimit; docs/security/headers-and-throttling.md), counted in the "shared" cache so
# that every gunicorn worker sees the same counts. The database cache's increment is a read then a write: under
# concurrent requests a few may get past a limit (a limit, not an exact quota; use Redis/memcached for that).
RATELIMIT_USE_CACHE = "shared"
# Requests per API token (REST, FHIR, bulk export) -> 429 with Retry-After.
DERMATOX_API_TOKEN_RATE = os.environ.get("DERMATOX_API_TOKEN_RATE", "600/m")
# Wrong intake-link tokens per address before the intake pages answer that address 429.
DERMATOX_INTAKE_GUESS_RATE = os.environ.get("DERMATOX_INTAKE_GUESS_RATE", "10/15m")
# CDS Hooks callers (docs/cds_hooks.md): EHRs with a signed JWT; open on a development machine.
DERMATOX_CDS_CLIENTS = os.environ.get("DERMATOX_CDS_CLIENTS", "")
DERMATOX_CDS_OPEN = os.environ.get("DERMATOX_CDS_OPEN", "0" if DERMATOX_CDS_CLIENTS else "1") == "1"

# Audit chain and backups (docs/security/audit.md, README "Backups"). The MAC key is never written to the
# database, and should not live on the database host either; dev and test settings use a fixed key.
DERMATOX_AUDIT_KEY = os.environ.get("DERMATOX_AUDIT_KEY", "")
DERMATOX_AUDIT_ANCHOR_TO = os.environ.get("DERMATOX_AUDIT_ANCHOR_TO", str(VAR_DIR / "audit-anchors.jsonl"))
DERMATOX_AUDIT_ANCHOR_MINUTES = int(os.environ.get("DERMATOX_AUDIT_ANCHOR_MINUTES", "60"))
DERMATOX_BACKUP_DIR = Path(os.environ.get("DERMATOX_BACKUP_DIR", str(VAR_DIR / "backups"))).resolve()
DERMATOX_PG_BIN = os.environ.get("DERMATOX_PG_BIN", "")
