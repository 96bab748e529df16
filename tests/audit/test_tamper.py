"""The audit-tampering attacks of issue 12, played by the database's owner.

The owner disables the triggers (PostgreSQL: ALTER TABLE ... DISABLE TRIGGER; SQLite: drops them), rewrites
rows with raw SQL, recomputes the hash chain (everything but the MAC key is in the database) and puts the
triggers back, so only the MACs and the anchors can give the rewrite away.
"""

import datetime as dt
import json
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from dermatox.audit import protection
from dermatox.audit.anchor import anchor_write, anchors_read
from dermatox.audit.mac import entry_mac, head_mac
from dermatox.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from dermatox.audit.services import audit_record
from dermatox.audit.verify import audit_verify
from dermatox.common.context import Actor

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ("audit_auditentry", "audit_audithead")


def _write(n: int) -> None:
    for i in range(n):
        audit_record(actor=Actor.system(), action="demo.load", detail={"i": i})


@contextmanager
def owner_without_triggers():
    """What the database's owner can do: switch the protection off, and back on afterwards."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in TABLES:
                cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield connection.cursor()
        with connection.cursor() as cur:
            for table in TABLES:
                cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    else:
        protection.remove(connection)
        yield connection.cursor()
        protection.install(connection)
    assert protection.missing(connection) == []  # nothing left for verify to notice but the data


def _rechain(cur, *, with_key: bool = False) -> None:
    """Recompute every hash (and prev_hash) in seq order and move the head to the end. Without the key
    the attacker keeps the old MACs (or any value: they cannot compute the right one)."""
    prev = GENESIS_HASH
    last = 0
    for entry in AuditEntry.objects.order_by("seq"):
        entry.prev_hash = prev
        entry.hash = entry.compute_hash()
        mac = entry_mac(entry.hash) if with_key else entry.mac
        cur.execute(
            "UPDATE audit_auditentry SET prev_hash = %s, hash = %s, mac = %s WHERE id = %s",
            [entry.prev_hash, entry.hash, mac, entry.pk],
        )
        prev, last = entry.hash, entry.seq
    head = AuditHead.objects.get()
    mac = head_mac(last, prev, head.mac_from) if with_key else head.mac
    cur.execute("UPDATE audit_audithead SET seq = %s, hash = %s, mac = %s", [last, prev, mac])


def _anchors(tmp_path):
    return anchors_read(tmp_path / "anchors.jsonl")


def _anchor(tmp_path):
    return anchor_write(tmp_path / "anchors.jsonl")


# -- the head row is protected like the entries ----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_audithead SET seq = 0",  # reset
        "UPDATE audit_audithead SET seq = seq - 1",  # backwards
        "UPDATE audit_audithead SET seq = seq + 1",  # forwards onto no entry
        "UPDATE audit_audithead SET mac_from = 1000000",  # move the MAC checkpoint
        "DELETE FROM audit_audithead",
        "INSERT INTO audit_audithead (id, seq, hash, mac_from, mac) VALUES (2, 7, 'x', 1, '')",
    ],
)
def test_database_refuses_to_move_the_head_except_by_appending(sql):
    _write(3)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (3, AuditEntry.objects.get(seq=3).hash)
    assert audit_verify().ok


def test_database_refuses_to_empty_the_head_table():
    _write(1)
    sql = "TRUNCATE audit_audithead" if connection.vendor == "postgresql" else "DELETE FROM audit_audithead"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    assert AuditHead.objects.get().seq == 1


def test_verify_reports_a_head_left_unguarded():
    """PostgreSQL's owner can disable a trigger without dropping it; a disabled trigger counts as missing."""
    _write(1)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_audithead DISABLE TRIGGER audit_head_guard")
            gone = "audit_head_guard"
        else:
            cur.execute("DROP TRIGGER audit_head_forward_only")
            gone = "audit_head_forward_only"
    result = audit_verify()
    assert not result.ok and gone in result.problem


# -- the attacks, as the owner with the triggers off -------------------------------------------------------


def test_truncate_and_reset_head_is_detected(tmp_path):
    _write(5)
    _anchor(tmp_path)
    with owner_without_triggers() as cur:
        cur.execute(
            "TRUNCATE audit_auditentry"
            if connection.vendor == "postgresql"
            else "DELETE FROM audit_auditentry"
        )
        cur.execute("UPDATE audit_audithead SET seq = 0, hash = %s", [GENESIS_HASH])
    result = audit_verify()
    assert not result.ok and "head" in result.problem and "MAC" in result.problem
    result = audit_verify(anchors=_anchors(tmp_path))
    assert not result.ok and result.seq == 1 and "entries 1 to 5 were removed" in result.problem


def test_truncate_with_a_replayed_empty_head_is_caught_by_the_anchor_only(tmp_path):
    """An attacker who kept a copy of the empty head (with its MAC) can make an empty chain that checks on
    its own: that is what the anchors are for (docs/security/audit.md)."""
    _write(1)
    empty_head_mac = head_mac(0, GENESIS_HASH, AuditHead.objects.get().mac_from)  # as stored at install
    _write(3)
    _anchor(tmp_path)
    with owner_without_triggers() as cur:
        cur.execute("DELETE FROM audit_auditentry")
        cur.execute("UPDATE audit_audithead SET seq = 0, hash = %s, mac = %s", [GENESIS_HASH, empty_head_mac])
    assert audit_verify().ok  # the limit without anchors
    result = audit_verify(anchors=_anchors(tmp_path))
    assert not result.ok and result.seq == 1 and "removed" in result.problem


def test_edit_and_recompute_the_chain_is_detected(tmp_path):
    _write(6)
    _anchor(tmp_path)
    with owner_without_triggers() as cur:
        cur.execute("UPDATE audit_auditentry SET actor_username = 'mallory' WHERE seq = 3")
        _rechain(cur)
    result = audit_verify()
    assert not result.ok and result.seq == 3 and "MAC" in result.problem
    assert audit_verify(anchors=_anchors(tmp_path)).seq == 3


def test_delete_and_recompute_the_chain_is_detected(tmp_path):
    _write(6)
    _anchor(tmp_path)
    with owner_without_triggers() as cur:
        cur.execute("DELETE FROM audit_auditentry WHERE seq = 4")
        cur.execute("UPDATE audit_auditentry SET seq = seq - 1 WHERE seq > 4")
        _rechain(cur)
    result = audit_verify()
    assert not result.ok and result.seq == 4 and "MAC" in result.problem
    result = audit_verify(anchors=_anchors(tmp_path))
    assert not result.ok and result.seq == 4


def test_append_a_forged_row_and_move_the_head_is_detected():
    _write(3)
    last = AuditEntry.objects.get(seq=3)
    forged = AuditEntry(
        seq=4,
        at=last.at + dt.timedelta(seconds=1),
        action="auth.login",
        actor_username="alibi",
        detail={},
        prev_hash=last.hash,
    )
    forged.hash = forged.compute_hash()
    forged.mac = "0" * 64
    with owner_without_triggers() as cur:
        forged.save(force_insert=True)
        cur.execute("UPDATE audit_audithead SET seq = 4, hash = %s", [forged.hash])
    result = audit_verify()
    assert not result.ok and result.seq == 4 and "MAC" in result.problem


def test_edit_the_head_row_to_cut_the_tail_is_detected(tmp_path):
    _write(5)
    with owner_without_triggers() as cur:
        cur.execute("DELETE FROM audit_auditentry WHERE seq > 3")
        cur.execute("UPDATE audit_audithead SET seq = 3, hash = %s", [AuditEntry.objects.get(seq=3).hash])
    result = audit_verify()
    assert not result.ok and result.seq == 3 and "head" in result.problem


def test_cutting_the_tail_with_a_replayed_old_head_is_caught_by_a_later_anchor(tmp_path):
    _write(3)
    old_head = AuditHead.objects.get()  # e.g. from last week's backup
    _write(2)
    _anchor(tmp_path)
    with owner_without_triggers() as cur:
        cur.execute("DELETE FROM audit_auditentry WHERE seq > 3")
        cur.execute("UPDATE audit_audithead SET seq = 3, hash = %s, mac = %s", [old_head.hash, old_head.mac])
    assert audit_verify().ok  # the limit without anchors
    result = audit_verify(anchors=_anchors(tmp_path))
    assert not result.ok and result.seq == 4 and "entries 4 to 5 were removed" in result.problem


def test_with_the_key_a_rewrite_before_the_last_anchor_is_still_detected(tmp_path):
    _write(4)
    _anchor(tmp_path)
    _write(2)
    with owner_without_triggers() as cur:
        cur.execute("UPDATE audit_auditentry SET actor_username = 'mallory' WHERE seq = 2")
        _rechain(cur, with_key=True)
    assert audit_verify().ok  # the key holder's rewrite checks on its own...
    result = audit_verify(anchors=_anchors(tmp_path))
    assert not result.ok and result.seq == 4 and "between entries 1 and 4" in result.problem


def test_with_the_key_a_rewrite_after_the_last_anchor_is_not_detected(tmp_path):
    """The documented limit: whoever holds the key can rewrite what came after the last anchor."""
    _write(4)
    _anchor(tmp_path)
    _write(2)
    with owner_without_triggers() as cur:
        cur.execute("UPDATE audit_auditentry SET actor_username = 'mallory' WHERE seq = 6")
        _rechain(cur, with_key=True)
    assert audit_verify(anchors=_anchors(tmp_path)).ok


def test_recompute_with_another_key_is_detected(tmp_path):
    _write(3)
    attacker_key = override_settings(DERMATOX_AUDIT_KEY="a-key-the-attacker-made-up-0123456789")
    with attacker_key, owner_without_triggers() as cur:
        cur.execute("UPDATE audit_auditentry SET actor_username = 'mallory' WHERE seq = 1")
        _rechain(cur, with_key=True)
    result = audit_verify()
    assert not result.ok and result.seq == 1 and "MAC" in result.problem


# -- anchors ----------------------------------------------------------------------------------------------


def test_anchors_append_lines_and_verify(tmp_path):
    _write(2)
    first = _anchor(tmp_path)
    _write(3)
    second = _anchor(tmp_path)
    lines = (tmp_path / "anchors.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [2, 5]
    assert (first.seq, second.seq) == (2, 5) and second.hash == AuditHead.objects.get().hash
    result = audit_verify(anchors=_anchors(tmp_path))
    assert result.ok and result.anchors == 2


def test_a_forged_anchor_is_rejected(tmp_path):
    _write(2)
    anchor = _anchor(tmp_path)
    with open(tmp_path / "anchors.jsonl", "a") as fh:
        fh.write(json.dumps({"at": anchor.at, "seq": 1, "hash": "f" * 64, "mac": anchor.mac}) + "\n")
    result = audit_verify(anchors=_anchors(tmp_path))
    assert not result.ok and "line 2 is not signed" in result.problem


def test_anchor_reads_syslog_lines(tmp_path):
    _write(2)
    line = _anchor(tmp_path).to_json()
    (tmp_path / "syslog.txt").write_text(f"Dec  3 05:00:00 host dermatox[42]: audit-anchor {line}\nnoise\n")
    result = audit_verify(anchors=anchors_read(tmp_path / "syslog.txt"))
    assert result.ok and result.anchors == 1


def test_anchor_refuses_a_head_that_fails_its_mac(tmp_path):
    from dermatox.audit.anchor import AnchorError

    _write(2)
    with owner_without_triggers() as cur:
        cur.execute("UPDATE audit_audithead SET mac = %s", ["0" * 64])
    with pytest.raises(AnchorError, match="fails its MAC"):
        _anchor(tmp_path)
    assert not (tmp_path / "anchors.jsonl").exists()
