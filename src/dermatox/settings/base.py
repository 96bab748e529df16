"""Settings shared by every environment; everything site-specific comes from the environment.

Environment variables:
  DATABASE_URL          sqlite:///var/dermatox.sqlite3 (default) or postgres://user:pass@host/db
  DERMATOX_SECRET_KEY   required in production
  DERMATOX_ALLOWED_HOSTS comma-separated host names
  DERMATOX_VAR_DIR      where SQLite files, media and collected static live (default ./var)
  DERMATOX_SESSION_IDLE_MINUTES  log out after this much inactivity (default 30)
  DERMATOX_EMAIL_FROM   sender of reminder emails (default "Dermatox <no-reply@localhost>")
  DERMATOX_REMINDER_HOURS   appointment reminders go out this many hours before the start (default 24)
  DERMATOX_RECALL_LEAD_DAYS recall reminders go out this many days before a follow-up is due (default 7)
  DERMATOX_BULK_EXPORT_HOURS bulk export files are deleted this many hours after the export (default 24)
  DERMATOX_CDS_CLIENTS  JSON file of the EHRs (issuer + public keys) that may call the CDS Hooks services
  DERMATOX_CLINICAL_OVERRIDES  a folder with the clinic's values for unconfirmed clinical defaults
  DERMATOX_CDS_OPEN     1: CDS services take calls without a JWT (default 1 only while no clients file is set;
                        production default 0)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from dermatox.clinical import reference as _clinical_reference

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
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
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
    "dermatox.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dermatox.api.input_guard.InputGuardMiddleware",  # before anything reads a body (sizes, NUL)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "dermatox.web.middleware.ClinicContextMiddleware",
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

# Lockout: 5 failed logins for one user name from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Lockout and audit must agree on who the client is (see dermatox.common.http.client_ip).
AXES_CLIENT_IP_CALLABLE = "dermatox.common.http.client_ip"

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
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
# Input bounds at the edge (issue 12 §1.5; docs/security/bulk-and-input.md): a body over this is a 413
# (api/input_guard.py), and every JSON body is read by common/json_body.py (depth 64, this size).
# 5 MB holds the largest legitimate body (a CDS request prefetching a long record).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DERMATOX_MAX_REQUEST_BYTES", str(5 * 1024 * 1024)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DERMATOX_LOG_LEVEL", "WARNING")},
}

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
# CDS Hooks callers (docs/cds_hooks.md): EHRs with a signed JWT; open on a development machine.
DERMATOX_CDS_CLIENTS = os.environ.get("DERMATOX_CDS_CLIENTS", "")
DERMATOX_CDS_OPEN = os.environ.get("DERMATOX_CDS_OPEN", "0" if DERMATOX_CDS_CLIENTS else "1") == "1"
