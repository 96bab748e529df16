"""The `dermatox` command, run as a user runs it: a separate process, configured by DATABASE_URL."""

import json
import os
import subprocess
import sys

import pytest


def cli_env(tmp_path, db="main.sqlite3", extra_env=None) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / db}",
        "DERMATOX_VAR_DIR": str(tmp_path / "var"),
        **(extra_env or {}),
    }


def run(tmp_path, *args, db="main.sqlite3", stdin=None, extra_env=None):
    return subprocess.run(
        [sys.executable, "-m", "dermatox", *args],
        env=cli_env(tmp_path, db, extra_env),
        capture_output=True,
        text=True,
        input=stdin,
        timeout=180,
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli")
    assert run(path, "migrate").returncode == 0
    result = run(path, "demo", "--if-empty")
    assert result.returncode == 0, result.stderr
    return path, result


def test_demo_prints_logins_and_is_idempotent(demo_db):
    path, first = demo_db
    assert "Demo loaded: 60 patients" in first.stdout
    for login in ["physician", "nurse", "frontdesk", "manager", "admin"]:
        assert f"\n  {login} " in first.stdout
    again = run(path, "demo", "--if-empty")
    assert again.returncode == 0 and "already loaded" in again.stdout and "Demo logins" in again.stdout


def test_check_reports_a_healthy_database(demo_db):
    path, _ = demo_db
    result = run(path, "check")
    assert result.returncode == 0 and "migrations applied" in result.stdout


def test_check_fails_on_an_unmigrated_database(tmp_path):
    result = run(tmp_path, "check", db="empty.sqlite3")
    assert result.returncode == 1 and "not applied" in result.stderr


def test_a_second_database_is_an_independent_clinic(demo_db):
    path, _ = demo_db
    assert run(path, "migrate", db="second.sqlite3").returncode == 0
    code = "import django; django.setup(); from dermatox.patients.models import Patient; print(Patient.objects.count())"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path / 'second.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "dermatox.settings.dev",
        "DERMATOX_VAR_DIR": str(path / "var"),
    }
    count = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert count.stdout.strip() == "0"
    env["DATABASE_URL"] = f"sqlite:///{path / 'main.sqlite3'}"
    count = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert count.stdout.strip() == "60"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["createuser", "eve", "--clinic", "nope:nurse", "--password-stdin"],
            "Long-enough-pass-1\n",
            "--clinic: no clinic",
        ),
        (
            ["createuser", "eve", "--clinic", "nis:wizard", "--password-stdin"],
            "Long-enough-pass-1\n",
            "role: must be one of",
        ),
        (["createuser", "eve", "--clinic", "nis:nurse", "--password-stdin"], "short\n", "password:"),
        (
            ["createuser", "bad name!", "--clinic", "nis:nurse", "--password-stdin"],
            "Long-enough-pass-1\n",
            "username:",
        ),
        (["createuser", "eve", "--password-stdin"], "Long-enough-pass-1\n", "--clinic: at least one"),
        (["serve", "--port", "0"], None, "--port: must be between"),
    ],
)
def test_bad_input_exits_2_naming_the_field(demo_db, args, stdin, message):
    path, _ = demo_db
    result = run(path, *args, stdin=stdin)
    assert result.returncode == 2, result
    assert message in result.stderr


def test_createuser_then_the_user_exists_with_an_argon2_hash(demo_db):
    path, _ = demo_db
    result = run(
        path,
        "createuser",
        "selin",
        "--clinic",
        "nis:nurse",
        "--clinic",
        "kad:nurse",
        "--full-name",
        "Selin Ak",
        "--password-stdin",
        stdin="Long-enough-pass-1\n",
    )
    assert result.returncode == 0, result.stderr
    assert "nis:nurse, kad:nurse" in result.stdout
    code = (
        "import django; django.setup(); from dermatox.accounts.models import User; "
        "u = User.objects.get(username='selin'); print(u.password.split('$')[0], u.memberships.count())"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path / 'main.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "dermatox.settings.dev",
        "DERMATOX_VAR_DIR": str(path / "var"),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["argon2", "2"]


def test_bad_database_url_and_unreachable_database_are_reported(tmp_path):
    result = run(tmp_path, "check", extra_env={"DATABASE_URL": "foo://nowhere"})
    assert result.returncode == 2 and result.stderr.startswith("dermatox: DATABASE_URL:")
    result = run(tmp_path, "check", extra_env={"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1 and "database:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["demo", "--patients", "-3"], ["serve", "--workers", "0"]])
def test_counts_must_be_positive(tmp_path, args):
    result = run(tmp_path, *args)
    assert result.returncode == 2 and "must be at least 1" in result.stderr


def test_case_export_pipes_into_assess(demo_db):
    path, _ = demo_db
    exported = run(path, "case", "NIS-000002")
    assert exported.returncode == 0, exported.stderr
    case = json.loads(exported.stdout)
    assert case["patient"]["sex"] in ("male", "female")
    assessed = subprocess.run(
        [sys.executable, "-m", "dermatox", "assess", "-"],
        input=exported.stdout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert assessed.returncode == 0, assessed.stderr
    assert json.loads(assessed.stdout)["recommendations"]
    assert run(path, "case", "NOPE-1").returncode == 2


def test_recall_command_lists_patients_of_a_lot(demo_db):
    path, _ = demo_db
    result = run(path, "recall", "NOLOT", "--clinic", "nis")
    assert result.returncode == 0 and "0 patient(s)" in result.stdout
    assert run(path, "recall", "X", "--clinic", "nope").returncode == 2


def _serve(path, *args, log=subprocess.DEVNULL):
    """`dermatox serve` with one web worker on a free port; returns (server, a connection that answered)."""
    import http.client
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dermatox",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-worker",
            *args,
        ],
        env=cli_env(path),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/healthz")
            return server, connection
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError("the server did not start") from None
            time.sleep(0.3)


def _get(connection, url="/healthz") -> int:
    connection.request("GET", url)
    response = connection.getresponse()
    response.read()
    return response.status


def test_serve_keeps_an_idle_connection_open_between_a_users_requests(demo_db):
    """A clinician's browser reuses its connection after a few seconds' pause: the server must not have
    closed it (gunicorn's 2 s default reset requests sent at that moment in the load run)."""
    import time

    path, _ = demo_db
    server, connection = _serve(path)
    try:
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        time.sleep(3.5)  # longer than gunicorn's default keep-alive
        assert _get(connection) == 200  # the same connection
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_replaces_a_worker_after_its_max_requests_without_failing_one(demo_db, tmp_path):
    """Workers are recycled (WeasyPrint's native libraries keep memory of every PDF): the worker that
    reached --max-requests is replaced by a new one, and no request fails on the way."""
    import http.client
    import re

    path, _ = demo_db
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server, connection = _serve(path, "--max-requests", "5", log=log)
        statuses = []
        try:
            connection.getresponse().read()
            for _ in range(30):  # a fresh connection each time: the retiring worker closes its own
                connection.close()
                connection = http.client.HTTPConnection(connection.host, connection.port, timeout=10)
                statuses.append(_get(connection))
        finally:
            connection.close()
            server.terminate()
            server.wait(timeout=30)
    booted = set(re.findall(r"Booting worker with pid: (\d+)", log_path.read_text()))
    assert statuses == [200] * 30
    assert len(booted) >= 3, log_path.read_text()[-2000:]  # 31 requests, a new worker every 5–6


def test_serve_rejects_a_negative_max_requests(tmp_path):
    done = run(tmp_path, "serve", "--max-requests", "-1")
    assert done.returncode == 2 and "--max-requests: must be 0 or more" in done.stderr
