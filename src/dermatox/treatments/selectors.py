"""Reads of toxin sessions and their injection points by id, scoped to the actor's clinic through
`patients_in_scope` (another clinic's session does not exist for the actor: NotFound). Not audited here:
the caller audits the read it shows. And how a follow-up shows to each role (`follow_up_shown`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dermatox.accounts.roles import Perm
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.selectors import patients_in_scope
from dermatox.treatments.models import FollowUp, InjectionPoint, TreatmentSession


def sessions_in_scope(actor: Actor) -> QuerySet[TreatmentSession]:
    """Current (not entered-in-error) toxin sessions of the actor's clinic, for a role that sees clinical
    records."""
    if not actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied("Your role does not give access to toxin sessions")
    return TreatmentSession.objects.current().filter(patient__in=patients_in_scope(actor))


def session_get(*, actor: Actor, session_id) -> TreatmentSession:
    """One toxin session of the actor's clinic, or NotFound (also for another clinic's)."""
    try:
        pk = int(session_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such session") from exc
    session = sessions_in_scope(actor).select_related("patient", "vial__lot").filter(pk=pk).first()
    if session is None:
        raise NotFound("No such session")
    return session


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
