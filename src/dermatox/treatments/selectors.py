"""Reads of toxin sessions and their injection points by id, scoped to the actor's clinic through
`patients_in_scope` (another clinic's session does not exist for the actor: NotFound). Not audited here:
the caller audits the read it shows."""

from __future__ import annotations

from django.db.models import QuerySet

from dermatox.accounts.roles import Perm
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.selectors import patients_in_scope
from dermatox.treatments.models import InjectionPoint, TreatmentSession


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
