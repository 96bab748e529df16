"""API tokens: make one (the secret is shown once), revoke or rotate it, and turn a presented secret into an
Actor.

The edge (REST, FHIR, bulk export) calls `token_actor` once per request and checks the scope it needs;
everything below it works with the Actor exactly as for a signed-in user, so clinic isolation and the role
table apply unchanged.

A token acts with one role, and that role must be the one its user holds in the token's clinic: when it is
made, when it is rotated, and on every request (a front-desk user cannot be given a physician's token, and
a token stops working the moment its user's membership is deactivated or their role changes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dermatox.accounts.error_codes import AccountCode
from dermatox.accounts.models import ApiToken, Clinic, Membership, User
from dermatox.accounts.roles import Perm, Role
from dermatox.accounts.token_limits import DEFAULT_LIFETIME_DAYS, MAX_GRACE_HOURS, MAX_LIFETIME_DAYS
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import CommonCode, Conflict, InvalidInput, PermissionDenied

PREFIX = "dx_"
SCOPES = tuple(ApiToken.Scope.values)
API_ROLES = (Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.MANAGER)
# A token's last use is written at most this often (a busy integration must not write on every request).
LAST_USED_EVERY = dt.timedelta(minutes=5)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def role_held(user: User | int, clinic: Clinic | int, role: str) -> bool:
    """Whether `user` is an active member of `clinic` with exactly this role."""
    return Membership.objects.filter(
        user=user, clinic=clinic, role=role, active=True, user__is_active=True
    ).exists()


def _require_manager(actor: Actor, clinic: Clinic) -> None:
    """Managers (and sysadmins) of the token's clinic, or the system (the CLI), manage its tokens."""
    own_clinic = actor.role == "system" or (actor.clinic is not None and actor.clinic.pk == clinic.pk)
    if not actor.can(Perm.MANAGE_STAFF) or not own_clinic:
        raise PermissionDenied(_("Your role may not manage API tokens."), code=CommonCode.PERMISSION_DENIED)


def _expiry(expires_at: dt.datetime | None, no_expiry: bool, errors: dict) -> dt.datetime | None:
    now = timezone.now()
    if no_expiry:
        if expires_at is not None:
            errors["expires_at"] = [_("give an expiry or no expiry, not both")]
        return None
    if expires_at is None:
        return now + dt.timedelta(days=DEFAULT_LIFETIME_DAYS)
    if expires_at <= now:
        errors["expires_at"] = [_("must be in the future")]
    elif expires_at > now + dt.timedelta(days=MAX_LIFETIME_DAYS):
        errors["expires_at"] = [_("at most %(days)s days ahead") % {"days": MAX_LIFETIME_DAYS}]
    return expires_at


def _validate(*, clinic: Clinic, user: User, name: str, role: str, scopes: list[str]) -> dict:
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [_("required, at most 100 characters")]
    if role not in API_ROLES:
        errors["role"] = [_("must be one of %(roles)s") % {"roles": ", ".join(API_ROLES)}]
    if not scopes or any(s not in SCOPES for s in scopes):
        errors["scopes"] = [_("one or more of %(scopes)s") % {"scopes": ", ".join(SCOPES)}]
    membership = Membership.objects.filter(
        user=user, clinic=clinic, active=True, user__is_active=True
    ).first()
    if membership is None:
        errors["user"] = [_("must be an active member of the clinic")]
    elif "role" not in errors and membership.role != role:
        # The attack this stops: a front-desk user given a physician's token reads clinical records.
        errors["role"] = [
            _("%(user)s holds the role %(held)s in this clinic, not %(role)s")
            % {"user": user.get_username(), "held": membership.get_role_display(), "role": Role(role).label}
        ]
    return errors


def _mint(
    *, actor: Actor, clinic: Clinic, user: User, name: str, role: str, scopes, expires_at
) -> tuple[ApiToken, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        clinic=clinic,
        user=user,
        role=role,
        name=name,
        scopes=sorted(set(scopes)),
        prefix=secret[: len(PREFIX) + 6],
        token_hash=_hash(secret),
        created_by=actor.acting_user,
        expires_at=expires_at,
    )
    return token, secret


@transaction.atomic
def api_token_create(
    *,
    actor: Actor,
    clinic: Clinic,
    user: User,
    name: str,
    role: str,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
    no_expiry: bool = False,
) -> tuple[ApiToken, str]:
    """A new token acting as `user` with `role` (the role the user holds) in `clinic`. It expires at
    `expires_at`, by default in 90 days; only `no_expiry=True` makes one that never does."""
    _require_manager(actor, clinic)
    name = (name or "").strip()
    errors = _validate(clinic=clinic, user=user, name=name, role=role, scopes=scopes)
    expires_at = _expiry(expires_at, no_expiry, errors)
    if errors:
        raise InvalidInput.from_fields(errors)
    token, secret = _mint(
        actor=actor, clinic=clinic, user=user, name=name, role=role, scopes=scopes, expires_at=expires_at
    )
    audit_record(
        actor=actor,
        action="api_token.create",
        obj=token,
        detail={
            "scopes": token.scopes,
            "role": role,
            "user": user.get_username(),
            "expires_at": expires_at.isoformat() if expires_at else "never",
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Stop a token at once. Revoking one already revoked changes nothing (and writes nothing)."""
    _require_manager(actor, token.clinic)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token, detail={"name": token.name})
    return token


@transaction.atomic
def api_token_rotate(
    *,
    actor: Actor,
    token: ApiToken,
    grace_hours: int = 0,
    expires_at: dt.datetime | None = None,
    no_expiry: bool = False,
) -> tuple[ApiToken, str]:
    """A new secret for the same user, role, clinic, name and scopes; the old token stops at once, or
    `grace_hours` from now. The old one is linked to its successor (`replaced_by`). Only an active,
    not yet replaced token is rotated, and only while its user still holds its role."""
    _require_manager(actor, token.clinic)
    old = ApiToken.objects.select_for_update().select_related("clinic", "user").get(pk=token.pk)
    now = timezone.now()
    if old.replaced_by_id is not None:
        raise Conflict(
            _("This token was already rotated; rotate its replacement."), code=AccountCode.TOKEN_REPLACED
        )
    if old.status_at(now) != ApiToken.Status.ACTIVE:
        raise Conflict(
            _("Only an active token can be rotated (this one is %(status)s).")
            % {"status": ApiToken.Status(old.status_at(now)).label},
            code=AccountCode.TOKEN_INACTIVE,
        )
    errors = _validate(clinic=old.clinic, user=old.user, name=old.name, role=old.role, scopes=old.scopes)
    if not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
        errors["grace"] = [_("a whole number of hours from 0 to %(max)s") % {"max": MAX_GRACE_HOURS}]
    expires_at = _expiry(expires_at, no_expiry, errors)
    if errors:
        raise InvalidInput.from_fields(errors)
    new, secret = _mint(
        actor=actor,
        clinic=old.clinic,
        user=old.user,
        name=old.name,
        role=old.role,
        scopes=old.scopes,
        expires_at=expires_at,
    )
    old.replaced_by = new
    if grace_hours == 0:
        old.revoked_at = now
    else:
        ends = now + dt.timedelta(hours=grace_hours)
        old.expires_at = min(old.expires_at, ends) if old.expires_at else ends
    old.save(update_fields=["replaced_by", "revoked_at", "expires_at"])
    audit_record(
        actor=actor,
        action="api_token.rotate",
        obj=new,
        detail={
            "replaces": old.pk,
            "grace_hours": grace_hours,
            "old_stops_at": (old.revoked_at or old.expires_at).isoformat(),
            "expires_at": expires_at.isoformat() if expires_at else "never",
        },
    )
    return new, secret


class TokenRejected(PermissionDenied):
    """No token, an unknown, expired or revoked one: the edge answers 401."""

    code = CommonCode.UNAUTHENTICATED
    http_status = 401


def bearer_secret(authorization: str | None) -> str:
    scheme, _sep, secret = (authorization or "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def token_actor(secret: str, *, scope: str, ip: str | None = None, user_agent: str = "") -> Actor:
    """The Actor a presented secret stands for, if it may use `scope`. Raises TokenRejected (401) or
    PermissionDenied (403: a valid token without the scope)."""
    if not secret.startswith(PREFIX):
        raise TokenRejected("A valid API token is required (Authorization: Bearer dx_…)")
    token = ApiToken.objects.select_related("clinic", "user").filter(token_hash=_hash(secret)).first()
    now = timezone.now()
    if (
        token is None
        or token.status_at(now) != ApiToken.Status.ACTIVE
        # Checked on every request: a changed or deactivated membership ends the token's power at once.
        or not role_held(token.user, token.clinic, token.role)
    ):
        raise TokenRejected("This API token is not valid (unknown, expired or revoked)")
    if scope not in token.scopes:
        raise PermissionDenied(f"This token lacks the '{scope}' scope", code=CommonCode.INSUFFICIENT_SCOPE)
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Actor(
        user=token.user,
        clinic=token.clinic,
        role=token.role,
        ip=ip,
        user_agent=user_agent[:200],
        channel="api",
        token_id=token.pk,
    )
