"""The `dermatox` command: serve, migrate, demo, createuser, check, audit, backup, restore, reminders, worker,
user, clinic, token, files.

Every command honours DATABASE_URL (and DJANGO_SETTINGS_MODULE, default `dermatox.settings.dev`).
Exit status: 0 success, 1 a check failed (e.g. the audit chain is broken), 2 invalid input.
"""

from __future__ import annotations

import argparse
import os

from dermatox.cli._common import _err, _non_negative, _positive
from dermatox.cli.accounts import cmd_createuser
from dermatox.cli.assess import cmd_assess, cmd_case
from dermatox.cli.audit import cmd_audit_anchor, cmd_audit_verify
from dermatox.cli.backup import cmd_backup, cmd_restore
from dermatox.cli.demo import cmd_demo
from dermatox.cli.files import cmd_files_encrypt, cmd_files_keygen
from dermatox.cli.recall import cmd_recall
from dermatox.cli.server import MAX_REQUESTS, cmd_check, cmd_migrate, cmd_serve
from dermatox.cli.tokens import (
    _expiry_options,
    cmd_token_create,
    cmd_token_list,
    cmd_token_revoke,
    cmd_token_rotate,
)
from dermatox.cli.toxin import cmd_toxin_diluent, cmd_toxin_plan, cmd_toxin_reconstitute
from dermatox.cli.transfer import cmd_export, cmd_import
from dermatox.cli.worker import cmd_reminders, cmd_worker


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermatox.settings.dev")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dermatox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=_positive, default=2)
    p.add_argument("--access-log", action="store_true")
    p.add_argument(
        "--max-requests",
        type=_non_negative,
        default=MAX_REQUESTS,
        help=f"replace a web worker after about this many requests (default {MAX_REQUESTS}; 0: never)",
    )
    p.add_argument(
        "--no-worker", action="store_true", help="do not start the background task worker (reminders)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("reminders", help="queue the reminder sweep (appointments and recalls)")
    p.add_argument("--now", help="sweep as if it were this time (ISO 8601); default now")
    p.add_argument("--run", action="store_true", help="run the sweep here and print what was sent")
    p.set_defaults(func=cmd_reminders)

    p = sub.add_parser("worker", help="run background tasks (reminders) from the database queue")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between polls of an empty queue")
    p.add_argument(
        "--sweep-minutes",
        type=_non_negative,
        default=15,
        help="queue the reminder sweep this often (0: only run what others queue)",
    )
    p.add_argument(
        "--anchor-minutes",
        type=_non_negative,
        help="anchor the audit head this often (default DERMATOX_AUDIT_ANCHOR_MINUTES; 0: never)",
    )
    p.add_argument(
        "--batch", action="store_true", help="run what is queued (and one sweep and anchor), then stop"
    )
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="create or update the database tables")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load the demo clinics, staff and synthetic patients")
    p.add_argument("--if-empty", action="store_true", help="do nothing if the demo is already loaded")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--patients", type=_positive, default=60)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("createuser", help="create a staff user")
    p.add_argument("username")
    p.add_argument("--clinic", action="append", help="CODE or CODE:ROLE; repeat for several clinics")
    p.add_argument("--role", default="physician", help="physician, nurse, front_desk, manager, sysadmin")
    p.add_argument("--full-name")
    p.add_argument("--email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("check", help="check configuration, database connection and migrations")
    p.add_argument("--deploy", action="store_true", help="also run Django's production-readiness checks")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("assess", help="assess one case (JSON) against the hair and acne pathways")
    p.add_argument("case", nargs="?", help="case file (JSON), or - for standard input")
    p.add_argument("--format", choices=["json", "text"], default="json")
    p.add_argument("--lang", choices=["en", "tr"], default="en", help="language of the texts (default en)")
    p.add_argument(
        "--schema", choices=["input", "output"], help="print the JSON Schema of the input or output"
    )
    p.set_defaults(func=cmd_assess, pure=True)

    p = sub.add_parser(
        "case", help="print a patient's pathways case (JSON) built from the record, for `assess -`"
    )
    p.add_argument("mrn", help="the patient's record number, e.g. NIS-000001")
    p.add_argument("--as-of", help="date of the assessment (default today)")
    p.set_defaults(func=cmd_case)

    p = sub.add_parser("toxin", help="botulinum toxin arithmetic and plan checks (pure: no database)")
    toxin = p.add_subparsers(dest="toxin_command", required=True)
    t = toxin.add_parser("reconstitute", help="units per mL and per 0.1 mL for a vial and a diluent volume")
    t.add_argument("--product", required=True)
    t.add_argument("--vial-units", type=float, required=True)
    t.add_argument("--diluent-ml", type=float, required=True)
    t.set_defaults(func=cmd_toxin_reconstitute, pure=True)
    t = toxin.add_parser("diluent", help="saline needed for a wanted concentration")
    t.add_argument("--product", required=True)
    t.add_argument("--vial-units", type=float, required=True)
    t.add_argument("--units-per-0-1-ml", type=float, required=True)
    t.set_defaults(func=cmd_toxin_diluent, pure=True)
    t = toxin.add_parser("plan", help="check a toxin plan (JSON) for this patient today")
    t.add_argument("plan", help="plan file (JSON), or - for standard input")
    t.add_argument("--protocols", action="append", help="a clinic's own protocol file (TOML); repeatable")
    t.add_argument(
        "--lang", choices=["en", "tr"], default="en", help="language of the blocks' and warnings' texts"
    )
    t.set_defaults(func=cmd_toxin_plan, pure=True)

    p = sub.add_parser("recall", help="list every patient who received a toxin lot")
    p.add_argument("lot", help="lot number")
    p.add_argument("--clinic", required=True, help="clinic code")
    p.add_argument("--product", help="limit to one product id")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_recall)

    p = sub.add_parser("token", help="API tokens for other systems (REST, FHIR, bulk export)")
    token = p.add_subparsers(dest="token_command", required=True)
    t = token.add_parser("create", help="make a token; prints the secret once")
    t.add_argument("--clinic", required=True, help="clinic code")
    t.add_argument("--user", required=True, help="the staff member the token acts as")
    t.add_argument(
        "--role",
        required=True,
        help="the role the user holds in the clinic: physician, nurse, front_desk or manager",
    )
    t.add_argument("--scopes", required=True, help="comma-separated: read, write, export")
    t.add_argument("--name", required=True, help="what uses it, e.g. 'Lab interface'")
    _expiry_options(t)
    t.set_defaults(func=cmd_token_create)
    t = token.add_parser("list", help="list tokens (never their secrets)")
    t.add_argument("--clinic", help="only this clinic's tokens")
    t.add_argument("--all", action="store_true", help="also revoked, expired and no longer valid tokens")
    t.add_argument("--json", action="store_true", help="print JSON")
    t.set_defaults(func=cmd_token_list)
    t = token.add_parser("revoke", help="stop a token at once")
    t.add_argument("token", help="the token's id or the prefix of its secret (dx_…), as listed")
    t.set_defaults(func=cmd_token_revoke)
    t = token.add_parser("rotate", help="a new secret for a token (printed once); the old one stops")
    t.add_argument("token", help="the token's id or the prefix of its secret (dx_…), as listed")
    t.add_argument(
        "--grace",
        type=_non_negative,
        default=0,
        metavar="HOURS",
        help="the old secret keeps working this many hours (default 0: stops now; at most 168)",
    )
    _expiry_options(t)
    t.set_defaults(func=cmd_token_rotate)

    p = sub.add_parser("import", help="import legacy patients, toxin history or observations from CSV")
    p.add_argument("file", help="CSV file (UTF-8); columns in docs/import.md")
    p.add_argument("--clinic", required=True, help="clinic code")
    p.add_argument(
        "--kind", choices=["patients", "toxin", "observations"], help="default: told from the header"
    )
    p.add_argument("--user", help="staff member recorded as author (required for toxin and observations)")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export a clinic's patients, toxin history or observations to CSV")
    p.add_argument("kind", choices=["patients", "toxin", "observations"])
    p.add_argument("--clinic", required=True, help="clinic code")
    p.add_argument("--user", help="staff member the export is made (and audited) as; default the system")
    p.add_argument("-o", "--output", help="file to write (default standard output)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("backup", help="back up the database and files (and `backup verify` a backup)")
    p.add_argument("--to", metavar="DIR", help="folder for the backup (default DERMATOX_BACKUP_DIR)")
    p.add_argument(
        "--keep", type=_positive, metavar="N", help="then delete all but the newest N backups there"
    )
    backup_sub = p.add_subparsers(dest="backup_command")
    b = backup_sub.add_parser("verify", help="restore into a throwaway database and compare; exit 1 if bad")
    b.add_argument("backup", help="a backup folder (dermatox-<time>)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup into an empty database and MEDIA_ROOT")
    p.add_argument("backup", help="a backup folder (dermatox-<time>)")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("files", help="encryption of stored files (consent PDFs, bulk exports)")
    files = p.add_subparsers(dest="files_command", required=True)
    f = files.add_parser("keygen", help="print a new random key for DERMATOX_FILE_KEY")
    f.set_defaults(func=cmd_files_keygen, pure=True)
    f = files.add_parser(
        "encrypt", help="encrypt plaintext files and re-encrypt files under DERMATOX_FILE_KEY_OLD keys"
    )
    f.set_defaults(func=cmd_files_encrypt)

    p = sub.add_parser("audit", help="audit trail tools")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    v = audit_sub.add_parser("verify", help="verify the audit hash chain; exit 1 if it was tampered with")
    v.add_argument(
        "--anchors",
        metavar="FILE",
        help="also check the chain against the anchors in FILE (or a syslog extract)",
    )
    v.set_defaults(func=cmd_audit_verify)
    v = audit_sub.add_parser("anchor", help="append the signed audit head to an append-only file or syslog")
    v.add_argument("--to", metavar="FILE", help='file, or "syslog" (default: DERMATOX_AUDIT_ANCHOR_TO)')
    v.set_defaults(func=cmd_audit_anchor)

    from dermatox.cli.accounts import register as register_account_commands

    register_account_commands(sub)  # user reset-password|reset-2fa|deactivate|reactivate|sign-out, clinic
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dermatox.clinical.reference import OVERRIDE_ENV, ReferenceDataError, use_overrides

    try:
        use_overrides(os.environ.get(OVERRIDE_ENV))
    except ReferenceDataError as exc:
        return _err(str(exc))
    if getattr(args, "pure", False):
        return args.func(args)
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError

    try:
        _setup()
    except ImproperlyConfigured as exc:
        return _err(f"configuration: {exc}")
    except ValueError as exc:  # dj-database-url: an unknown scheme or malformed DATABASE_URL
        return _err(f"DATABASE_URL: {exc}")
    try:
        return args.func(args)
    except DatabaseError as exc:
        return _err(f"database: {str(exc).strip() or type(exc).__name__} (check DATABASE_URL)", 1)
