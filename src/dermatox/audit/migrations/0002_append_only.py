"""Make the audit table append-only in the database itself, and create the chain's head row."""

from django.db import migrations

from dermatox.audit import protection


def install(apps, schema_editor):
    protection.install(schema_editor.connection)


def remove(apps, schema_editor):
    protection.remove(schema_editor.connection)


def create_head(apps, schema_editor):
    apps.get_model("audit", "AuditHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(install, remove),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
