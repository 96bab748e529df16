from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts import staff
from dermatox.accounts.models import ApiToken, Clinic, Membership, User
from dermatox.accounts.roles import Perm
from dermatox.accounts.tokens import PREFIX
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, NotFound, PermissionDenied


def memberships_for(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, active=True, user__is_active=True)
        .select_related("clinic")
        .order_by("clinic__name")
    )


def membership_get(user: User, clinic_id: int) -> Membership | None:
    return memberships_for(user).filter(clinic_id=clinic_id).first()


def staff_in_scope(actor: Actor) -> QuerySet[User]:
    """Everyone who is or was a member of the actor's clinic (the records name them), each with
    `clinic_active`: whether that membership is active now. Another clinic's staff are not here."""
    if actor.clinic is None:
        return User.objects.none()
    here = Membership.objects.filter(user=OuterRef("pk"), clinic_id=actor.clinic.pk)
    return (
        User.objects.filter(Exists(here))
        .annotate(clinic_active=Exists(here.filter(active=True, user__is_active=True)))
        .order_by("pk")
    )


def clinic_in_scope(actor: Actor) -> QuerySet[Clinic]:
    """The actor's own clinic (as a one-row queryset), none for an actor without one."""
    if actor.clinic is None:
        return Clinic.objects.none()
    return Clinic.objects.filter(pk=actor.clinic.pk)


@dataclass(frozen=True)
class StaffRow:
    """One line of the staff page: the membership, whether the account has a second factor, and for each
    action the reason it is refused (None: offered)."""

    membership: Membership
    enrolled: bool
    refusals: dict[str, str | None]


def staff_of_clinic(actor: Actor) -> list[StaffRow]:
    """The actor's clinic's members (active or not), for managers; nobody else's."""
    if not actor.can(Perm.MANAGE_STAFF) or actor.clinic is None:
        raise PermissionDenied(_("Your role may not manage staff."))
    memberships = list(
        Membership.objects.filter(clinic=actor.clinic)
        .select_related("user")
        .prefetch_related("user__memberships")
        .annotate(enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)))
        .order_by("-active", "user__full_name", "user__username")
    )
    managed = staff.clinics_managed_by(actor)
    actions = staff.ACCOUNT_ACTIONS + staff.MEMBERSHIP_ACTIONS
    return [
        StaffRow(
            m,
            m.enrolled,
            {
                a: staff.refusal(
                    actor,
                    m.user,
                    a,
                    target_memberships=list(m.user.memberships.all()),
                    managed_clinic_ids=managed,
                )
                for a in actions
            },
        )
        for m in memberships
    ]


def staff_member_get(actor: Actor, user_id: int) -> User:
    """A member (active or not) of the actor's clinic; anyone else is not found."""
    user = User.objects.filter(pk=user_id, memberships__clinic=actor.clinic).first()
    if user is None or actor.clinic is None:
        raise NotFound(_("No such staff member in this clinic."))
    return user


# --- API tokens -------------------------------------------------------------------------------------------


@dataclass
class TokenRow:
    """A token as the manager's page and `dermatox token list` show it: never the secret or its hash."""

    token: ApiToken
    status: str

    @property
    def status_label(self) -> str:
        return str(ApiToken.Status(self.status).label)

    def as_dict(self) -> dict:
        t = self.token
        return {
            "id": t.pk,
            "prefix": t.prefix,
            "name": t.name,
            "clinic": t.clinic.code,
            "user": t.user.get_username(),
            "role": t.role,
            "scopes": t.scopes,
            "created_at": _iso(t.created_at),
            "created_by": t.created_by.get_username() if t.created_by else None,
            "expires_at": _iso(t.expires_at),
            "revoked_at": _iso(t.revoked_at),
            "last_used_at": _iso(t.last_used_at),
            "replaced_by": t.replaced_by_id,
            "status": self.status,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _tokens_in_scope(actor: Actor, clinic: Clinic | None = None) -> QuerySet[ApiToken]:
    """The tokens an actor manages: those of the actor's clinic (the system: every clinic, or `clinic`)."""
    if not actor.can(Perm.MANAGE_STAFF):
        raise PermissionDenied(_("Your role may not manage API tokens."))
    held = Membership.objects.filter(
        user=OuterRef("user"),
        clinic=OuterRef("clinic"),
        role=OuterRef("role"),
        active=True,
        user__is_active=True,
    )
    qs = ApiToken.objects.select_related("clinic", "user", "created_by").annotate(role_held=Exists(held))
    if actor.role != "system":
        if actor.clinic is None or (clinic is not None and clinic.pk != actor.clinic.pk):
            return qs.none()
        clinic = actor.clinic
    return qs.filter(clinic=clinic) if clinic is not None else qs


def _row(token: ApiToken, now: dt.datetime) -> TokenRow:
    status = token.status_at(now)
    if status == ApiToken.Status.ACTIVE and not token.role_held:
        status = ApiToken.Status.ROLE_NOT_HELD
    return TokenRow(token, status)


def api_token_rows(
    *, actor: Actor, clinic: Clinic | None = None, include_inactive: bool = False
) -> list[TokenRow]:
    """The one read of token lists (web page and CLI): working tokens, or with `include_inactive` also the
    revoked, expired and those whose user no longer holds their role. Audited as a list."""
    now = timezone.now()
    qs = _tokens_in_scope(actor, clinic)
    if not include_inactive:
        qs = qs.filter(revoked_at__isnull=True, role_held=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
    rows = [_row(t, now) for t in qs.order_by("clinic__code", "-created_at", "-pk")]
    audit_record(
        actor=actor,
        action="api_token.list",
        detail={
            "clinic": (clinic or actor.clinic).code if (clinic or actor.clinic) else "all",
            "all": include_inactive,
            "results": len(rows),
        },
    )
    return rows


def api_token_get(*, actor: Actor, ref: str | int) -> ApiToken:
    """One token the actor manages, by id or by the prefix of its secret (`dx_ab12cd`, as listed). NotFound
    for another clinic's or an unknown one; InvalidInput if a prefix matches several."""
    text = str(ref).strip()
    qs = _tokens_in_scope(actor)
    if text.isdigit():
        matches = list(qs.filter(pk=int(text))[:2])
    elif text.startswith(PREFIX) and len(text) > len(PREFIX):
        matches = list(qs.filter(prefix__startswith=text[: len(PREFIX) + 6])[:2])
    else:
        raise InvalidInput.from_fields({"token": [_("give a token's id or the prefix of its secret (dx_…)")]})
    if not matches:
        raise NotFound(_("No API token %(ref)s") % {"ref": text})
    if len(matches) > 1:
        raise InvalidInput.from_fields(
            {"token": [_("the prefix %(ref)s matches several tokens: use the id") % {"ref": text}]}
        )
    return matches[0]
