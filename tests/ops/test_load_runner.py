"""The load run (bench/load/run.py) serves the app with production settings: the environment it builds
must satisfy production's start-up checks, or every run dies before its first request (as it did once
production began to require its own file key)."""

import importlib.util
import subprocess
import sys
import time
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


def _rows(values_mb: list[float], step: int = 10) -> list[dict]:
    mb = 2**20
    return [
        {"at_s": i * step, "gunicorn_rss": v * mb * 2, "gunicorn_pss": v * mb, "task_worker_rss": 80 * mb}
        for i, v in enumerate(values_mb)
    ]


def test_memory_is_judged_on_the_pss_trend_after_warm_up():
    memory = _runner()._memory
    # 600 s: warm-up window 120-180 s, last minute 540-600 s; a one-sample spike (a PDF being drawn) moves
    # neither the windows' medians nor the trend much.
    flat = [500.0] * 61
    flat[14] = flat[58] = 900.0
    judged = memory(_rows(flat), 600)
    assert judged["after_warm_up"]["from_s"] == 120 and judged["end"]["to_s"] == 600
    assert judged["growth_after_warm_up"]["gunicorn_pss"] == 0.0 and judged["flat"] is True
    assert abs(judged["trend_after_warm_up"]["gunicorn_pss"]) < 0.05
    assert judged["peak_gunicorn_rss_mb"] == 1800.0
    # Workers replaced every 2 minutes: a sawtooth 600 -> 800 MB. The after-warm-up minute sits on a top
    # and the last minute on a bottom (the two windows differ by over a tenth), yet memory is bounded: flat.
    saw = [600.0 + 200 * ((i + 6) % 12) / 11 for i in range(61)]
    judged = memory(_rows(saw), 600)
    assert judged["growth_after_warm_up"]["gunicorn_pss"] < -0.10  # the two-window rule: "not flat"
    assert judged["flat"] is True
    # A steady climb of 20% across the run is not flat, even under a sawtooth; nor is a fall of 20%.
    climb = [500.0 + i * 2 for i in range(61)]
    assert memory(_rows(climb), 600)["flat"] is False
    assert memory(_rows([c + v - 600 for c, v in zip(climb, saw, strict=True)]), 600)["flat"] is False
    assert memory(_rows(list(reversed(climb))), 600)["flat"] is False
    assert memory([], 600) == {}


def test_the_sampler_reads_rss_and_pss_of_the_server_and_its_children():
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(30 * 2**20); time.sleep(30)"])
    try:
        time.sleep(1)
        sampler = _runner().MemorySampler(child.pid)
        sampler.sample()
        (row,) = sampler.samples
        assert row["gunicorn_rss"] > 30 * 2**20 and 0 < row["gunicorn_pss"] <= row["gunicorn_rss"]
        assert row["task_worker_rss"] == 0
    finally:
        child.kill()
        child.wait()
