"""`dermatox createuser`, and `dermatox user …` and `dermatox clinic second-factor`: what an administrator
does on the server when the web page cannot help (a locked-out manager, a user in several clinics, an
incident). Acts as the system; every action is audited by the service it calls."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from dermatox.cli._common import _err


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


def _user(username: str):
    from dermatox.accounts.models import User

    return User.objects.filter(username=username).first()


def _clinic(code: str):
    from dermatox.accounts.models import Clinic

    return Clinic.objects.filter(code=code).first()


def cmd_user_reset_password(args) -> int:
    from dermatox.accounts.staff import password_reset
    from dermatox.common.context import Actor

    user = _user(args.username)
    if user is None:
        return _err(f"USERNAME: no user named {args.username!r}")
    password = password_reset(actor=Actor.system(), user=user)
    print(
        f"Temporary password for {user.username} (they must change it at the next sign-in; sessions ended):"
    )
    print(password)
    return 0


def cmd_user_reset_2fa(args) -> int:
    from dermatox.accounts.second_factor import is_enrolled, second_factor_reset
    from dermatox.common.context import Actor

    user = _user(args.username)
    if user is None:
        return _err(f"USERNAME: no user named {args.username!r}")
    had = is_enrolled(user)
    second_factor_reset(actor=Actor.system(), user=user)
    state = "removed" if had else "none was set up; sessions ended anyway"
    print(
        f"Second factor of {user.username}: {state}. They set up a new app at the next sign-in if required."
    )
    return 0


def cmd_user_deactivate(args) -> int:
    from dermatox.accounts.staff import member_deactivate
    from dermatox.common.context import Actor
    from dermatox.common.errors import InvalidInput

    user = _user(args.username)
    if user is None:
        return _err(f"USERNAME: no user named {args.username!r}")
    clinic = None
    if args.clinic:
        clinic = _clinic(args.clinic)
        if clinic is None:
            return _err(f"--clinic: no clinic with code {args.clinic!r}")
    try:
        member_deactivate(actor=Actor.system(clinic=clinic), user=user, clinic=clinic)
    except InvalidInput as exc:
        return _err(f"--clinic: {' '.join(exc.fields.get('clinic', [exc.message]))}")
    user.refresh_from_db()
    where = f"in {clinic.code}" if clinic else "in every clinic"
    state = "account disabled" if not user.is_active else "still active elsewhere"
    print(f"Deactivated {user.username} {where} ({state}); their sessions ended.")
    return 0


def cmd_user_reactivate(args) -> int:
    from dermatox.accounts.staff import member_reactivate
    from dermatox.common.context import Actor
    from dermatox.common.errors import InvalidInput

    user = _user(args.username)
    if user is None:
        return _err(f"USERNAME: no user named {args.username!r}")
    clinic = _clinic(args.clinic)
    if clinic is None:
        return _err(f"--clinic: no clinic with code {args.clinic!r}")
    try:
        member_reactivate(actor=Actor.system(clinic=clinic), user=user, clinic=clinic)
    except InvalidInput as exc:
        return _err(f"--clinic: {' '.join(exc.fields.get('clinic', [exc.message]))}")
    print(f"Reactivated {user.username} in {clinic.code}.")
    return 0


def cmd_user_sign_out(args) -> int:
    from dermatox.accounts.services import user_sign_out_everywhere
    from dermatox.common.context import Actor

    user = _user(args.username)
    if user is None:
        return _err(f"USERNAME: no user named {args.username!r}")
    user_sign_out_everywhere(actor=Actor.system(), user=user)
    print(f"Every session of {user.username} has ended.")
    return 0


def cmd_clinic_second_factor(args) -> int:
    from dermatox.accounts.staff import clinic_second_factor_set
    from dermatox.common.context import Actor

    clinic = _clinic(args.code)
    if clinic is None:
        return _err(f"CODE: no clinic with code {args.code!r}")
    required = args.state == "on"
    clinic_second_factor_set(actor=Actor.system(clinic=clinic), clinic=clinic, required=required)
    if required:
        print(f"{clinic.code}: physicians, nurses, managers and system administrators need a second factor.")
    else:
        print(f"{clinic.code}: a second factor is no longer required (those who set one up still use it).")
    return 0


CLINIC_OPTIONS = {"code": "CODE", "name": "--name", "address": "--address", "phone": "--phone"}


def cmd_clinic_create(args) -> int:
    """A clinic's first setup on its own server: the clinic, then `createuser … --clinic CODE:manager`."""
    from dermatox.accounts.services import clinic_create
    from dermatox.common.context import Actor
    from dermatox.common.errors import InvalidInput

    if _clinic(args.code) is not None:
        return _err(f"CODE: a clinic with code {args.code!r} already exists")
    try:
        clinic = clinic_create(
            actor=Actor.system(),
            name=args.name,
            code=args.code,
            chain_name=args.chain,
            address=args.address or "",
            phone=args.phone or "",
        )
    except InvalidInput as exc:
        return _err(
            "; ".join(f"{CLINIC_OPTIONS.get(k, k)}: {' '.join(v)}" for k, v in exc.fields.items())
            or exc.message
        )
    print(
        f"Created clinic {clinic.code} ({clinic.name}); record numbers start at {clinic.code.upper()}-000001."
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="staff accounts: reset a password or second factor, deactivate, sign out")
    user = p.add_subparsers(dest="user_command", required=True)
    u = user.add_parser("reset-password", help="print a temporary password; it must be changed at sign-in")
    u.add_argument("username")
    u.set_defaults(func=cmd_user_reset_password)
    u = user.add_parser("reset-2fa", help="remove the user's authenticator app and recovery codes")
    u.add_argument("username")
    u.set_defaults(func=cmd_user_reset_2fa)
    u = user.add_parser("deactivate", help="end the user's work in one clinic, or in all (account disabled)")
    u.add_argument("username")
    u.add_argument("--clinic", help="clinic code (default: every clinic, and the account is disabled)")
    u.set_defaults(func=cmd_user_deactivate)
    u = user.add_parser("reactivate", help="give back the user's membership of a clinic")
    u.add_argument("username")
    u.add_argument("--clinic", required=True, help="clinic code")
    u.set_defaults(func=cmd_user_reactivate)
    u = user.add_parser("sign-out", help="end every session of the user (sign out everywhere)")
    u.add_argument("username")
    u.set_defaults(func=cmd_user_sign_out)

    p = sub.add_parser("clinic", help="clinics: create one, change its settings")
    clinic = p.add_subparsers(dest="clinic_command", required=True)
    c = clinic.add_parser("create", help="create a clinic (its code prefixes its record numbers)")
    c.add_argument("code", help="short code, letters, digits and hyphens (e.g. nis)")
    c.add_argument("--name", required=True, help="the clinic's name as staff and patients see it")
    c.add_argument("--chain", help="the chain the clinic belongs to (created when new)")
    c.add_argument("--address")
    c.add_argument("--phone")
    c.set_defaults(func=cmd_clinic_create)
    c = clinic.add_parser(
        "second-factor", help="require a second factor of clinical and admin staff (on/off)"
    )
    c.add_argument("code", help="clinic code")
    c.add_argument("state", choices=["on", "off"])
    c.set_defaults(func=cmd_clinic_second_factor)
