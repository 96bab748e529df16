"""/healthz: what a load balancer asks — the database, the task queue and the disk — without sign-in."""

from collections import namedtuple
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dermatox.scheduling.tasks import reminders_send

pytestmark = pytest.mark.django_db


def test_healthy_without_sign_in_and_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "queue", "disk"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_a_task_waiting_longer_than_the_limit_fails_the_queue_check(client, settings):
    settings.DERMATOX_HEALTH_MAX_QUEUE_MINUTES = 30
    reminders_send.enqueue()
    assert client.get("/healthz").status_code == 200  # just queued: the worker has time
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=45))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == {"ok": False, "oldest_minutes": pytest.approx(45, abs=1)}


def test_a_task_scheduled_for_later_is_not_late(client):
    reminders_send.using(run_after=timezone.now() + timedelta(hours=6)).enqueue()
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(days=1))
    assert client.get("/healthz").json()["checks"]["queue"] == {"ok": True, "oldest_minutes": None}


def test_a_full_disk_fails(client, settings, monkeypatch):
    settings.DERMATOX_HEALTH_MIN_FREE_MB = 500
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        "dermatox.ops.health.shutil.disk_usage", lambda _p: usage(10**9, 10**9 - 10**7, 10**7)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"] == {"ok": False, "free_mb": 9}


def test_a_database_that_does_not_answer_fails(client, monkeypatch):
    def broken():
        raise OSError("connection refused")

    monkeypatch.setattr("dermatox.ops.health.connection.cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False}


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
