from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from dermatox.accounts.models import Membership
from dermatox.accounts.roles import Perm
from dermatox.audit.models import AuditEntry
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import PermissionDenied

SORTABLE = {"seq", "at", "actor_username", "action", "patient_id", "ip", "object_type"}

# Keys of an entry's detail that any auditor may read: who, when, which records, what kind of change.
# Every other key (a session's protocol and points, units and doses given, a follow-up's pathway, the
# warnings acknowledged...) is clinical, shown only to a role that sees clinical records. An allow-list,
# so that a key added later stays hidden until someone decides it is not clinical.
NON_CLINICAL_DETAIL = frozenset(
    {
        # reads and searches
        "results", "patient_ids", "sections", "offset", "text", "birth_date", "today", "as_of", "type",
        "version", "versions", "patient_id", "user", "level", "types", "count",
        # demographics, identifiers, accounts, tokens
        "mrn", "changed", "system", "username", "roles", "code", "scopes", "role", "name", "expires_at",
        "replaces", "grace_hours", "old_stops_at", "clinic", "all",
        # appointments and follow-up status
        "start", "minutes", "practitioner", "follow_up", "from", "to", "status", "why",
        # stock (managers run it)
        "product", "vials", "vial_units", "diluent_ml", "beyond_use", "beyond_use_hours", "seed",
    }
)  # fmt: skip


def audit_entries(
    *,
    actor: Actor,
    patient_id=None,
    username: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    sort: str = "-seq",
) -> QuerySet[AuditEntry]:
    """The audit trail of the actor's clinic: its entries, plus sign-ins (and failed sign-ins) of its staff, plus
    other clinics' emergency accesses into its patients (flagged with `patient_clinic_id` by the selectors)."""
    if not actor.can(Perm.VIEW_AUDIT):
        raise PermissionDenied("Your role may not read the audit trail")
    staff = Membership.objects.filter(clinic=actor.clinic)
    staff_ids = list(staff.values_list("user_id", flat=True))
    staff_names = list(staff.values_list("user__username", flat=True))
    qs = AuditEntry.objects.filter(
        Q(clinic_id=actor.clinic.pk)
        | Q(clinic_id__isnull=True, actor_id__in=staff_ids)
        | Q(action="auth.login_failed", detail__username__in=staff_names)
        | Q(action__startswith="patient.", detail__patient_clinic_id=actor.clinic.pk)
    )
    if patient_id:
        qs = qs.filter(patient_id=patient_id)
    if username:
        qs = qs.filter(actor_username__iexact=username.strip())
    if action:
        qs = qs.filter(action__startswith=action.strip())
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    if sort.removeprefix("-") not in SORTABLE:
        sort = "-seq"
    audit_record(
        actor=actor, action="audit.view", detail={"patient_id": str(patient_id or ""), "user": username}
    )
    return qs.order_by(sort, "-seq")


# The stated reason of an emergency access is what the manager reviews it for (HIPAA §164.312(a)(2)(ii)).
EMERGENCY_DETAIL = frozenset({"reason", "patient_ref", "matches", "ends_at", "emergency_access_id"})


def audit_detail_shown(actor: Actor, detail: dict | None, action: str = "") -> dict:
    """An entry's detail as this auditor may read it: whole for a role that sees clinical records; for the
    others (managers, sysadmins) only the non-clinical keys — and an emergency access's reason — and a note
    that the rest is withheld."""
    detail = dict(detail or {})
    if actor.can(Perm.VIEW_CLINICAL):
        return detail
    allowed = NON_CLINICAL_DETAIL | (
        EMERGENCY_DETAIL if action.startswith("patient.emergency_access") else set()
    )
    shown = {k: v for k, v in detail.items() if k in allowed}
    if len(shown) < len(detail):
        shown[_("clinical detail")] = _("not shown for your role")
    return shown
