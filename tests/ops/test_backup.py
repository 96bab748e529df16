"""Backups restore: back up, restore into an empty database, and compare every table (on the database the
suite runs on: SQLite, or PostgreSQL through DATABASE_URL)."""

import json
import shutil

import pytest
from django.db import connection
from django.test import override_settings

from dermatox.audit.services import audit_record
from dermatox.audit.verify import audit_verify
from dermatox.common.context import Actor
from dermatox.demo.loader import demo_load
from dermatox.ops.backup import (
    BackupError,
    backup_create,
    backup_restore,
    backup_verify,
    backups_list,
    manifest_read,
    table_summary,
    throwaway_database,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic_data(tmp_path):
    """A small clinic's database and files (MEDIA_ROOT on disk, as in production)."""
    demo_load(seed=7, patients=3)
    audit_record(actor=Actor.system(), action="demo.load", detail={"note": "çğış"})
    media = tmp_path / "media"
    (media / "consents" / "2026" / "12").mkdir(parents=True)
    (media / "consents" / "2026" / "12" / "consent.pdf").write_bytes(b"%PDF-1.7 encrypted bytes \x00\xff")
    (media / "exports" / "9").mkdir(parents=True)
    (media / "exports" / "9" / "Patient.ndjson").write_bytes(b'{"resourceType": "Patient"}\n')
    with override_settings(MEDIA_ROOT=media):
        yield media


def test_backup_restores_every_table_and_file(clinic_data, tmp_path):
    backup = backup_create(tmp_path / "backups")
    manifest = manifest_read(backup)
    source = table_summary()
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"] == source  # the manifest describes the database it was taken from
    assert manifest["tables"]["patients_patient"]["rows"] == 3
    assert manifest["audit_head"]["seq"] == audit_verify().checked > 0
    assert {f["path"] for f in manifest["files"]} == {
        "consents/2026/12/consent.pdf",
        "exports/9/Patient.ndjson",
    }

    with throwaway_database() as target:
        report = backup_restore(backup, using=target, media_root=tmp_path / "restored-media")
        assert report.ok, report.problems
        restored = table_summary(target)
        assert set(restored) == set(source) and len(source) > 30
        for table, want in source.items():  # every table: row count and content hash
            assert restored[table] == want, table
        assert audit_verify(using=target).ok
        for entry in manifest["files"]:
            original = clinic_data / entry["path"]
            assert (tmp_path / "restored-media" / entry["path"]).read_bytes() == original.read_bytes()

        # A second restore into the now full database is refused, and changes nothing.
        with pytest.raises(BackupError, match="not empty"):
            backup_restore(backup, using=target, media_root=tmp_path / "other-media")
        assert table_summary(target) == source


def test_restore_refuses_a_media_root_with_files(clinic_data, tmp_path):
    backup = backup_create(tmp_path / "backups")
    with throwaway_database() as target:
        with pytest.raises(BackupError, match="MEDIA_ROOT"):
            backup_restore(backup, using=target, media_root=clinic_data)
        assert table_summary(target) == {}  # refused before anything was written


def test_backup_verify_passes_and_catches_damage(clinic_data, tmp_path):
    backup = backup_create(tmp_path / "backups")
    report = backup_verify(backup)
    assert report.ok and report.audit_entries > 0 and report.files == 2, report.problems

    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    (damaged / "files" / "consents" / "2026" / "12" / "consent.pdf").write_bytes(b"changed")
    report = backup_verify(damaged)
    assert not report.ok and "consents/2026/12/consent.pdf" in report.problems[0]

    # A manifest whose counts no longer match the dump (e.g. edited) fails the comparison.
    lying = tmp_path / "lying"
    shutil.copytree(backup, lying)
    manifest = json.loads((lying / "manifest.json").read_text())
    manifest["tables"]["patients_patient"]["rows"] = 4
    (lying / "manifest.json").write_text(json.dumps(manifest))
    report = backup_verify(lying)
    assert not report.ok and any("patients_patient: 3 rows" in p for p in report.problems)


def test_keep_deletes_the_oldest_backups(clinic_data, tmp_path):
    made = [backup_create(tmp_path / "backups", keep=2) for _ in range(3)]
    assert backups_list(tmp_path / "backups") == made[1:]
    assert not list((tmp_path / "backups").glob(".*partial"))
