from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet, Sum

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import PermissionDenied
from dermatox.inventory.models import Vial, Withdrawal


def vials_in_scope(actor: Actor) -> QuerySet[Vial]:
    """The clinic's vials, with their lot, for those who chart doses or manage the stock."""
    if not actor.can(Perm.CHART_ADMINISTRATION) and not actor.can(Perm.MANAGE_STAFF):
        raise PermissionDenied("Your role does not manage toxin stock")
    if actor.clinic is None:
        return Vial.objects.none()
    return Vial.objects.filter(lot__clinic_id=actor.clinic.pk).select_related("lot")


@dataclass(frozen=True)
class RecallLine:
    patient_id: str
    mrn: str
    name: str
    phone: str
    first_given: str
    units: str
    administrations: int
    # Of those, how many were withdrawn with their session (entered in error): a recall errs toward
    # including, so they stay listed, marked.
    entered_in_error: int = 0


def lot_recall(*, actor: Actor, lot_number: str, product: str | None = None) -> list[RecallLine]:
    """Every patient of the actor's clinic who received the lot (one indexed query, grouped by patient),
    administrations later marked entered in error included and counted apart."""
    if not actor.can(Perm.VIEW_CLINICAL):  # who received which toxin is clinical information
        raise PermissionDenied("Your role does not give access to treatment records")
    qs = Withdrawal.objects.filter(
        reason="administered",
        vial__lot__lot_number=lot_number.strip(),
        vial__lot__clinic=actor.clinic,
        patient__isnull=False,
    )
    if product:
        qs = qs.filter(vial__lot__product=product)
    rows = (
        qs.values(
            "patient_id", "patient__mrn", "patient__given_name", "patient__family_name", "patient__phone"
        )
        .annotate(
            first=Min("at"),
            units=Sum("units"),
            n=Count("id"),
            withdrawn=Count("id", filter=Q(entered_in_error_at__isnull=False)),
        )
        .order_by("patient__family_name", "patient__given_name")
    )
    lines = [
        RecallLine(
            str(r["patient_id"]),
            r["patient__mrn"],
            f"{r['patient__given_name']} {r['patient__family_name']}",
            r["patient__phone"],
            r["first"].date().isoformat(),
            f"{r['units'].normalize():f}",
            r["n"],
            r["withdrawn"],
        )
        for r in rows
    ]
    audit_record(
        actor=actor,
        action="lot.recall",
        detail={
            "lot": lot_number,
            "patients": len(lines),
            "patient_ids": [line.patient_id for line in lines],
        },
    )
    return lines
