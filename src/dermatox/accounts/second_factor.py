"""Second factor: a TOTP authenticator app (RFC 6238, through django-otp) and ten one-time recovery codes.

Who must use it: every clinical and administrative role (ROLES_REQUIRING) of a clinic that requires it
(Clinic.require_second_factor). Front desk is not required: it never sees clinical content (roles.py) and
often shares a desk; a front-desk user may still enrol, and whoever has enrolled is always asked.

The session is "verified" once a code was accepted (django_otp.login in the web layer); until then the
web middleware lets the user reach only the verify or setup page. Wrong codes are counted on the TOTP
device, so every session and address of the account shares the count: django-otp's back-off (1, 2, 4, 8 s)
and, after DERMATOX_2FA_LOCK_AFTER wrong codes in a row, a lock of DERMATOX_2FA_LOCK_MINUTES.

Recovery codes are stored as keyed hashes (HMAC with the secret key), never as typed, and each works once.
The TOTP secret itself is stored as django-otp stores it (hex in the database): see
docs/security/second-factor.md for what a database reader could do.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts.error_codes import AccountCode
from dermatox.accounts.models import Clinic, Membership, User
from dermatox.accounts.roles import Role
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import DermatoxError, InvalidInput

ROLES_REQUIRING = frozenset({Role.PHYSICIAN, Role.NURSE, Role.MANAGER, Role.SYSADMIN})
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: the codes are read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
_TOTP_SHAPE = re.compile(r"\d{6}")
_HASH_SALT = "dermatox.accounts.second_factor.recovery_code"


class SecondFactorLocked(DermatoxError):
    """Too many wrong codes: no code is tried until `until`."""

    code = AccountCode.SECOND_FACTOR_LOCKED
    http_status = 429

    def __init__(self, until: dt.datetime):
        seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
        if seconds > 90:
            message = _("Too many wrong codes. Try again in %(n)s minutes.") % {"n": math.ceil(seconds / 60)}
        else:
            message = _("Too many wrong codes. Try again in %(n)s seconds.") % {"n": seconds}
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class Status:
    enrolled: bool  # a confirmed authenticator app
    required: bool  # a clinic of the user requires it for the user's role there


def status(user: User) -> Status:
    """Both answers in one query: the middleware asks on every request until the session is verified."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            required=Exists(_requiring_memberships().filter(user=OuterRef("pk"))),
        )
        .values_list("enrolled", "required")
        .first()
    )
    return Status(*row) if row else Status(False, False)


def _requiring_memberships():
    return Membership.objects.filter(
        active=True, clinic__require_second_factor=True, role__in=ROLES_REQUIRING
    )


def required_for(user: User, clinic: Clinic | None = None) -> bool:
    """Must this user give a second factor (in `clinic`, or in any clinic they work in)?

    The middleware asks for the whole account: one password reaches every clinic of the user, and a
    verified session stays verified when the user switches clinic."""
    memberships = _requiring_memberships().filter(user=user)
    if clinic is not None:
        memberships = memberships.filter(clinic=clinic)
    return memberships.exists()


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment -----------------------------------------------------------------------------------------


def enrol_begin(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator the setup page shows (the same one on every reload until confirmed).
    An enrolled user may start again to move to a new phone; the old app works until the new one is
    confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as an inline SVG QR code: drawn here, never sent to an outside service."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", title=_("QR code for your authenticator app")
    )


def typed_secret(device: TOTPDevice) -> str:
    """The secret for typing into an app that cannot scan: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def enrol_confirm(*, actor: Actor, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """The first code from the new app confirms it; it replaces any earlier app and recovery codes.
    Returns the device (the caller marks the session verified) and the recovery codes, shown once."""
    code = _normalise(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        )
        if device is None:
            raise InvalidInput.from_fields({"code": [_("Start the setup again: no new app is waiting.")]})
        refusal = _refusal(device)
        if refusal is None and device.verify_token(code):  # a wrong or malformed code is counted
            replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(user)
            audit_record(
                actor=actor, action="auth.second_factor_enrolled", obj=user, detail={"replaced": replaced}
            )
            return device, codes
    _fail(actor, user, device, stage="enrol", refusal=refusal)


def recovery_codes_renew(*, actor: Actor, user: User) -> list[str]:
    """Ten new codes; the old ones stop working. Only for an enrolled user (in a verified session)."""
    if not is_enrolled(user):
        raise InvalidInput.from_fields({"code": [_("Set up an authenticator app first.")]})
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(actor=actor, action="auth.recovery_codes_renewed", obj=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _i in range(_RECOVERY_LENGTH))
        for _n in range(RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=_hash(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _hash(code: str, secret: str | None = None) -> str:
    # 16 hex characters: what django-otp's token column holds (64 bits of an HMAC keyed by the secret key).
    return salted_hmac(_HASH_SALT, code, secret=secret, algorithm="sha256").hexdigest()[:16]


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


# --- sign-in -------------------------------------------------------------------------------------------


def verify(*, actor: Actor, user: User, code: str) -> TOTPDevice | StaticDevice:
    """A code from the app (6 digits) or a recovery code (used up). Returns the device that accepted it,
    for django_otp.login; raises InvalidInput (wrong code) or SecondFactorLocked (too many)."""
    code = _normalise(code)
    with transaction.atomic():
        # Locked: two parallel guesses cannot both read the same failure count.
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            raise InvalidInput.from_fields({"code": [_("No authenticator app is set up for this account.")]})
        refusal = _refusal(device)
        matched = None
        if refusal is None:
            if _TOTP_SHAPE.fullmatch(code):
                matched = device if device.verify_token(code) else None  # counts a failure itself
            else:
                matched = _use_recovery_code(user, code)
                if matched is None:
                    device.throttle_increment()
                else:
                    device.throttle_reset()
        if matched is not None:
            method = "totp" if matched is device else "recovery_code"
            detail = {"method": method}
            if method == "recovery_code":
                detail["recovery_codes_left"] = recovery_codes_left(user)
            audit_record(actor=actor, action="auth.second_factor_verified", obj=user, detail=detail)
            return matched
    _fail(actor, user, device, stage="sign_in", refusal=refusal)


def _use_recovery_code(user: User, code: str) -> StaticDevice | None:
    if not code:
        return None
    hashes = [_hash(code)] + [_hash(code, secret=s) for s in settings.SECRET_KEY_FALLBACKS]
    token = (
        StaticToken.objects.select_for_update()
        .select_related("device")
        .filter(device__user=user, device__confirmed=True, token__in=hashes)
        .first()
    )
    if token is None:
        return None
    device = token.device
    token.delete()
    device.set_last_used_timestamp(commit=True)
    return device


def _refusal(device: TOTPDevice) -> dt.datetime | None:
    """Until when no code may be tried (the lock after too many, or django-otp's back-off), or None."""
    count, last = device.throttling_failure_count, device.throttling_failure_timestamp
    if count >= settings.DERMATOX_2FA_LOCK_AFTER and last is not None:
        until = last + dt.timedelta(minutes=settings.DERMATOX_2FA_LOCK_MINUTES)
        if until > timezone.now():
            return until
    allowed, info = device.verify_is_allowed()
    return None if allowed else info["locked_until"]


def _fail(actor: Actor, user: User, device: TOTPDevice, *, stage: str, refusal: dt.datetime | None):
    """Audit a refused code (after the failure count was committed) and raise."""
    device.refresh_from_db(fields=["throttling_failure_count", "throttling_failure_timestamp"])
    audit_record(
        actor=actor,
        action="auth.second_factor_failed",
        obj=user,
        detail={
            "stage": stage,
            "reason": "locked" if refusal else "wrong_code",
            "failures": device.throttling_failure_count,
        },
    )
    if refusal is not None:
        raise SecondFactorLocked(refusal)
    now_locked = _refusal(device)
    if now_locked is not None and device.throttling_failure_count >= settings.DERMATOX_2FA_LOCK_AFTER:
        raise SecondFactorLocked(now_locked)
    raise InvalidInput.from_fields({"code": [_("This code is not right (or was already used).")]})


# --- administration ------------------------------------------------------------------------------------


@transaction.atomic
def second_factor_reset(*, actor: Actor, user: User) -> None:
    """Remove the user's app and recovery codes (a lost phone) and end their sessions. Next sign-in, a
    user who must have a second factor sets up a new app. Managers of every clinic of the user, or the
    system (CLI)."""
    from dermatox.accounts.services import sessions_end
    from dermatox.accounts.staff import check_may_manage

    check_may_manage(actor, user, "reset_second_factor")
    had = is_enrolled(user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    sessions_end(user)
    audit_record(actor=actor, action="auth.second_factor_reset", obj=user, detail={"was_enrolled": had})
