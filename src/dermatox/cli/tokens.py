"""`dermatox token create|list|revoke|rotate`: API tokens for other systems (REST, FHIR, bulk export)."""

from __future__ import annotations

import argparse
import sys

from dermatox.cli._common import _err, _positive


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
