"""Every read of patient data goes through here: clinic scoping and read auditing live in one place."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat, Length, Replace
from django.utils import timezone
from django.utils.translation import gettext as _

from dermatox.accounts.models import Clinic
from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.common.text import fold
from dermatox.patients.models import EmergencyAccess, Patient, PatientIdentifier


def patients_in_scope(actor: Actor) -> QuerySet[Patient]:
    """The only way to get at patients: those of the actor's current clinic, and only with a role that
    may see demographics. Everything patient-scoped filters through this."""
    if not actor.can(Perm.VIEW_DEMOGRAPHICS):
        raise PermissionDenied("Your role does not give access to patient records")
    if actor.clinic is None:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=actor.clinic.pk)


def patient_identifiers_in_scope(actor: Actor) -> QuerySet[PatientIdentifier]:
    """The current identifiers of the current patients of the actor's clinic (scoped as patients_in_scope):
    what the rows of a CSV file are matched on (import) and keyed by (export)."""
    return PatientIdentifier.objects.current().filter(patient__in=patients_in_scope(actor).current())


def patients_matching(
    actor: Actor, *, text: str = "", birth_date: dt.date | None = None
) -> QuerySet[Patient]:
    """The clinic's current patients whose folded name contains every word of `text` and born on
    `birth_date` (when given), in list order: family name, given name, record number (unique in the clinic),
    which the patient_clinic_name index serves.

    A name search gives the same order as an expression (`family_name || ''`): PostgreSQL then finds the
    matches through the trigram index and sorts them, instead of walking the clinic in name order until it
    has met a page of matches, which for a common surname late in the alphabet read most of the clinic."""
    qs = patients_in_scope(actor).current()
    terms = fold(text).split()
    for term in terms:
        qs = qs.filter(search_name__contains=term)
    if birth_date:
        qs = qs.filter(birth_date=birth_date)
    family = Concat("family_name", Value("")) if terms else F("family_name")
    return qs.order_by(family, "given_name", "mrn")


def patient_name_q(value: str) -> Q:
    """Patients a FHIR `name` search matches: some word of the folded "given family" name starts with the
    folded value (case- and accent-insensitive, FHIR string search's starts-with)."""
    term = fold(value)
    return Q(search_name__startswith=term) | Q(search_name__contains=f" {term}")


def patient_family_q(qs: QuerySet[Patient], value: str) -> Q:
    """Patients of `qs` whose folded family name starts with the folded value (FHIR `family`).

    `search_name` is "given family", folded: a family name that starts with the term puts " term" in it. So
    does a later word of a given name of two words ("Anna Maria") or of a family name ("Van Dyke"), and only
    a name with two spaces or more can be such a false match: those few are checked here in Python."""
    term = fold(value)
    q = Q(search_name__contains=f" {term}")
    spaces = Length("search_name") - Length(Replace("search_name", Value(" "), Value("")))
    suspects = (qs.filter(q).order_by().annotate(name_spaces=spaces).filter(name_spaces__gte=2)).values_list(
        "pk", "family_name"
    )
    wrong = [pk for pk, family in suspects if not fold(family).startswith(term)]
    return q & ~Q(pk__in=wrong) if wrong else q


def patient_identifier_q(*, system: str | None, value: str) -> Q:
    """Patients with a current identifier: `system` "mrn" (the record number), an IdentifierSystem value,
    or None (any of them); `value` "" is any value of that system. The record number is matched as the
    patient search matches it (case-insensitively)."""
    if system == "mrn":
        return Q(mrn__iexact=value) if value else Q()
    identifiers = PatientIdentifier.objects.current()
    if system is not None:
        identifiers = identifiers.filter(system=system)
    if value:
        identifiers = identifiers.filter(value=value)
    q = Q(pk__in=identifiers.values("patient_id"))
    return q | Q(mrn__iexact=value) if system is None else q


def patient_search(
    *, actor: Actor, text: str = "", birth_date: dt.date | None = None, identifier: str = "", limit: int = 50
) -> list[Patient]:
    qs = patients_matching(actor, text=text, birth_date=birth_date)
    terms = fold(text)
    identifier = identifier.strip()
    if identifier:
        qs = qs.filter(
            Q(mrn__iexact=identifier)
            | Q(identifiers__value=identifier, identifiers__entered_in_error_at__isnull=True)
        ).distinct()
    results = list(qs[:limit])
    if terms or birth_date or identifier:
        audit_record(
            actor=actor,
            action="patient.search",
            detail={
                "text": text[:100],
                "birth_date": birth_date.isoformat() if birth_date else "",
                "identifier": identifier[:64],
                "results": len(results),
                "patient_ids": [str(p.pk) for p in results],
            },
        )
    return results


def patients_recent(*, actor: Actor, limit: int = 25) -> list[Patient]:
    """The clinic's most recently changed records: the list staff see before they search."""
    patients = list(patients_in_scope(actor).current().order_by("-updated_at")[:limit])
    audit_record(
        actor=actor,
        action="patient.list",
        detail={"results": len(patients), "patient_ids": [str(p.pk) for p in patients]},
    )
    return patients


def _parse_uuid(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("No such patient") from exc


def patient_get(
    *,
    actor: Actor,
    patient_id,
    audit_as: str | None = "patient.view",
    detail: dict | None = None,
    emergency_read: bool = False,
):
    """One patient of the actor's clinic, or NotFound (also for another clinic's patient).

    `emergency_read=True` is for pages that only read (chart, timeline, outcomes, versions): there a
    physician's running emergency grant (`emergency_access_active`) widens the scope to that one patient of
    another clinic of the chain. Every other caller, and so every write, gets the clinic's own patients only;
    the grant holder is told the grant is read-only instead of "not found". The patient comes back with
    `emergency_access` set (the grant, or None): pages show the banner from it, and reads audit it."""
    pid = _parse_uuid(patient_id)
    patient = patients_in_scope(actor).select_related("clinic").filter(pk=pid).first()
    grant = None
    if patient is None:
        grant = emergency_access_active(actor=actor, patient_id=pid)
        if grant is None:
            raise NotFound("No such patient")
        if not emergency_read:
            raise PermissionDenied(
                _("Emergency access opens this record read-only, on its chart pages only.")
            )
        patient = grant.patient
    patient.emergency_access = grant
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=patient, detail=read_detail(patient, detail))
    return patient


def read_detail(patient: Patient, detail: dict | None = None) -> dict | None:
    """The audit detail of a read, flagged when the read went through an emergency grant: the grant, and the
    patient's clinic (whose manager sees the entry in the audit trail)."""
    grant = getattr(patient, "emergency_access", None)
    if grant is None:
        return detail
    return {**(detail or {}), "emergency_access_id": grant.pk, "patient_clinic_id": patient.clinic_id}


# --- emergency access (break-the-glass) -------------------------------------------------------------------


def emergency_access_available(actor: Actor) -> bool:
    """May the actor ask for emergency access at all: a physician whose clinic has sister clinics."""
    clinic = actor.clinic
    if (
        not actor.can(Perm.EMERGENCY_ACCESS)
        or actor.role == "system"
        or clinic is None
        or not clinic.chain_id
    ):
        return False
    return Clinic.objects.filter(chain_id=clinic.chain_id).exclude(pk=clinic.pk).exists()


def _grants_running(actor: Actor) -> QuerySet[EmergencyAccess]:
    """The actor's own grants that work now: same user, issued from the clinic they work in now, not ended
    and not run out, into a patient still in another clinic of the same chain, while they are a physician."""
    if not emergency_access_available(actor) or actor.acting_user is None:
        return EmergencyAccess.objects.none()
    now = timezone.now()
    return (
        EmergencyAccess.objects.filter(
            user=actor.acting_user,
            from_clinic=actor.clinic,
            ended_at__isnull=True,
            started_at__lte=now,
            ends_at__gt=now,
            patient__clinic__chain_id=actor.clinic.chain_id,
        )
        .exclude(patient__clinic_id=actor.clinic.pk)
        .select_related("patient", "patient__clinic")
    )


def emergency_access_active(*, actor: Actor, patient_id) -> EmergencyAccess | None:
    """The actor's running grant for this patient, if any (the latest ending, if several)."""
    return _grants_running(actor).filter(patient_id=patient_id).order_by("-ends_at").first()


def emergency_accesses_mine(actor: Actor) -> list[EmergencyAccess]:
    """The physician's running grants, for the emergency access page (names they were granted: not audited
    again as a read)."""
    return list(_grants_running(actor).order_by("ends_at"))


def emergency_accesses_for_clinic(*, actor: Actor, limit: int = 200) -> list[EmergencyAccess]:
    """For the manager: emergency accesses into the clinic's patients and by the clinic's physicians,
    newest first. Audited as a read naming the patients listed."""
    if not actor.can(Perm.MANAGE_STAFF):
        raise PermissionDenied(_("Your role may not do this."))
    clinic = actor.clinic
    grants = list(
        EmergencyAccess.objects.filter(Q(patient__clinic=clinic) | Q(from_clinic=clinic))
        .select_related("user", "from_clinic", "patient", "patient__clinic")
        .order_by("-started_at", "-pk")[:limit]
    )
    audit_record(
        actor=actor,
        action="patient.emergency_access_list",
        detail={"results": len(grants), "patient_ids": sorted({str(g.patient_id) for g in grants})},
    )
    return grants


def record_get(*, actor: Actor, patient: Patient, model, pk):
    """A record of one of the patient's child models, scoped through the patient."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such record") from exc
    if model is Patient:
        return patient
    record = model.objects.filter(patient=patient, pk=pk).first()
    if record is None:
        raise NotFound("No such record")
    return record
