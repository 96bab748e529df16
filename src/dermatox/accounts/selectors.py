from django.db.models import QuerySet

from dermatox.accounts.models import Clinic, Membership, User


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
