"""Database triggers that protect the audit trail.

Entries: UPDATE, DELETE and TRUNCATE refused (append-only).
Head row: never deleted or truncated; created only at zero; and moved only forwards,
one step, onto an entry that exists and follows the old head, which is exactly what `audit_record` does.
Its `mac_from` checkpoint never changes.
"""

_HEAD_MOVE_RULE = (
    "NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NEW.mac_from <> OLD.mac_from"
    " OR NEW.hash IS DISTINCT FROM"
    " (SELECT hash FROM audit_auditentry WHERE seq = NEW.seq AND prev_hash = OLD.hash)"
)
# Created only at zero. (Not "only while there are no entries": two first writers may race to create it,
# and the loser must meet the primary key's IntegrityError, not this trigger.)
_HEAD_CREATE_RULE = "NEW.seq <> 0"

ENTRY_INSTALL = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_auditentry
           BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_auditentry
           BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_auditentry
           FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
        """CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
           FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
    ],
}
HEAD_INSTALL = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS audit_head_forward_only BEFORE UPDATE ON audit_audithead
           WHEN {_HEAD_MOVE_RULE.replace("IS DISTINCT FROM", "IS NOT")}
           BEGIN SELECT RAISE(ABORT, 'the audit head only moves forwards, onto an appended entry'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_audithead
           BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_head_create_empty BEFORE INSERT ON audit_audithead
           WHEN {_HEAD_CREATE_RULE}
           BEGIN SELECT RAISE(ABORT, 'the audit head is created only at zero'); END""",
    ],
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger AS $$
           BEGIN
             IF TG_OP = 'INSERT' THEN
               IF {_HEAD_CREATE_RULE} THEN
                 RAISE EXCEPTION 'the audit head is created only at zero';
               END IF;
               RETURN NEW;
             END IF;
             IF TG_OP = 'UPDATE' THEN
               IF {_HEAD_MOVE_RULE} THEN
                 RAISE EXCEPTION 'the audit head only moves forwards, onto an appended entry';
               END IF;
               RETURN NEW;
             END IF;
             RAISE EXCEPTION 'the audit head cannot be deleted';
           END; $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_audithead
           FOR EACH ROW EXECUTE FUNCTION audit_head_guard()""",
        """CREATE OR REPLACE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_audithead
           FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard()""",
    ],
}
ENTRY_REMOVE = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_entry_no_update",
        "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_auditentry",
        "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry",
    ],
}
HEAD_REMOVE = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_head_forward_only",
        "DROP TRIGGER IF EXISTS audit_head_no_delete",
        "DROP TRIGGER IF EXISTS audit_head_create_empty",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_head_guard ON audit_audithead",
        "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_audithead",
    ],
}


TRIGGERS = {
    "sqlite": (
        "audit_entry_no_update",
        "audit_entry_no_delete",
        "audit_head_forward_only",
        "audit_head_no_delete",
        "audit_head_create_empty",
    ),
    "postgresql": (
        "audit_entry_no_change",
        "audit_entry_no_truncate",
        "audit_head_guard",
        "audit_head_no_truncate",
    ),
}
# A disabled trigger (ALTER TABLE ... DISABLE TRIGGER) protects nothing: count only enabled ones.
PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    " AND tbl_name IN ('audit_auditentry', 'audit_audithead')",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE tgrelid IN"
    " ('audit_auditentry'::regclass, 'audit_audithead'::regclass) AND NOT tgisinternal AND tgenabled <> 'D'",
}


def missing(connection) -> list[str]:
    """The protecting triggers that are not in the database (dropped, disabled, or migrated back)."""
    if connection.vendor not in PRESENT:
        return []
    with connection.cursor() as cursor:
        cursor.execute(PRESENT[connection.vendor])
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in TRIGGERS[connection.vendor] if name not in present]


def _execute(connection, *statement_sets) -> None:
    with connection.cursor() as cursor:
        for statements in statement_sets:
            for sql in statements.get(connection.vendor, []):
                cursor.execute(sql)


def install_entry_triggers(connection) -> None:
    _execute(connection, ENTRY_INSTALL)


def install_head_triggers(connection) -> None:
    _execute(connection, HEAD_INSTALL)


def remove_head_triggers(connection) -> None:
    _execute(connection, HEAD_REMOVE)


def install(connection) -> None:
    _execute(connection, ENTRY_INSTALL, HEAD_INSTALL)


def remove(connection) -> None:
    """Only for tearing down test databases (and for tests that play the attacker)."""
    _execute(connection, ENTRY_REMOVE, HEAD_REMOVE)
