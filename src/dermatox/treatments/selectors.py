"""Reads of toxin sessions and their injection points by id, scoped to the actor's clinic through
`patients_in_scope` (another clinic's session does not exist for the actor: NotFound). Not audited here:
the caller audits the read it shows. And how a follow-up shows to each role (`follow_up_shown`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.selectors import patients_in_scope
from dermatox.treatments.models import FollowUp, InjectionPoint, TreatmentSession


def sessions_in_scope(actor: Actor, *, include_withdrawn: bool = False) -> QuerySet[TreatmentSession]:
    """Toxin sessions of the actor's clinic, for a role that sees clinical records: current ones, or with
    those marked entered in error too (`include_withdrawn`: a page or read by id shows them, marked)."""
    if not actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied("Your role does not give access to toxin sessions")
    qs = TreatmentSession.objects.filter(patient__in=patients_in_scope(actor))
    return qs if include_withdrawn else qs.current()


def session_get(
    *,
    actor: Actor,
    session_id,
    include_withdrawn: bool = False,
    patient=None,
    audit_as: str | None = None,
    detail: dict | None = None,
) -> TreatmentSession:
    """One toxin session of the actor's clinic (of `patient`, when given), or NotFound (also another
    clinic's, and one marked entered in error unless `include_withdrawn`). Audited as `audit_as` when given
    (a read shown to the user; a write's lookup is audited by the write)."""
    try:
        pk = int(session_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such session") from exc
    qs = sessions_in_scope(actor, include_withdrawn=include_withdrawn)
    if patient is not None:
        qs = qs.filter(patient=patient)
    session = (
        qs.select_related("patient", "vial__lot", "signed_by", "entered_in_error_by").filter(pk=pk).first()
    )
    if session is None:
        raise NotFound("No such session")
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=session, detail=detail)
    return session


def session_points_query(session_ids=None) -> QuerySet[InjectionPoint]:
    """The points a session shows, in charting order, with what was given at each (vial, lot): a draft's
    current points; a signed session's administered points — all of them once the session is withdrawn
    (they were withdrawn with it, and stay visible on it, marked)."""
    qs = InjectionPoint.objects.filter(
        Q(entered_in_error_at__isnull=True) | Q(withdrawal__isnull=False)
    ).select_related("withdrawal__vial__lot")
    if session_ids is not None:
        qs = qs.filter(session_id__in=session_ids)
    return qs.order_by("pk")


def session_points(session: TreatmentSession) -> list[InjectionPoint]:
    return list(session_points_query([session.pk]))


def administrations_in_scope(actor: Actor, *, include_withdrawn: bool = False) -> QuerySet[InjectionPoint]:
    """What was given: the injection points of signed sessions of the actor's clinic, each with its vial
    withdrawal. Those withdrawn with their session (entered in error) only when `include_withdrawn`."""
    if not actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied("Your role does not give access to toxin sessions")
    qs = InjectionPoint.objects.filter(
        session__patient__in=patients_in_scope(actor),
        session__status=TreatmentSession.Status.SIGNED,
        withdrawal__isnull=False,
    )
    return qs if include_withdrawn else qs.current()


def point_get(*, session: TreatmentSession, point_id) -> InjectionPoint:
    """A current injection point of this session (one removed or of another session: NotFound)."""
    try:
        pk = int(point_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such point") from exc
    point = InjectionPoint.objects.current().filter(session_id=session.pk, pk=pk).first()
    if point is None:
        raise NotFound("No such point")
    return point


# --- follow-ups, as each reader may see them -------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpShown:
    """A follow-up as one reader may see it. Booking needs who, when and which kind of visit (`visit`); the
    clinical reason and where it came from (a protocol, a pathway) are for roles that see clinical records,
    and are None for the others (front desk, managers) — on the recall list, the chart, the appointment
    page and the REST API alike."""

    id: int
    patient_id: object
    due_date: dt.date
    status: str
    status_label: str
    visit: str
    reason: str | None
    source: str | None
    source_label: str | None
    created_at: dt.datetime


def follow_up_visit_label(source: str) -> str:
    """The kind of visit to book, in the reader's language, told from where the follow-up came from but
    naming no protocol, pathway or treatment."""
    kind = (source or "").partition(":")[0]
    if kind == "protocol":
        return _("Review after a treatment session")
    if kind == "pathway":
        return _("Treatment progress review")
    return _("Follow-up visit")


def follow_up_source_label(source: str) -> str:
    """`protocol:glabellar_lines` -> "Protocol: Glabellar lines (label)"; `pathway:…` likewise (clinical)."""
    from dermatox.clinical.reference import by_id

    kind, _sep, ref = (source or "").partition(":")
    tr = (get_language() or "en").startswith("tr")
    if kind == "protocol":
        row = by_id("toxin_protocols.toml").get(ref, {})
        name = row.get("display_tr" if tr else "display") or row.get("display") or ref
        return _("Protocol: %(name)s") % {"name": name}
    if kind == "pathway":
        row = by_id("treatments.toml").get(ref, {})
        name = row.get("display_tr" if tr else "display") or row.get("display") or ref
        return _("Pathway: %(name)s") % {"name": name}
    if kind == "demo":
        return _("Demo data")
    return source or _("Added by hand")


def follow_up_shown(actor: Actor, follow_up: FollowUp) -> FollowUpShown:
    """The one way any reader (page, REST, recall list) turns a follow-up into what it shows."""
    clinical = actor.can(Perm.VIEW_CLINICAL)
    return FollowUpShown(
        id=follow_up.pk,
        patient_id=follow_up.patient_id,
        due_date=follow_up.due_date,
        status=follow_up.status,
        status_label=str(follow_up.get_status_display()),
        visit=str(follow_up_visit_label(follow_up.source)),
        reason=follow_up.reason if clinical else None,
        source=follow_up.source if clinical else None,
        source_label=str(follow_up_source_label(follow_up.source)) if clinical else None,
        created_at=follow_up.created_at,
    )


def appointment_reason_shown(actor: Actor, appointment) -> str:
    """An appointment's reason for visit as this reader may see it. One booked from a follow-up carried the
    follow-up's clinical reason (before bookings stopped copying it): non-clinical readers see the kind of
    visit instead."""
    if appointment.follow_up_id is None or actor.can(Perm.VIEW_CLINICAL):
        return appointment.reason
    return str(follow_up_visit_label(appointment.follow_up.source))
