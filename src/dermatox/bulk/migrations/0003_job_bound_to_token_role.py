from django.db import migrations, models


def role_from_token(apps, schema_editor):
    """Jobs made before the binding act in their token's role (what the run already used)."""
    Job = apps.get_model("bulk", "BulkExportJob")
    for job in Job.objects.filter(token__isnull=False).select_related("token"):
        Job.objects.filter(pk=job.pk).update(role=job.token.role)


class Migration(migrations.Migration):
    dependencies = [
        ("bulk", "0002_job_expired"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulkexportjob",
            name="role",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.RunPython(role_from_token, migrations.RunPython.noop),
    ]
