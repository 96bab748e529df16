"""`dermatox backup [verify]` and `dermatox restore`: the database and MEDIA_ROOT."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err


def cmd_backup(args) -> int:
    """Back up the database and MEDIA_ROOT (`backup`), or check a backup restores (`backup verify`)."""
    from dermatox.ops.backup import BackupError, backup_create, backup_verify

    if args.backup_command == "verify":
        try:
            report = backup_verify(args.backup)
        except BackupError as exc:
            return _err(str(exc), 1)
        if not report.ok:
            print("BACKUP BAD: " + "; ".join(report.problems), file=sys.stderr)
            return 1
        print(
            f"OK: {args.backup} restores: {report.tables} tables ({report.rows} rows) match the manifest, "
            f"{report.files} files intact, audit chain intact ({report.audit_entries} entries)."
        )
        return 0
    try:
        path = backup_create(args.to, keep=args.keep)
    except (BackupError, OSError) as exc:
        return _err(f"backup failed: {exc}", 1)
    print(f"Backup written to {path}")
    return 0


def cmd_restore(args) -> int:
    """Restore a backup into an empty database (DATABASE_URL) and an empty MEDIA_ROOT."""
    from pathlib import Path

    from dermatox.ops.backup import BackupError, backup_restore

    if not Path(args.backup).is_dir():
        return _err(f"{args.backup}: no such backup folder")
    try:
        report = backup_restore(args.backup)
    except BackupError as exc:
        return _err(f"not restored: {exc}", 1)
    if not report.ok:
        print("RESTORED WITH PROBLEMS: " + "; ".join(report.problems), file=sys.stderr)
        return 1
    print(
        f"Restored {report.tables} tables ({report.rows} rows) and {report.files} files; "
        f"audit chain intact ({report.audit_entries} entries)."
    )
    return 0
