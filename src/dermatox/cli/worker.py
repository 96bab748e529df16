"""`dermatox reminders` and `dermatox worker`: background tasks from the database queue."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err


def cmd_reminders(args) -> int:
    """Enqueue the reminder sweep for the worker (cron), or run it here with --run."""
    import datetime as dt

    from django.utils import timezone

    now = None
    if args.now:
        try:
            now = dt.datetime.fromisoformat(args.now)
        except ValueError:
            return _err("--now: must be a date and time (ISO 8601, e.g. 2026-03-09T08:00+03:00)")
        if timezone.is_naive(now):
            now = timezone.make_aware(now)
    if args.run:
        from dermatox.scheduling.reminders import sweep

        counts = sweep(now)
        print("Reminders: " + (", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing due"))
        return 0
    from dermatox.scheduling.tasks import reminders_send

    result = reminders_send.enqueue(now.isoformat() if now else None)
    print(f"Reminder sweep queued (task {result.id}); `dermatox worker` sends it.")
    return 0


def cmd_worker(args) -> int:
    """Run background tasks (reminders, bulk exports) from the database queue; every --sweep-minutes also
    queue the reminder sweep and the deletion of expired export files, and every --anchor-minutes append
    the signed audit head to DERMATOX_AUDIT_ANCHOR_TO."""
    import threading

    from django.core.management import call_command
    from django.db import connection

    from dermatox.bulk.tasks import bulk_exports_expire
    from dermatox.scheduling.tasks import reminders_send

    stop = threading.Event()

    def sweep() -> None:  # the reminder sweep, and deleting expired bulk export files
        reminders_send.enqueue()
        bulk_exports_expire.enqueue()

    def sweeper() -> None:
        while not stop.is_set():
            try:
                sweep()
            except Exception as exc:  # the database may be briefly unavailable; try again next time
                print(f"dermatox worker: could not queue the reminder sweep: {exc}", file=sys.stderr)
            finally:
                connection.close()
            stop.wait(args.sweep_minutes * 60)

    from django.conf import settings

    from dermatox.audit.anchor import anchor_write

    anchor_minutes = (
        settings.DERMATOX_AUDIT_ANCHOR_MINUTES if args.anchor_minutes is None else args.anchor_minutes
    )

    def anchor() -> None:  # the signed audit head, out of the database (docs/security/audit.md)
        try:
            anchor_write(settings.DERMATOX_AUDIT_ANCHOR_TO)
        except Exception as exc:  # a failed anchor must be seen, but must not stop the task worker
            print(f"dermatox worker: could not anchor the audit head: {exc}", file=sys.stderr, flush=True)
        finally:
            connection.close()

    def anchorer() -> None:
        while not stop.is_set():
            anchor()
            stop.wait(anchor_minutes * 60)

    if args.batch:
        if args.sweep_minutes:
            sweep()
        if anchor_minutes:
            anchor()
    else:
        if args.sweep_minutes:
            threading.Thread(target=sweeper, name="reminder-sweep", daemon=True).start()
        if anchor_minutes:
            threading.Thread(target=anchorer, name="audit-anchor", daemon=True).start()
    print(
        f"Dermatox worker running (reminder sweep every {args.sweep_minutes} min, "
        f"audit anchor every {anchor_minutes} min)"
        if not args.batch
        else "Dermatox worker: running queued tasks, then stopping",
        flush=True,
    )
    try:
        call_command(
            "db_worker",
            batch=args.batch,
            interval=args.interval,
            reload=False,
            startup_delay=not args.batch,
            verbosity=1 if args.verbose else 0,
        )
    finally:
        stop.set()
    return 0
