"""Roles and what each may do. One table, read by selectors, services and templates alike.

Least privilege: front desk and managers work with demographics and appointments but never see
clinical content; only physicians sign treatment plans; nurses/injectors chart administrations.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse / injector")
    FRONT_DESK = "front_desk", _("Front desk")
    MANAGER = "manager", _("Clinic manager")
    SYSADMIN = "sysadmin", _("System administrator")


class Perm:
    VIEW_DEMOGRAPHICS = "view_demographics"
    EDIT_DEMOGRAPHICS = "edit_demographics"
    VIEW_APPOINTMENTS = "view_appointments"
    EDIT_APPOINTMENTS = "edit_appointments"
    VIEW_CLINICAL = "view_clinical"
    EDIT_CLINICAL = "edit_clinical"
    RECORD_CONSENT = "record_consent"
    SIGN_PLAN = "sign_plan"
    CHART_ADMINISTRATION = "chart_administration"
    VIEW_AUDIT = "view_audit"
    MANAGE_STAFF = "manage_staff"
    # Break-the-glass: read a patient of another clinic of the same chain, with a reason, for a while.
    EMERGENCY_ACCESS = "emergency_access"


_FRONT = {Perm.VIEW_DEMOGRAPHICS, Perm.EDIT_DEMOGRAPHICS, Perm.VIEW_APPOINTMENTS, Perm.EDIT_APPOINTMENTS}
_CLINICAL = {Perm.VIEW_CLINICAL, Perm.EDIT_CLINICAL, Perm.RECORD_CONSENT}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PHYSICIAN: frozenset(
        _FRONT | _CLINICAL | {Perm.SIGN_PLAN, Perm.CHART_ADMINISTRATION, Perm.EMERGENCY_ACCESS}
    ),
    Role.NURSE: frozenset(_FRONT | _CLINICAL | {Perm.CHART_ADMINISTRATION}),
    Role.FRONT_DESK: frozenset(_FRONT | {Perm.RECORD_CONSENT}),
    Role.MANAGER: frozenset(
        {Perm.VIEW_DEMOGRAPHICS, Perm.VIEW_APPOINTMENTS, Perm.VIEW_AUDIT, Perm.MANAGE_STAFF}
    ),
    Role.SYSADMIN: frozenset({Perm.VIEW_AUDIT, Perm.MANAGE_STAFF}),
}


def role_has(role: str | None, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role or "", frozenset())
