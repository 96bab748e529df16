"""`/healthz` for a load balancer: the database answers, the task queue is being worked, the disk has room.

200 with {"status": "ok", "checks": {...}} when all hold, 503 with the failing check named otherwise. It
carries no patient data and needs no sign-in, so it says only what an operator needs (no paths, no
versions). Each check is cheap: one indexed query each for the database and the queue, one statvfs."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not healthy"
        return {"ok": False}
    return {"ok": True}


def oldest_waiting_task_minutes() -> float | None:
    """Minutes the oldest task that is due has waited (None when none waits). A task scheduled for later
    waits from its due time, an immediate one from when it was queued."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    immediate = (
        ready.filter(run_after=get_date_max()).order_by("enqueued_at").values_list("enqueued_at", flat=True)
    )
    scheduled = (
        ready.exclude(run_after=get_date_max()).order_by("run_after").values_list("run_after", flat=True)
    )
    due_since = [t for t in (immediate.first(), scheduled.first()) if t is not None]
    if not due_since:
        return None
    return max((now - min(due_since)) / timedelta(minutes=1), 0.0)


def queue_check() -> dict:
    try:
        waited = oldest_waiting_task_minutes()
    except Exception:  # a queue that cannot be read is not being worked either
        return {"ok": False}
    limit = settings.DERMATOX_HEALTH_MAX_QUEUE_MINUTES
    return {
        "ok": waited is None or waited <= limit,
        "oldest_minutes": None if waited is None else round(waited, 1),
    }


def disk_check() -> dict:
    where = Path(settings.MEDIA_ROOT)
    while not where.exists() and where != where.parent:
        where = where.parent
    free_mb = shutil.disk_usage(where).free / 1024 / 1024
    return {"ok": free_mb >= settings.DERMATOX_HEALTH_MIN_FREE_MB, "free_mb": int(free_mb)}


@never_cache
@require_GET
def healthz(request):
    checks = {"database": database_check(), "queue": queue_check(), "disk": disk_check()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
