"""The export and its housekeeping run in the background worker (django-tasks, database backend)."""

from django_tasks import task


@task()
def bulk_export_run(job_id: str) -> str:
    from dermatox.bulk.services import export_run

    return export_run(job_id).status


@task()
def bulk_exports_expire() -> int:
    """Housekeeping, queued by the worker with each reminder sweep: delete expired export files."""
    from dermatox.bulk.services import exports_expire

    return exports_expire()
