"""`dermatox audit anchor`, the worker's anchoring and `audit verify --anchors`, run as separate processes."""

import json
import sqlite3

import pytest

from dermatox.common.filecrypt import generate_key
from tests.test_cli import run


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-anchor")
    assert run(path, "migrate").returncode == 0
    assert run(path, "demo", "--patients", "3").returncode == 0
    return path


@pytest.fixture
def own_db(demo_db, tmp_path):
    """A copy of the demo database for a test that tampers with it."""
    with sqlite3.connect(demo_db / "main.sqlite3") as src, sqlite3.connect(tmp_path / "main.sqlite3") as dst:
        src.backup(dst)
    return tmp_path


def test_anchor_worker_and_verify_with_anchors(own_db):
    demo_db = own_db
    anchors = demo_db / "var" / "audit-anchors.jsonl"  # the default: DERMATOX_AUDIT_ANCHOR_TO
    first = run(demo_db, "audit", "anchor")
    assert first.returncode == 0 and "Anchored audit entry" in first.stdout, first.stderr
    worker = run(demo_db, "worker", "--batch", "--sweep-minutes", "0", "--anchor-minutes", "5")
    assert worker.returncode == 0, worker.stderr
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert len(lines) == 2 and set(lines[0]) == {"at", "seq", "hash", "mac"} and lines[0]["seq"] >= 3
    ok = run(demo_db, "audit", "verify", "--anchors", str(anchors))
    assert ok.returncode == 0 and "consistent with 2 anchor(s)" in ok.stdout, ok.stderr

    # The owner cuts the last two entries and moves the head back onto the new last one.
    con = sqlite3.connect(demo_db / "main.sqlite3")
    for name in ("audit_entry_no_delete", "audit_head_forward_only"):
        con.execute(f"DROP TRIGGER {name}")
    last = lines[-1]["seq"]
    con.execute("DELETE FROM audit_auditentry WHERE seq > ?", [last - 2])
    (new_hash,) = con.execute("SELECT hash FROM audit_auditentry WHERE seq = ?", [last - 2]).fetchone()
    con.execute("UPDATE audit_audithead SET seq = ?, hash = ?", [last - 2, new_hash])
    con.commit()
    con.close()
    bad = run(demo_db, "audit", "verify", "--anchors", str(anchors))
    assert bad.returncode == 1
    assert "TAMPERED" in bad.stderr and f"entries {last - 1} to {last} were removed" in bad.stderr


def test_verify_with_an_unreadable_anchors_file_is_invalid_input(demo_db, tmp_path):
    missing = run(demo_db, "audit", "verify", "--anchors", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "--anchors" in missing.stderr
    (tmp_path / "bad.jsonl").write_text('{"seq": "x"}\n')
    bad = run(demo_db, "audit", "verify", "--anchors", str(tmp_path / "bad.jsonl"))
    assert bad.returncode == 2 and "line 1: not an audit anchor" in bad.stderr


def test_anchor_to_an_unwritable_place_fails(demo_db, tmp_path):
    (tmp_path / "file").write_text("")
    result = run(demo_db, "audit", "anchor", "--to", str(tmp_path / "file" / "anchors.jsonl"))
    assert result.returncode == 1 and "cannot append" in result.stderr


def test_production_refuses_to_start_without_the_audit_key(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "dermatox.settings.production",
        "DERMATOX_SECRET_KEY": "x" * 50,
        "DERMATOX_ALLOWED_HOSTS": "clinic.example",
        "DERMATOX_FILE_KEY": generate_key(),
        "DERMATOX_AUDIT_KEY": "",
    }
    result = run(tmp_path, "check", extra_env=env)
    assert result.returncode != 0 and "DERMATOX_AUDIT_KEY" in result.stderr
    short = run(tmp_path, "check", extra_env={**env, "DERMATOX_AUDIT_KEY": "short"})
    assert short.returncode != 0 and "DERMATOX_AUDIT_KEY" in short.stderr
