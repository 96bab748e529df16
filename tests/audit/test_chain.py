import itertools
import subprocess
import sys
import threading

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction

from dermatox.audit import protection
from dermatox.audit.models import AuditEntry, AuditHead
from dermatox.audit.services import audit_record
from dermatox.audit.verify import audit_verify
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


def _write(n: int) -> None:
    for i in range(n):
        audit_record(actor=Actor.system(), action="demo.load", detail={"i": i})


def _drop_protection():
    """What an attacker with database access would do first."""
    protection.remove(connection)


def test_chain_of_fresh_entries_verifies():
    _write(5)
    result = audit_verify()
    assert result.ok and result.checked == 5
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


def test_model_refuses_update_and_delete():
    _write(1)
    entry = AuditEntry.objects.get()
    entry.action = "forged"
    with pytest.raises(Conflict):
        entry.save()
    with pytest.raises(Conflict):
        entry.delete()


def test_database_refuses_update_and_delete():
    _write(2)
    for sql in ("UPDATE audit_auditentry SET action = 'forged'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert AuditEntry.objects.count() == 2


def test_verify_detects_an_edited_row():
    _write(4)
    _drop_protection()
    AuditEntry.objects.filter(seq=2).update(actor_username="someone-else")
    result = audit_verify()
    assert not result.ok and result.seq == 2 and "altered" in result.problem


def test_verify_detects_a_deleted_row():
    _write(4)
    _drop_protection()
    AuditEntry.objects.filter(seq=3)._raw_delete(connection.alias)
    result = audit_verify()
    assert not result.ok and result.seq == 3 and "missing" in result.problem


def test_verify_detects_removed_tail():
    _write(4)
    _drop_protection()
    AuditEntry.objects.filter(seq=4)._raw_delete(connection.alias)
    result = audit_verify()
    assert not result.ok and "4 were written" in result.problem


def test_verify_detects_a_rehashed_row_that_no_longer_links():
    _write(3)
    _drop_protection()
    entry = AuditEntry.objects.get(seq=2)
    entry.detail = {"i": 99}
    entry.hash = entry.compute_hash()  # a careful forger recomputes the row's own hash...
    AuditEntry.objects.filter(seq=2).update(detail=entry.detail, hash=entry.hash)
    result = audit_verify()
    # ...but without the key its MAC no longer checks (and the next row no longer follows it)
    assert not result.ok and result.seq == 2 and "MAC" in result.problem


def test_concurrent_writers_keep_one_unbroken_chain():
    def worker():
        close_old_connections()
        try:
            _write(15)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit_verify()
    assert result.ok and result.checked == 60
    assert AuditHead.objects.get().seq == 60


def test_cli_audit_verify_exit_codes(tmp_path):
    db = tmp_path / "cli.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}", "DERMATOX_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dermatox", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert run("migrate").returncode == 0
    assert run("demo", "--patients", "3").returncode == 0
    ok = run("audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER audit_entry_no_update")
    con.execute("UPDATE audit_auditentry SET actor_username = 'mallory' WHERE seq = 1")
    con.commit()
    con.close()
    bad = run("audit", "verify")
    assert bad.returncode == 1
    assert "TAMPERED" in bad.stderr and "entry 1" in bad.stderr


def test_verify_and_check_notice_missing_protection(tmp_path):
    _write(2)
    protection.remove(connection)
    result = audit_verify()
    assert not result.ok and "protection is missing" in result.problem
