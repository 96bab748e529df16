"""Backups that restore: `dermatox backup`, `dermatox restore`, `dermatox backup verify`.

A backup is one folder, dermatox-<UTC time>/, holding
  database.sqlite3  (SQLite's online backup API: a consistent copy while the clinic works) or
  database.pgdump   (`pg_dump -Fc`, taken in an exported snapshot, so the counts below match it exactly);
  files/            MEDIA_ROOT as it is on disk (consent PDFs, intake signatures, bulk files; encrypted
                    files stay encrypted, their key is not in the backup);
  manifest.json     time, app version, database vendor, per-table row counts and content hashes, the audit
                    head (seq and hash) and every file with its SHA-256.
It is written as .<name>.partial and renamed when complete, so a cut-off run never looks like a backup.
The audit MAC key is not in the backup: verifying a restored chain needs the same DERMATOX_AUDIT_KEY.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.db.utils import load_backend

import dermatox

FORMAT = 1
PREFIX = "dermatox-"
MANIFEST = "manifest.json"
DB_FILE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """The backup cannot be made, read or restored; the message says why."""


# -- what a database holds: per table, rows and a hash of their content -----------------------------------


def table_summary(using: str = "default") -> dict[str, dict]:
    """{table: {"rows": n, "sha256": hash of every row in primary-key order}} for every table."""
    conn = connections[using]
    summary = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            order = conn.introspection.get_primary_key_columns(cursor, table) or [
                col.name for col in conn.introspection.get_table_description(cursor, table)
            ]
            q = conn.ops.quote_name
            cursor.execute(f"SELECT * FROM {q(table)} ORDER BY {', '.join(q(c) for c in order)}")  # noqa: S608
            digest, rows = hashlib.sha256(), 0
            while batch := cursor.fetchmany(2000):
                for row in batch:
                    digest.update(repr(tuple(_plain(v) for v in row)).encode())
                    digest.update(b"\n")
                rows += len(batch)
            summary[table] = {"rows": rows, "sha256": digest.hexdigest()}
    return summary


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def _audit_head(using: str) -> dict:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_audithead WHERE id = 1")
        row = cursor.fetchone()
    return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": ""}


# -- database connections made on the fly ------------------------------------------------------------------


@contextlib.contextmanager
def database_alias(config: dict) -> Iterator[str]:
    """Register `config` as a Django database for the duration (to read or verify another database)."""
    alias = f"ops_{uuid.uuid4().hex[:12]}"
    # A connection object of this thread only, not a new entry in settings.DATABASES.
    config = connections.configure_settings({"default": dict(config)})["default"]
    conn = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    connections[alias] = conn
    try:
        yield alias
    finally:
        conn.close()
        del connections[alias]


@contextlib.contextmanager
def throwaway_database(using: str = "default") -> Iterator[str]:
    """An empty database of the same kind, dropped afterwards: a temporary SQLite file, or a temporary
    PostgreSQL database on the same server (the role must be allowed to CREATE DATABASE)."""
    base = connections[using].settings_dict
    vendor = connections[using].vendor
    if vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="dermatox-verify-")
        try:
            with database_alias({**base, "NAME": str(Path(folder) / "verify.sqlite3"), "TEST": {}}) as alias:
                yield alias
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if vendor != "postgresql":
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    name = f"dermatox_verify_{uuid.uuid4().hex[:12]}"
    q = connections[using].ops.quote_name
    with connections[using].cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {q(name)} TEMPLATE template0 ENCODING 'UTF8'")
    try:
        with database_alias({**base, "NAME": name, "TEST": {}}) as alias:
            yield alias
    finally:
        with connections[using].cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {q(name)}")


# -- PostgreSQL client tools -------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: DERMATOX_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin (Debian keeps the
    binaries there, off PATH; the newest can dump any older server), else PATH."""
    candidates = []
    if settings.DERMATOX_PG_BIN:
        candidates.append(Path(settings.DERMATOX_PG_BIN) / name)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
        reverse=True,
    )
    candidates += [folder / name for folder in versions]
    for path in candidates:
        if os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} not found: install the PostgreSQL client tools or set DERMATOX_PG_BIN")


def _pg_args(config: dict) -> tuple[list[str], dict]:
    args = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if config.get(key):
            args += [flag, str(config[key])]
    env = {**os.environ}
    options = config.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(option):  # DATABASE_URL's ?sslmode=require must hold for the tools too
            env[variable] = str(options[option])
    if config.get("PASSWORD"):
        env["PGPASSWORD"] = str(config["PASSWORD"])  # not on the command line, where `ps` would show it
    return [*args, "-d", str(config["NAME"])], env


def _run(args: list[str], env: dict) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip() or result.returncode}")


# -- backup ------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _dump_database(using: str, target: Path) -> tuple[dict, dict]:
    """Copy the database to `target`; return (table summary, audit head) of exactly that copy."""
    conn = connections[using]
    if conn.vendor == "sqlite":
        source = sqlite3.connect(conn.settings_dict["NAME"])
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        with database_alias({**conn.settings_dict, "NAME": str(target), "TEST": {}}) as alias:
            return table_summary(alias), _audit_head(alias)
    if conn.vendor != "postgresql":
        raise BackupError(f"backups support SQLite and PostgreSQL, not {conn.vendor}")
    with database_alias({**conn.settings_dict, "TEST": {}}) as alias, transaction.atomic(using=alias):
        # One snapshot for pg_dump and for the counts, so the manifest describes the dump exactly.
        with connections[alias].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        args, env = _pg_args(conn.settings_dict)
        _run(
            [pg_tool("pg_dump"), "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(target), *args], env
        )
        return table_summary(alias), _audit_head(alias)


def _copy_files(media_root: Path, target: Path) -> list[dict]:
    files = []
    if not media_root.is_dir():
        return files
    for path in sorted(p for p in media_root.rglob("*") if p.is_file()):
        rel = path.relative_to(media_root)
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        files.append({"path": rel.as_posix(), "size": dest.stat().st_size, "sha256": _sha256(dest)})
    return files


def backup_create(
    to: Path | None = None, *, keep: int | None = None, using: str = "default", media_root: Path | None = None
) -> Path:
    """Make one backup folder under `to` (default DERMATOX_BACKUP_DIR); with `keep`, then delete all but
    the newest `keep` backups there."""
    to = Path(to or settings.DERMATOX_BACKUP_DIR)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    vendor = connections[using].vendor
    if vendor not in DB_FILE:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    now = dt.datetime.now(dt.UTC)
    name = PREFIX + now.strftime("%Y%m%dT%H%M%S%fZ")
    work = to / f".{name}.partial"
    work.mkdir(parents=True, mode=0o700)
    try:
        db_path = work / DB_FILE[vendor]
        tables, head = _dump_database(using, db_path)
        files = _copy_files(media_root, work / "files")
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "app_version": dermatox.__version__,
            "database": {
                "vendor": vendor,
                "file": db_path.name,
                "size": db_path.stat().st_size,
                "sha256": _sha256(db_path),
            },
            "tables": tables,
            "audit_head": head,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        final = to / name
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if keep:
        backups_prune(to, keep)
    return final


def backups_list(folder: Path) -> list[Path]:
    """Complete backups in `folder`, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(PREFIX) and (p / MANIFEST).is_file())


def backups_prune(folder: Path, keep: int) -> list[Path]:
    old = backups_list(folder)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


# -- reading a backup --------------------------------------------------------------------------------------


def manifest_read(backup: Path) -> dict:
    try:
        manifest = json.loads((Path(backup) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{backup}: not a backup (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{backup}/{MANIFEST}: unreadable ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{backup}: backup format {manifest.get('format')!r}, this version reads {FORMAT}")
    return manifest


def backup_check_files(backup: Path, manifest: dict) -> list[str]:
    """Problems with the backup's own bytes: the database file and every file against their SHA-256."""
    problems = []
    db = manifest["database"]
    path = Path(backup) / db["file"]
    if not path.is_file() or _sha256(path) != db["sha256"]:
        problems.append(f"the database file {db['file']} is missing or damaged (SHA-256 differs)")
    for entry in manifest["files"]:
        path = Path(backup) / "files" / entry["path"]
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            problems.append(f"file {entry['path']} is missing or damaged (SHA-256 differs)")
    return problems


# -- restore -----------------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    ok: bool
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    files: int = 0
    audit_entries: int = 0


def _non_empty(using: str) -> list[str]:
    conn = connections[using]
    with conn.cursor() as cursor:
        tables = conn.introspection.table_names(cursor)
    conn.close()  # SQLite: the restore writes the file underneath; PostgreSQL: pg_restore connects itself
    return tables


def _require_empty(manifest: dict, using: str) -> None:
    conn = connections[using]
    if manifest["database"]["vendor"] != conn.vendor:
        raise BackupError(
            f"this backup is of a {manifest['database']['vendor']} database; DATABASE_URL is {conn.vendor}"
        )
    tables = _non_empty(using)
    if tables:
        raise BackupError(
            f"the database {conn.settings_dict['NAME']} is not empty ({len(tables)} tables): restore only "
            "into a new, empty database"
        )


def _load_database(backup: Path, manifest: dict, using: str) -> None:
    _require_empty(manifest, using)
    conn = connections[using]
    source = Path(backup) / manifest["database"]["file"]
    if conn.vendor == "sqlite":
        src, dest = sqlite3.connect(source), sqlite3.connect(conn.settings_dict["NAME"])
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
        return
    args, env = _pg_args(conn.settings_dict)
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            *args,
            str(source),
        ],
        env,
    )


def _compare(manifest: dict, using: str) -> tuple[list[str], int, int]:
    from dermatox.audit.verify import audit_verify

    problems = []
    restored = table_summary(using)
    for table, want in sorted(manifest["tables"].items()):
        got = restored.get(table)
        if got is None:
            problems.append(f"table {table} is missing")
        elif got["rows"] != want["rows"]:
            problems.append(f"table {table}: {got['rows']} rows, the backup recorded {want['rows']}")
        elif got["sha256"] != want["sha256"]:
            problems.append(f"table {table}: content differs from the backup")
    problems += [f"table {t} is not in the backup" for t in sorted(set(restored) - set(manifest["tables"]))]
    head = _audit_head(using)
    if head != manifest["audit_head"]:
        problems.append(
            f"audit head is entry {head['seq']}, the backup recorded entry {manifest['audit_head']['seq']}"
        )
    result = audit_verify(using=using)
    if not result.ok:
        problems.append(f"audit chain: {result.problem}")
    return problems, sum(t["rows"] for t in restored.values()), result.checked


def backup_restore(backup: Path, *, using: str = "default", media_root: Path | None = None) -> RestoreReport:
    """Restore a backup into an EMPTY database (and an empty MEDIA_ROOT), then check it against the
    manifest and verify its audit chain. Refuses, touching nothing, if either is not empty or the backup
    is damaged."""
    backup = Path(backup)
    manifest = manifest_read(backup)
    damaged = backup_check_files(backup, manifest)
    if damaged:
        raise BackupError("the backup is damaged: " + "; ".join(damaged))
    _require_empty(manifest, using)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
        raise BackupError(f"MEDIA_ROOT {media_root} already holds files: restore only into an empty one")
    _load_database(backup, manifest, using)
    for entry in manifest["files"]:
        dest = media_root / entry["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(backup / "files" / entry["path"], dest)
    problems, rows, entries = _compare(manifest, using)
    return RestoreReport(
        not problems, problems, len(manifest["tables"]), rows, len(manifest["files"]), entries
    )


def backup_verify(backup: Path, *, using: str = "default") -> RestoreReport:
    """Restore into a throwaway database, compare every table with the manifest and verify the audit
    chain there, then drop it. The live database is only used to reach the server."""
    backup = Path(backup)
    manifest = manifest_read(backup)
    damaged = backup_check_files(backup, manifest)
    if damaged:
        return RestoreReport(False, damaged)
    with throwaway_database(using) as alias:
        _load_database(backup, manifest, alias)
        problems, rows, entries = _compare(manifest, alias)
    return RestoreReport(
        not problems, problems, len(manifest["tables"]), rows, len(manifest["files"]), entries
    )
