"""Make the audit table append-only in the database itself, and create the chain's head row."""

from django.db import migrations

from dermatox.audit import protection


def install(apps, schema_editor):
    # Only the entry triggers: the head's come with its MAC columns (0003).
    protection.install_entry_triggers(schema_editor.connection)


def remove(apps, schema_editor):
    protection._execute(schema_editor.connection, protection.ENTRY_REMOVE)


def create_head(apps, schema_editor):
    apps.get_model("audit", "AuditHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(install, remove),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
