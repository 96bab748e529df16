"""The only ways in: the appointments and the follow-ups of the actor's clinic."""

from __future__ import annotations

from django.utils.translation import gettext as _

from dermatox.accounts.roles import Perm
from dermatox.common.context import Actor
from dermatox.common.errors import PermissionDenied
from dermatox.patients.selectors import patients_in_scope
from dermatox.scheduling.models import Appointment
from dermatox.treatments.models import FollowUp


def appointments_in_scope(actor: Actor):
    """The only way to appointments: those of the actor's current clinic, for a role that may see them."""
    if not actor.can(Perm.VIEW_APPOINTMENTS):
        raise PermissionDenied(_("Your role does not give access to appointments."))
    if actor.clinic is None:
        return Appointment.objects.none()
    return Appointment.objects.current().filter(
        clinic_id=actor.clinic.pk, patient__entered_in_error_at__isnull=True
    )


def _follow_ups_in_scope(actor: Actor):
    """Current follow-ups of the clinic's current patients (one marked entered in error has none)."""
    return FollowUp.objects.current().filter(
        patient__in=patients_in_scope(actor), patient__entered_in_error_at__isnull=True
    )
