"""Production settings, started as a deployment starts them (a fresh interpreter): HTTPS-only transport and
Django's deployment checks clean (ASVS V9/V14, HIPAA §164.312(e))."""

import json
import os
import subprocess
import sys

from dermatox.common.filecrypt import generate_key


def _production_env(tmp_path) -> dict:
    inherited = {
        k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }  # set by the browser tests
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "dermatox.settings.production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "DERMATOX_VAR_DIR": str(tmp_path),
        "DERMATOX_SECRET_KEY": "a-long-random-production-secret-key-for-this-test-only-0123456789",
        "DERMATOX_ALLOWED_HOSTS": "clinic.example.org",
        "DERMATOX_AUDIT_KEY": "an-audit-key-of-more-than-thirty-two-characters",
        "DERMATOX_FILE_KEY": generate_key(),
    }


def test_production_is_https_only(tmp_path):
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({k: "
        "getattr(s, k) for k in ('DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_HTTPONLY', 'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
    }


def test_the_deployment_checks_pass(tmp_path):
    env = _production_env(tmp_path)
    run = [sys.executable, "-m", "dermatox"]
    migrated = subprocess.run([*run, "migrate"], env=env, capture_output=True, text=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    checked = subprocess.run(
        [*run, "check", "--deploy"], env=env, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
