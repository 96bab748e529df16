"""The `dermatox` command: serve, migrate, demo, createuser, check, audit, backup, restore, reminders, worker,
user, clinic, token, files.

Every command honours DATABASE_URL (and DJANGO_SETTINGS_MODULE, default `dermatox.settings.dev`).
Exit status: 0 success, 1 a check failed (e.g. the audit chain is broken), 2 invalid input.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermatox.settings.dev")
    import django

    django.setup()


def _whole(minimum: int, rule: str):
    """An argparse type: a whole number of at least `minimum` (`rule` says so to the user)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("must be a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(rule)
        return value

    return parse


_positive = _whole(1, "must be at least 1")
_non_negative = _whole(0, "must be 0 or more")


def _err(message: str, status: int = 2) -> int:
    print(f"dermatox: {message}", file=sys.stderr)
    return status


def cmd_migrate(args) -> int:
    from django.conf import settings
    from django.core.management import call_command

    _var_dir(settings)
    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    call_command("createcachetable", verbosity=0)  # the shared cache (settings.CACHES["shared"])
    print(f"Database is up to date ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}).")
    return 0


def _var_dir(settings) -> None:
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    name = settings.DATABASES["default"]["NAME"]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name != ":memory:":
        from pathlib import Path

        Path(name).parent.mkdir(parents=True, exist_ok=True)


def cmd_demo(args) -> int:
    from dermatox.demo.loader import demo_load, demo_logins, demo_present

    if args.if_empty and demo_present():
        print("Demo data already loaded.")
    else:
        summary = demo_load(seed=args.seed, patients=args.patients)
        print(f"Demo loaded: {summary}")
    print(demo_logins())
    return 0


def cmd_createuser(args) -> int:
    from dermatox.accounts.models import Clinic
    from dermatox.accounts.services import user_create
    from dermatox.common.context import Actor
    from dermatox.common.errors import InvalidInput

    memberships = []
    for item in args.clinic or []:
        code, _, role = item.partition(":")
        clinic = Clinic.objects.filter(code=code).first()
        if clinic is None:
            return _err(f"--clinic: no clinic with code {code!r}")
        memberships.append((clinic, role or args.role))
    if not memberships and args.role != "sysadmin":
        return _err("--clinic: at least one clinic code is required (e.g. --clinic nis:physician)")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("DERMATOX_PASSWORD") or getpass.getpass("Password: ")
    try:
        user = user_create(
            actor=Actor.system(),
            username=args.username,
            password=password,
            full_name=args.full_name or "",
            email=args.email or "",
            memberships=memberships,
        )
    except InvalidInput as exc:
        return _err(exc.message)
    print(
        f"Created user {user.username} ({', '.join(f'{c.code}:{r}' for c, r in memberships) or 'no clinic'})"
    )
    return 0


def cmd_check(args) -> int:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        call_command(
            "check", deploy=args.deploy, verbosity=0, fail_level="WARNING" if args.deploy else "ERROR"
        )
    except SystemCheckError as exc:
        return _err(str(exc), 1)
    connection.ensure_connection()
    pending = MigrationExecutor(connection).migration_plan(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )
    if pending:
        return _err(f"{len(pending)} migration(s) not applied: run `dermatox migrate`", 1)
    from dermatox.audit import protection

    gone = protection.missing(connection)
    if gone:
        return _err(f"audit protection missing (triggers: {', '.join(gone)}): run `dermatox migrate`", 1)
    print(f"OK: configuration valid, database reachable ({connection.vendor}), migrations applied.")
    return 0


def cmd_audit_verify(args) -> int:
    from dermatox.audit.anchor import AnchorError, anchors_read
    from dermatox.audit.verify import audit_verify

    try:
        anchors = anchors_read(args.anchors) if args.anchors else None
    except AnchorError as exc:
        return _err(f"--anchors: {exc}")
    result = audit_verify(anchors=anchors)
    if result.ok:
        against = f", consistent with {result.anchors} anchor(s)" if args.anchors else ""
        print(f"OK: audit chain intact, {result.checked} entries verified{against}.")
        return 0
    print(f"TAMPERED: {result.problem} ({result.checked} entries verified before it).", file=sys.stderr)
    return 1


def cmd_audit_anchor(args) -> int:
    """Append the signed audit head to an append-only file or syslog (the worker does it on a schedule)."""
    from django.conf import settings

    from dermatox.audit.anchor import AnchorError, anchor_write

    to = args.to or settings.DERMATOX_AUDIT_ANCHOR_TO
    try:
        anchor = anchor_write(to)
    except AnchorError as exc:
        return _err(f"not anchored: {exc}", 1)
    except OSError as exc:
        return _err(f"--to: cannot append to {to}: {exc.strerror or exc}", 1)
    print(f"Anchored audit entry {anchor.seq} ({anchor.hash[:12]}…) to {to}.")
    return 0


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


def cmd_files_keygen(args) -> int:
    """A new key for DERMATOX_FILE_KEY (pure: prints it, stores nothing)."""
    from dermatox.common.filecrypt import generate_key

    print(generate_key())
    return 0


def cmd_files_encrypt(args) -> int:
    """Every stored file under the current DERMATOX_FILE_KEY (docs/security/encryption.md)."""
    from django.core.files.storage import storages

    from dermatox.common.filecrypt import FileDecryptError, FileKeyError
    from dermatox.common.storage import EncryptedStorageMixin, encrypt_stored_files

    storage = storages["default"]
    if not isinstance(storage, EncryptedStorageMixin):
        return _err("the file storage in STORAGES['default'] does not encrypt: nothing to do")
    try:
        counts = encrypt_stored_files(storage)
    except (FileKeyError, FileDecryptError) as exc:
        return _err(str(exc), 1)
    print(
        f"OK: {counts.encrypted} plaintext file(s) encrypted, {counts.rekeyed} re-encrypted from an older "
        f"key, {counts.current} already under the current key."
    )
    return 0


def cmd_assess(args) -> int:
    """Pure: no database, no Django. JSON in, JSON (or a readable summary) out; bad input exits 2."""
    import json

    from dermatox.clinical.pathways import CaseError, assess
    from dermatox.clinical.pathways.schema import input_schema, output_schema
    from dermatox.clinical.pathways.text import summary

    if args.schema:
        print(json.dumps(input_schema() if args.schema == "input" else output_schema(), indent=2))
        return 0
    if not args.case:
        return _err("CASE: give a case file, or - to read standard input")
    try:
        text = sys.stdin.read() if args.case == "-" else open(args.case, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        return _err(f"CASE: cannot read {args.case}: {exc.strerror}")
    try:
        case = json.loads(text)
    except json.JSONDecodeError as exc:
        return _err(f"CASE: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    try:
        result = assess(case, args.lang)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    if args.format == "text":
        sys.stdout.write(summary(result, args.lang))
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def cmd_case(args) -> int:
    """Export the pathways case of one patient, built from the record (audited as an export)."""
    import datetime as dt
    import json

    from django.utils import timezone

    from dermatox.audit.services import audit_record
    from dermatox.chart.case_builder import build_case
    from dermatox.common.context import Actor
    from dermatox.patients.models import Patient

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else timezone.localdate()
    except ValueError:
        return _err("--as-of: must be a date (YYYY-MM-DD)")
    patient = Patient.objects.current().select_related("clinic").filter(mrn__iexact=args.mrn.strip()).first()
    if patient is None:
        return _err(f"MRN: no patient with record number {args.mrn!r}")
    built = build_case(patient, as_of)
    audit_record(
        actor=Actor.system(clinic=patient.clinic),
        action="patient.export_case",
        obj=patient,
        detail={"as_of": str(as_of)},
    )
    for line in built.missing:
        print(f"note: {line}", file=sys.stderr)
    if built.case is None:
        return _err("cannot build a case for this patient", 1)
    print(json.dumps(built.case, indent=2, ensure_ascii=False))
    return 0


_OPTION = {
    "product": "--product",
    "vial_units": "--vial-units",
    "diluent_ml": "--diluent-ml",
    "units_per_0_1_ml": "--units-per-0-1-ml",
}


def cmd_toxin_reconstitute(args) -> int:
    import json

    from dermatox.clinical.toxin.reconstitution import ToxinInputError, reconstitute

    try:
        concentration = reconstitute(args.product, args.vial_units, args.diluent_ml)
    except ToxinInputError as exc:
        return _err(f"{_OPTION.get(exc.field, exc.field)}: {exc.rule}")
    print(json.dumps(concentration.as_dict()))
    return 0


def cmd_toxin_diluent(args) -> int:
    import json

    from dermatox.clinical.toxin.reconstitution import ToxinInputError, diluent_for

    try:
        volume = diluent_for(args.product, args.vial_units, args.units_per_0_1_ml)
    except ToxinInputError as exc:
        return _err(f"{_OPTION.get(exc.field, exc.field)}: {exc.rule}")
    print(
        json.dumps(
            {
                "product": args.product,
                "vial_units": args.vial_units,
                "units_per_0_1_ml": args.units_per_0_1_ml,
                "diluent_ml": volume,
            }
        )
    )
    return 0


def cmd_toxin_plan(args) -> int:
    import json

    from dermatox.clinical.pathways import CaseError
    from dermatox.clinical.reference import ReferenceDataError
    from dermatox.clinical.toxin.plan import check_plan
    from dermatox.clinical.toxin.protocols import load_protocols

    try:
        protocols = load_protocols(tuple(args.protocols or ()))
    except (OSError, ReferenceDataError) as exc:
        return _err(f"--protocols: {exc}")
    try:
        text = sys.stdin.read() if args.plan == "-" else open(args.plan, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        return _err(f"PLAN: cannot read {args.plan}: {exc.strerror}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return _err(f"PLAN: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    try:
        result = check_plan(raw, protocols=protocols, lang=args.lang)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def cmd_recall(args) -> int:
    """Every patient who received a lot, in one clinic (audited)."""
    import json

    from dermatox.accounts.models import Clinic
    from dermatox.common.context import Actor
    from dermatox.inventory.selectors import lot_recall

    clinic = Clinic.objects.filter(code=args.clinic).first()
    if clinic is None:
        return _err(f"--clinic: no clinic with code {args.clinic!r}")
    lines = lot_recall(actor=Actor.system(clinic=clinic), lot_number=args.lot, product=args.product)
    if args.format == "json":
        print(json.dumps([line.__dict__ for line in lines], indent=2, ensure_ascii=False))
    else:
        print(f"Lot {args.lot} at {clinic.name}: {len(lines)} patient(s)")
        for line in lines:
            print(
                f"  {line.mrn:<12} {line.name:<30} {line.phone:<20} first {line.first_given}  {line.units} U in {line.administrations}"
                + (f" ({line.entered_in_error} entered in error)" if line.entered_in_error else "")
            )
    return 0


def _field_errors(exc) -> str:
    """A service's field errors as CLI options: `--role: …; --scopes: …`."""
    options = {"expires_at": "expires"}  # the service's field -> the option that sets it
    return (
        "; ".join(f"--{options.get(k, k).replace('_', '-')}: {' '.join(v)}" for k, v in exc.fields.items())
        or exc.message
    )


def _token_expiry(args):
    """The expiry the options ask for: --expires DAYS (default 90) or --no-expiry (with a warning)."""
    import datetime as dt

    from django.utils import timezone

    if args.no_expiry:
        if args.expires is not None:
            raise ValueError("--expires: give --expires DAYS or --no-expiry, not both")
        print(
            "dermatox: warning: this token never expires; revoke it by hand when it is no longer needed",
            file=sys.stderr,
        )
        return None
    from dermatox.accounts.token_limits import DEFAULT_LIFETIME_DAYS

    return timezone.now() + dt.timedelta(days=args.expires or DEFAULT_LIFETIME_DAYS)


def _token_line(token, secret: str, verb: str) -> None:
    expires = token.expires_at.strftime("%Y-%m-%d %H:%M UTC") if token.expires_at else "never"
    print(
        f"{verb} token {token.pk} {token.name!r} for {token.clinic.code} as {token.user.username} "
        f"({token.role}), scopes {','.join(token.scopes)}, expires {expires}"
    )
    print(secret)


def cmd_token_create(args) -> int:
    """A new API token; the secret is printed once (only its hash is kept)."""
    from dermatox.accounts.models import Clinic, User
    from dermatox.accounts.tokens import api_token_create
    from dermatox.common.context import Actor
    from dermatox.common.errors import InvalidInput

    clinic = Clinic.objects.filter(code=args.clinic).first()
    if clinic is None:
        return _err(f"--clinic: no clinic with code {args.clinic!r}")
    user = User.objects.filter(username=args.user).first()
    if user is None:
        return _err(f"--user: no user named {args.user!r}")
    try:
        expires_at = _token_expiry(args)
        token, secret = api_token_create(
            actor=Actor.system(clinic=clinic),
            clinic=clinic,
            user=user,
            name=args.name,
            role=args.role,
            scopes=[s.strip() for s in args.scopes.split(",") if s.strip()],
            expires_at=expires_at,
            no_expiry=args.no_expiry,
        )
    except ValueError as exc:
        return _err(str(exc))
    except InvalidInput as exc:
        return _err(_field_errors(exc))
    _token_line(token, secret, "Created")
    return 0


def cmd_token_list(args) -> int:
    """The tokens (working ones; --all also revoked, expired and those whose role is no longer held)."""
    import json

    from dermatox.accounts.models import Clinic
    from dermatox.accounts.selectors import api_token_rows
    from dermatox.common.context import Actor

    clinic = None
    if args.clinic:
        clinic = Clinic.objects.filter(code=args.clinic).first()
        if clinic is None:
            return _err(f"--clinic: no clinic with code {args.clinic!r}")
    rows = api_token_rows(actor=Actor.system(clinic=clinic), clinic=clinic, include_inactive=args.all)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No tokens." if args.all else "No working tokens (--all shows revoked and expired ones).")
        return 0

    def when(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "-"

    header = ("ID", "PREFIX", "CLINIC", "USER", "ROLE", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "STATUS")
    lines = [header] + [
        (
            str(r.token.pk),
            r.token.prefix + "…",
            r.token.clinic.code,
            r.token.user.username,
            r.token.role,
            ",".join(r.token.scopes),
            when(r.token.created_at),
            when(r.token.expires_at) if r.token.expires_at else "never",
            when(r.token.last_used_at),
            r.status + (f" (replaced by {r.token.replaced_by_id})" if r.token.replaced_by_id else ""),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def _token_by_ref(ref: str):
    """(token, None) or (None, exit status) for an id or prefix given on the command line."""
    from dermatox.accounts.selectors import api_token_get
    from dermatox.common.context import Actor
    from dermatox.common.errors import InvalidInput, NotFound

    try:
        return api_token_get(actor=Actor.system(), ref=ref), None
    except (NotFound, InvalidInput) as exc:
        detail = "; ".join(" ".join(v) for v in exc.fields.values()) if exc.fields else exc.message
        return None, _err(f"token {ref!r}: {detail}")


def cmd_token_revoke(args) -> int:
    from dermatox.accounts.tokens import api_token_revoke
    from dermatox.common.context import Actor

    token, status = _token_by_ref(args.token)
    if token is None:
        return status
    already = token.revoked_at is not None
    api_token_revoke(actor=Actor.system(clinic=token.clinic), token=token)
    print(
        f"Token {token.pk} {token.name!r} ({token.prefix}…) {'was already' if already else 'is now'} revoked."
    )
    return 0


def cmd_token_rotate(args) -> int:
    """A new secret for the same token; the old one stops at once, or after --grace HOURS."""
    from dermatox.accounts.tokens import api_token_rotate
    from dermatox.common.context import Actor
    from dermatox.common.errors import Conflict, InvalidInput

    token, status = _token_by_ref(args.token)
    if token is None:
        return status
    try:
        expires_at = _token_expiry(args)
        new, secret = api_token_rotate(
            actor=Actor.system(clinic=token.clinic),
            token=token,
            grace_hours=args.grace,
            expires_at=expires_at,
            no_expiry=args.no_expiry,
        )
    except ValueError as exc:
        return _err(str(exc))
    except InvalidInput as exc:
        return _err(_field_errors(exc))
    except Conflict as exc:
        return _err(f"token {args.token!r}: {exc.message}")
    token.refresh_from_db()
    ends = token.revoked_at or token.expires_at
    print(
        f"Old token {token.pk} stops {'now' if args.grace == 0 else 'at ' + ends.strftime('%Y-%m-%d %H:%M UTC')}."
    )
    _token_line(new, secret, "New")
    return 0


def cmd_reminders(args) -> int:
    """Enqueue the reminder sweep for the worker (cron), or run it here with --run."""
    import datetime as dt

    from django.utils import timezone

    now = None
    if args.now:
        try:
            now = dt.datetime.fromisoformat(args.now)
        except ValueError:
            return _err("--now: must be a date and time (ISO 8601, e.g. 2026-03-09T08:00+03:00)")
        if timezone.is_naive(now):
            now = timezone.make_aware(now)
    if args.run:
        from dermatox.scheduling.reminders import sweep

        counts = sweep(now)
        print("Reminders: " + (", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing due"))
        return 0
    from dermatox.scheduling.tasks import reminders_send

    result = reminders_send.enqueue(now.isoformat() if now else None)
    print(f"Reminder sweep queued (task {result.id}); `dermatox worker` sends it.")
    return 0


def cmd_worker(args) -> int:
    """Run background tasks (reminders, bulk exports) from the database queue; every --sweep-minutes also
    queue the reminder sweep and the deletion of expired export files, and every --anchor-minutes append
    the signed audit head to DERMATOX_AUDIT_ANCHOR_TO."""
    import threading

    from django.core.management import call_command
    from django.db import connection

    from dermatox.bulk.tasks import bulk_exports_expire
    from dermatox.scheduling.tasks import reminders_send

    stop = threading.Event()

    def sweep() -> None:  # the reminder sweep, and deleting expired bulk export files
        reminders_send.enqueue()
        bulk_exports_expire.enqueue()

    def sweeper() -> None:
        while not stop.is_set():
            try:
                sweep()
            except Exception as exc:  # the database may be briefly unavailable; try again next time
                print(f"dermatox worker: could not queue the reminder sweep: {exc}", file=sys.stderr)
            finally:
                connection.close()
            stop.wait(args.sweep_minutes * 60)

    from django.conf import settings

    from dermatox.audit.anchor import anchor_write

    anchor_minutes = (
        settings.DERMATOX_AUDIT_ANCHOR_MINUTES if args.anchor_minutes is None else args.anchor_minutes
    )

    def anchor() -> None:  # the signed audit head, out of the database (docs/security/audit.md)
        try:
            anchor_write(settings.DERMATOX_AUDIT_ANCHOR_TO)
        except Exception as exc:  # a failed anchor must be seen, but must not stop the task worker
            print(f"dermatox worker: could not anchor the audit head: {exc}", file=sys.stderr, flush=True)
        finally:
            connection.close()

    def anchorer() -> None:
        while not stop.is_set():
            anchor()
            stop.wait(anchor_minutes * 60)

    if args.batch:
        if args.sweep_minutes:
            sweep()
        if anchor_minutes:
            anchor()
    else:
        if args.sweep_minutes:
            threading.Thread(target=sweeper, name="reminder-sweep", daemon=True).start()
        if anchor_minutes:
            threading.Thread(target=anchorer, name="audit-anchor", daemon=True).start()
    print(
        f"Dermatox worker running (reminder sweep every {args.sweep_minutes} min, "
        f"audit anchor every {anchor_minutes} min)"
        if not args.batch
        else "Dermatox worker: running queued tasks, then stopping",
        flush=True,
    )
    try:
        call_command(
            "db_worker",
            batch=args.batch,
            interval=args.interval,
            reload=False,
            startup_delay=not args.batch,
            verbosity=1 if args.verbose else 0,
        )
    finally:
        stop.set()
    return 0


def _start_worker():
    """The task worker beside the web server (for `make run` and small installs): same environment, dies
    with the server (terminated on exit; on Linux also if the server is killed)."""
    import signal
    import subprocess

    def die_with_parent() -> None:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    # Our own interpreter and module, no shell.
    return subprocess.Popen([sys.executable, "-m", "dermatox", "worker"], preexec_fn=die_with_parent)


def _stop_worker(process) -> None:
    import subprocess

    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    except ChildProcessError:  # already reaped by gunicorn's arbiter
        pass


KEEPALIVE_SECONDS = 75  # how long `serve` keeps an idle connection (see cmd_serve)
# A worker is replaced after about this many requests (see cmd_serve). WeasyPrint's native libraries keep
# ~276 KB of every PDF they draw (docs/benchmarks.md, load run 3): without recycling a worker grows for ever.
MAX_REQUESTS = 1000


def cmd_serve(args) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if not 0 < args.port < 65536:
        return _err("--port: must be between 1 and 65535")
    _var_dir(settings)
    call_command("collectstatic", interactive=False, verbosity=0)
    from gunicorn.app.base import BaseApplication

    from dermatox.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("graceful_timeout", 5)
            # An idle connection is kept longer than a browser (or proxy) waits between requests. With
            # gunicorn's 2 s default, a request sent as the server closed an idle connection was reset
            # (the load run's clinicians, 1-3 s between steps, met it); 75 s is nginx's keep-alive default.
            self.cfg.set("keepalive", KEEPALIVE_SECONDS)
            # Replaced gracefully after its in-flight requests; the jitter keeps workers from restarting
            # together. 0 turns recycling off.
            self.cfg.set("max_requests", args.max_requests)
            self.cfg.set("max_requests_jitter", args.max_requests // 5)

        def load(self):
            return application

    from dermatox.documents.pdf import preload

    preload()  # before the fork: a new worker draws its first PDF without loading WeasyPrint

    worker = None if args.no_worker else _start_worker()
    print(f"Dermatox is serving on http://{args.host}:{args.port}/  (Ctrl+C stops it)", flush=True)
    try:
        Server().run()
    finally:
        _stop_worker(worker)
    return 0


def _member_actor(args, clinic):
    """The actor of `import` and `export`: the staff member named by --user (their role in that clinic
    decides what they may do), or the system if none is named. Returns (actor, None) or (None, exit status)."""
    from dermatox.accounts.models import Membership
    from dermatox.common.context import Actor

    if not args.user:
        return Actor.system(clinic=clinic, channel="cli"), None
    membership = Membership.objects.filter(user__username=args.user, clinic=clinic).first()
    if membership is None:
        return None, _err(f"--user: {args.user!r} is not a staff member of {clinic.code}")
    return Actor(user=membership.user, clinic=clinic, role=membership.role, channel="cli"), None


def cmd_import(args) -> int:
    """Import legacy data from CSV into one clinic: all rows or none; --dry-run only checks (docs/import.md)."""
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from dermatox.accounts.models import Clinic
    from dermatox.common.errors import DermatoxError
    from dermatox.transfer.csv_import import csv_import

    clinic = Clinic.objects.filter(code=args.clinic).first()
    if clinic is None:
        return _err(f"--clinic: no clinic with code {args.clinic!r}")
    actor, status = _member_actor(args, clinic)
    if actor is None:
        return status
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _err(f"FILE: cannot read {args.file}: {exc.strerror}")
    bar = Progress(
        TextColumn("checking" if args.dry_run else "importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("rows", total=None)
    try:
        with bar:
            result = csv_import(
                actor=actor,
                data=data,
                kind=args.kind,
                dry_run=args.dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except DermatoxError as exc:
        return _err("; ".join(f"--{k}: {' '.join(v)}" for k, v in exc.fields.items()) or exc.message)
    for line in result.report:
        print(line)
    if not result.ok:
        bad = len({line.split(":", 1)[0] for line in result.report})
        return _err(f"{args.file}: {bad} problem row(s) or file error(s); nothing was written")
    if args.dry_run:
        print(
            f"OK: {result.rows} {result.kind} row(s) valid; would have {result.summary()} (dry run, nothing written)"
        )
    else:
        print(f"Imported {result.rows} {result.kind} row(s) into {clinic.code}: {result.summary()}")
    return 0


def cmd_export(args) -> int:
    """Export one clinic's data to CSV in the import's columns (audited as an export): as the staff member
    named by --user, whose role must allow reading clinical records, or as the system."""
    from dermatox.accounts.models import Clinic
    from dermatox.common.errors import DermatoxError, PermissionDenied
    from dermatox.transfer.csv_export import csv_export

    clinic = Clinic.objects.filter(code=args.clinic).first()
    if clinic is None:
        return _err(f"--clinic: no clinic with code {args.clinic!r}")
    actor, status = _member_actor(args, clinic)
    if actor is None:
        return status
    try:
        text, count, left_out = csv_export(actor=actor, kind=args.kind)
    except PermissionDenied as exc:
        return _err(f"--user: {args.user!r} ({actor.role}) may not export {args.kind}: {exc.message}")
    except DermatoxError as exc:
        return _err(exc.message)
    if args.output and args.output != "-":
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                out.write(text)
        except OSError as exc:
            return _err(f"-o: cannot write {args.output}: {exc.strerror}")
        print(f"Exported {count} {args.kind} row(s) of {clinic.code} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if left_out:
        print(f"note: {left_out} patient(s) without an identifier were left out", file=sys.stderr)
    return 0


def _lifetime_days(text: str) -> int:
    from dermatox.accounts.token_limits import MAX_LIFETIME_DAYS

    value = _positive(text)
    if value > MAX_LIFETIME_DAYS:
        raise argparse.ArgumentTypeError(f"at most {MAX_LIFETIME_DAYS} days")
    return value


def _expiry_options(parser) -> None:
    parser.add_argument(
        "--expires", type=_lifetime_days, metavar="DAYS", help="days until the token expires (default 90)"
    )
    parser.add_argument(
        "--no-expiry", action="store_true", help="a token that never expires (not recommended; warns)"
    )


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

    from dermatox.cli_accounts import register as register_account_commands

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
