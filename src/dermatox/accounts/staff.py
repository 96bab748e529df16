"""Staff administration by a clinic's managers and system administrators (Perm.MANAGE_STAFF).

One rule decides who may act on whom (`refusal`), read by the staff page to show or explain each button
and enforced by every action here, so the page never offers what the service refuses:
- only members of the actor's own clinic are reachable (anyone else is "not found": isolation);
- nobody acts on their own account here (their own password and second factor are on "My account");
- a password or second-factor reset changes the whole account, which reaches every clinic the user works
  in: the actor must manage staff in each of them (or be the system, on the command line);
- deactivation is per clinic: the membership ends; the account itself is disabled once no active
  membership is left (Django then refuses its sign-in, and accounts.tokens refuses its API tokens).
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from dermatox.accounts.models import Clinic, Membership, User
from dermatox.accounts.roles import ROLE_PERMISSIONS, Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, NotFound, PermissionDenied

ACCOUNT_ACTIONS = ("reset_password", "reset_second_factor")
MEMBERSHIP_ACTIONS = ("deactivate", "reactivate")
# Temporary passwords: 4 groups of 5 from an unambiguous alphabet (about 98 bits), changed at sign-in.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def refusal(
    actor: Actor,
    target: User,
    action: str,
    *,
    target_memberships: list[Membership] | None = None,
    managed_clinic_ids: set[int] | None = None,
) -> str | None:
    """Why `actor` may not do `action` to `target` now, in words, or None if they may. A page listing many
    users passes each one's memberships and the actor's managed clinics, read once."""
    if actor.role == "system":
        return None
    if not actor.can(Perm.MANAGE_STAFF) or actor.clinic is None:
        return _("Your role may not manage staff.")
    if actor.user is not None and target.pk == actor.user.pk:
        if action == "deactivate":
            return _("You cannot deactivate yourself.")
        return _("Change your own password and second factor on My account.")
    if target_memberships is None:
        target_memberships = list(Membership.objects.filter(user=target))
    if action in ACCOUNT_ACTIONS:
        managed = managed_clinic_ids if managed_clinic_ids is not None else clinics_managed_by(actor)
        if any(m.active and m.clinic_id not in managed for m in target_memberships):
            return _(
                "Works in another clinic too: a manager of every clinic of this user, or the system "
                "administrator (dermatox user …), may do this."
            )
    here = next((m for m in target_memberships if m.clinic_id == actor.clinic.pk), None)
    if action == "deactivate" and here is not None and not here.active:
        return _("Already inactive.")
    if action == "reactivate" and here is not None and here.active:
        return _("Already active.")
    return None


def clinics_managed_by(actor: Actor) -> set[int]:
    """The clinics where the actor's user manages staff (an active membership with such a role)."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Perm.MANAGE_STAFF in perms]
    return set(
        Membership.objects.filter(user=actor.user, active=True, role__in=roles).values_list(
            "clinic_id", flat=True
        )
    )


def check_may_manage(actor: Actor, target: User, action: str) -> None:
    """Raise NotFound for a user outside the actor's clinic, PermissionDenied with the reason otherwise."""
    if actor.role != "system" and not Membership.objects.filter(user=target, clinic=actor.clinic).exists():
        raise NotFound(_("No such staff member in this clinic."))
    reason = refusal(actor, target, action)
    if reason:
        raise PermissionDenied(reason)


def temporary_password() -> str:
    groups = ("".join(secrets.choice(_TEMP_ALPHABET) for _i in range(5)) for _n in range(4))
    return "-".join(groups)


@transaction.atomic
def password_reset(*, actor: Actor, user: User) -> str:
    """A temporary password (returned once, to hand over); the user must choose a new one at the next
    sign-in. Every session of the user ends, and a sign-in lockout of the account is lifted."""
    from axes.utils import reset as axes_reset

    from dermatox.accounts.services import sessions_end

    check_may_manage(actor, user, "reset_password")
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    sessions_end(user)
    axes_reset(username=user.get_username())
    audit_record(actor=actor, action="auth.password_reset", obj=user)
    return password


@transaction.atomic
def member_deactivate(*, actor: Actor, user: User, clinic: Clinic | None = None) -> User:
    """End the user's membership of `clinic` (the actor's clinic on the web; every clinic when the system
    passes None). Their sessions end; the account is disabled when no active membership is left."""
    from dermatox.accounts.services import sessions_end

    check_may_manage(actor, user, "deactivate")
    clinic = clinic if actor.role == "system" else actor.clinic
    memberships = Membership.objects.filter(user=user, active=True)
    if clinic is not None:
        memberships = memberships.filter(clinic=clinic)
    ended = [m.clinic.code for m in memberships.select_related("clinic")]
    if not ended and user.is_active and clinic is not None:
        raise InvalidInput.from_fields({"clinic": [_("the user is not an active member of this clinic")]})
    memberships.update(active=False)
    disabled = not Membership.objects.filter(user=user, active=True).exists()
    if disabled and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    sessions_end(user)
    audit_record(
        actor=actor,
        action="accounts.member_deactivated",
        obj=user,
        detail={"clinics": ended, "account_disabled": disabled},
    )
    return user


@transaction.atomic
def member_reactivate(*, actor: Actor, user: User, clinic: Clinic | None = None) -> User:
    """Give back the membership of the actor's clinic (or `clinic`, for the system); the account works
    again. API tokens of that clinic work again too, unless revoked."""
    check_may_manage(actor, user, "reactivate")
    clinic = clinic if actor.role == "system" else actor.clinic
    membership = Membership.objects.filter(user=user, clinic=clinic).first()
    if membership is None:
        raise InvalidInput.from_fields({"clinic": [_("the user is not a member of this clinic")]})
    if not membership.active:
        membership.active = True
        membership.save(update_fields=["active"])
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    audit_record(actor=actor, action="accounts.member_reactivated", obj=user, detail={"clinic": clinic.code})
    return user


@transaction.atomic
def clinic_second_factor_set(*, actor: Actor, clinic: Clinic, required: bool) -> Clinic:
    """Require (or stop requiring) a second factor of the clinic's clinical and administrative staff.
    Already signed-in staff are asked on their next page."""
    if actor.role != "system" and (not actor.can(Perm.MANAGE_STAFF) or actor.clinic != clinic):
        raise PermissionDenied(_("Your role may not manage staff."))
    if clinic.require_second_factor != required:
        clinic.require_second_factor = required
        clinic.save(update_fields=["require_second_factor"])
        audit_record(
            actor=actor, action="clinic.second_factor_required", obj=clinic, detail={"required": required}
        )
    return clinic
