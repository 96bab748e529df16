from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts import staff
from dermatox.accounts.models import Clinic, Membership, User
from dermatox.accounts.roles import Perm
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied


def memberships_for(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, active=True, user__is_active=True)
        .select_related("clinic")
        .order_by("clinic__name")
    )


def membership_get(user: User, clinic_id: int) -> Membership | None:
    return memberships_for(user).filter(clinic_id=clinic_id).first()


def clinics_for(user: User) -> QuerySet[Clinic]:
    return Clinic.objects.filter(memberships__user=user, memberships__active=True).order_by("name")


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
