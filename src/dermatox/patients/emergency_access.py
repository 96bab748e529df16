"""Break-the-glass writes: a physician opens a patient of another clinic of the same chain.

Only with a stated reason, for a limited time, read-only, and audited as such (docs/security/emergency-access.md).
The grant is found again by `selectors.patient_get(..., emergency_read=True)`: that is the only read it widens.
The lookup takes an exact record number or national ID, never a partial search across clinics, and a failed
lookup answers the same whether the patient is in another chain or nowhere.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, NotFound, PermissionDenied
from dermatox.common.text import clean_line
from dermatox.patients.models import EmergencyAccess, IdentifierSystem, Patient
from dermatox.patients.selectors import emergency_access_available

REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 500


def default_minutes() -> int:
    return settings.DERMATOX_EMERGENCY_ACCESS_MINUTES


def max_minutes() -> int:
    return settings.DERMATOX_EMERGENCY_ACCESS_MAX_MINUTES


def emergency_access_check(actor: Actor) -> str | None:
    """Why the actor may not ask for emergency access, in words; None when they may."""
    if not actor.can(Perm.EMERGENCY_ACCESS) or actor.role == "system":
        return _("Only a physician may use emergency access.")
    if not emergency_access_available(actor):
        return _("Your clinic has no other clinic in its chain.")
    return None


def _validated(*, patient_ref: str, reason: str, minutes) -> tuple[str, str, int]:
    """Every field's problem at once, each naming its rule."""
    errors: dict[str, list[str]] = {}
    ref = clean_line(patient_ref or "")
    reason = clean_line(reason or "")
    if not ref:
        errors["patient_ref"] = [_("Enter the patient's record number or national ID.")]
    if len(reason) < REASON_MIN_LENGTH:
        errors["reason"] = [
            _("State why you need this record, in at least %(n)d characters.") % {"n": REASON_MIN_LENGTH}
        ]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": REASON_MAX_LENGTH}]
    if minutes in (None, ""):
        minutes = default_minutes()
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= max_minutes():
        errors["minutes"] = [_("Between 1 and %(max)d minutes.") % {"max": max_minutes()}]
    if errors:
        raise InvalidInput.from_fields(errors)
    return ref, reason, minutes


def _find_in_sister_clinics(actor: Actor, ref: str) -> list[Patient]:
    """Exact record number or national ID, in the other clinics of the actor's chain only."""
    national_id = Q(
        identifiers__system=IdentifierSystem.NATIONAL_ID,
        identifiers__value=ref,
        identifiers__entered_in_error_at__isnull=True,
    )
    return list(
        Patient.objects.current()
        .filter(clinic__chain_id=actor.clinic.chain_id)
        .exclude(clinic_id=actor.clinic.pk)
        .filter(Q(mrn__iexact=ref) | national_id)
        .select_related("clinic")
        .distinct()[:2]
    )


def emergency_access_begin(
    *, actor: Actor, patient_ref: str, reason: str, minutes: int | str | None = None
) -> EmergencyAccess:
    """Open a read-only grant to one patient of a sister clinic, for `minutes` (default and maximum from the
    settings). Refusals are audited too (`patient.emergency_access_refused`): a lookup across clinics is
    worth a trace even when it finds nothing."""
    refusal = emergency_access_check(actor)
    if refusal:
        raise PermissionDenied(refusal)
    ref, reason, minutes = _validated(patient_ref=patient_ref, reason=reason, minutes=minutes)
    found = _find_in_sister_clinics(actor, ref)
    if len(found) != 1:
        audit_record(
            actor=actor,
            action="patient.emergency_access_refused",
            detail={"patient_ref": ref[:64], "reason": reason, "matches": "none" if not found else "several"},
        )
        if not found:
            # The same answer whether the patient is in another chain or does not exist.
            raise NotFound(
                _("No patient with this record number or national ID in the other clinics of your chain.")
            )
        raise InvalidInput.from_fields(
            {"patient_ref": [_("Several patients have this national ID; enter the record number instead.")]}
        )
    patient = found[0]
    now = timezone.now()
    with transaction.atomic():
        grant = EmergencyAccess.objects.create(
            user=actor.acting_user,
            from_clinic=actor.clinic,
            patient=patient,
            reason=reason,
            started_at=now,
            ends_at=now + dt.timedelta(minutes=minutes),
        )
        audit_record(
            actor=actor,
            action="patient.emergency_access",
            obj=grant,
            detail={
                "reason": reason,
                "minutes": minutes,
                "ends_at": grant.ends_at.isoformat(),
                "emergency_access_id": grant.pk,
                "patient_clinic_id": patient.clinic_id,
            },
        )
    return grant


@transaction.atomic
def emergency_access_end(*, actor: Actor, access_id) -> EmergencyAccess:
    """The physician ends their own grant before it runs out. Ending one already over changes nothing."""
    try:
        access_id = int(access_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such emergency access") from exc
    grant = (
        EmergencyAccess.objects.select_for_update()
        .filter(pk=access_id, user=actor.acting_user, from_clinic=actor.clinic)
        .first()
    )
    if grant is None:
        raise NotFound("No such emergency access")
    now = timezone.now()
    if grant.ended_at is None and grant.ends_at > now:
        EmergencyAccess.objects.filter(pk=grant.pk).update(ended_at=now)
        grant.ended_at = now
        audit_record(
            actor=actor,
            action="patient.emergency_access_end",
            obj=grant,
            detail={"emergency_access_id": grant.pk, "patient_clinic_id": grant.patient.clinic_id},
        )
    return grant
