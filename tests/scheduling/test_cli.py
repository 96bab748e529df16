"""`dermatox reminders` and `dermatox worker`, run as a user runs them (separate processes)."""

import os
import subprocess
import sys

import pytest

from tests.dates import NEXT_YEAR
from tests.test_cli import run


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-scheduling")
    assert run(path, "migrate").returncode == 0
    result = run(path, "demo", "--patients", "8")
    assert result.returncode == 0 and " appointments" in result.stdout, result.stderr
    return path


def test_reminders_run_inline_and_through_the_worker(demo_db):
    inline = run(demo_db, "reminders", "--run", "--now", f"{NEXT_YEAR.isoformat()}T08:00")
    assert inline.returncode == 0 and inline.stdout.startswith("Reminders: "), inline.stderr
    queued = run(demo_db, "reminders")
    assert queued.returncode == 0 and "queued" in queued.stdout
    worker = run(demo_db, "worker", "--batch", "--sweep-minutes", "0")
    assert worker.returncode == 0, worker.stderr
    code = (
        "import django; django.setup(); from django_tasks_db.models import DBTaskResult; "
        "print(sorted(set(DBTaskResult.objects.values_list('status', flat=True))))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{demo_db / 'main.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "dermatox.settings.dev",
        "DERMATOX_VAR_DIR": str(demo_db / "var"),
    }
    statuses = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert statuses.stdout.strip() == "['SUCCESSFUL']", statuses.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reminders", "--now", "next tuesday"], "--now: must be a date and time"),
        (["worker", "--sweep-minutes", "-1"], "must be 0 or more"),
    ],
)
def test_bad_input_exits_2_naming_the_option(demo_db, args, message):
    result = run(demo_db, *args)
    assert result.returncode == 2 and message in result.stderr
