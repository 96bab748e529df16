"""`dermatox import` and `dermatox export`: a clinic's legacy data from and to CSV (docs/import.md)."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err


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
