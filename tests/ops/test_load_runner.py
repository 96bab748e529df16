"""The load run (bench/load/run.py) serves the app with production settings: the environment it builds
must satisfy production's start-up checks, or every run dies before its first request (as it did once
production began to require its own file key)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runner():
    spec = importlib.util.spec_from_file_location("load_run", ROOT / "bench" / "load" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_load_runs_environment_starts_production_settings(tmp_path, monkeypatch):
    for name in ("DERMATOX_FILE_KEY", "DERMATOX_AUDIT_KEY", "DERMATOX_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = _runner()._app_env(tmp_path)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    probe = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
    again = _runner()._app_env(tmp_path)
    assert again["DERMATOX_FILE_KEY"] != env["DERMATOX_FILE_KEY"]  # fresh keys a run unless given
