"""The export runs in the background worker (django-tasks, database backend)."""

from django_tasks import task


@task()
def bulk_export_run(job_id: str) -> str:
    from dermatox.bulk.services import export_run

    return export_run(job_id).status
