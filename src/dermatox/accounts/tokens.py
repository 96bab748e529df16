"""API tokens: make one (the secret is shown once), revoke it, and turn a presented secret into an Actor.

The edge (REST, FHIR, bulk export) calls `token_actor` once per request and checks the scope it needs;
everything below it works with the Actor exactly as for a signed-in user, so clinic isolation and the role
table apply unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.models import ApiToken, Clinic, Membership, User
from dermatox.accounts.roles import Perm, Role
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, PermissionDenied

PREFIX = "dx_"
SCOPES = tuple(ApiToken.Scope.values)
API_ROLES = (Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.MANAGER)
# A token's last use is written at most this often (a busy integration must not write on every request).
LAST_USED_EVERY = dt.timedelta(minutes=5)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
) -> tuple[ApiToken, str]:
    """A new token acting as `user` with `role` in `clinic`. Managers (or the system) make tokens."""
    if not actor.can(Perm.MANAGE_STAFF):
        raise PermissionDenied("Your role may not make API tokens", code="permission_denied")
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["required, at most 100 characters"]
    if role not in API_ROLES:
        errors["role"] = [f"must be one of {', '.join(API_ROLES)}"]
    if not scopes or any(s not in SCOPES for s in scopes):
        errors["scopes"] = [f"one or more of {', '.join(SCOPES)}"]
    if not Membership.objects.filter(user=user, clinic=clinic, active=True).exists():
        errors["user"] = ["must be a member of the clinic"]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["must be in the future"]
    if errors:
        raise InvalidInput.from_fields(errors)
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
    audit_record(
        actor=actor, action="api_token.create", obj=token, detail={"scopes": token.scopes, "role": role}
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    if not actor.can(Perm.MANAGE_STAFF) or (actor.role != "system" and actor.clinic != token.clinic):
        raise PermissionDenied("Your role may not revoke this token", code="permission_denied")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token)
    return token


class TokenRejected(PermissionDenied):
    """No token, an unknown, expired or revoked one: the edge answers 401."""

    code = "unauthenticated"
    http_status = 401


def bearer_secret(authorization: str | None) -> str:
    scheme, _, secret = (authorization or "").partition(" ")
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
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not token.user.is_active
        or not Membership.objects.filter(user=token.user, clinic=token.clinic, active=True).exists()
    ):
        raise TokenRejected("This API token is not valid (unknown, expired or revoked)")
    if scope not in token.scopes:
        raise PermissionDenied(f"This token lacks the '{scope}' scope", code="insufficient_scope")
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
