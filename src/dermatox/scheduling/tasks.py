"""Background tasks (django-tasks, database backend; `dermatox worker` runs them)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def reminders_send(now_iso: str | None = None) -> dict[str, int]:
    """The sweep: every appointment and recall reminder due now (or at `now_iso`) and not yet sent."""
    from dermatox.scheduling.reminders import sweep

    return sweep(dt.datetime.fromisoformat(now_iso) if now_iso else None)


@task()
def appointment_reminder_send(appointment_id: int, for_start: str) -> str:
    """Deferred at booking to (start - reminder window). Does nothing if the appointment moved since
    (its new start has its own task) or was reminded already; records a skip if it was cancelled."""
    from dermatox.scheduling.reminders import appointment_remind

    return appointment_remind(appointment_id, for_start=dt.datetime.fromisoformat(for_start)) or "nothing"
