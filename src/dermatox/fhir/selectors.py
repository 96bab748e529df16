"""What each FHIR resource type reads: a clinic-scoped queryset (always through `patients_in_scope`, or the
actor's clinic for the audit trail), the permission it needs, its search parameters and its mapper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.db.models.base import ModelState

from dermatox.accounts.models import Clinic, User
from dermatox.accounts.roles import Perm
from dermatox.accounts.selectors import clinic_in_scope, staff_in_scope
from dermatox.assessments.models import AssessmentSnapshot, Observation
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from dermatox.common.errors import PermissionDenied
from dermatox.common.text import fold
from dermatox.fhir import resources as R
from dermatox.fhir import systems as S
from dermatox.patients.models import Condition, Consent, IdentifierSystem
from dermatox.patients.selectors import (
    patient_family_q,
    patient_identifier_q,
    patient_name_q,
    patients_in_scope,
)
from dermatox.scheduling.models import Appointment
from dermatox.treatments.models import AdverseEvent, TreatmentSession
from dermatox.treatments.selectors import administrations_in_scope, sessions_in_scope


@dataclass(frozen=True)
class Spec:
    type: str
    perm: str
    queryset: Callable[[Actor], QuerySet]
    to_fhir: Callable
    patient_field: str | None = "patient_id"
    date_params: dict[str, str] = field(default_factory=dict)  # search param -> model field
    date_only: frozenset[str] = frozenset()  # fields that are DateFields
    last_updated: str | None = "fhir_updated"
    code: Callable[[str | None, str], Q] | None = None
    order: tuple[str, ...] = ("-pk",)
    history: bool = True
    uuid_id: bool = False
    entered_in_error: bool = True
    related: tuple[str, ...] = ()  # rows the mapper reads besides the record (joined)
    user: str | None = None  # the staff member the mapper names (joined for the API, cached for bulk)
    # Further search parameters: name -> (FHIR type, build(actor, scoped queryset, one value) -> Q); a
    # build raises ValueError for a value it cannot take (the edge answers 400 naming the parameter).
    params: dict[str, tuple[str, Callable[[Actor, QuerySet, str], Q]]] = field(default_factory=dict)

    def search_params(self) -> dict[str, str]:
        """Search parameter -> FHIR type: what the search view takes and the CapabilityStatement and the
        OpenAPI description advertise."""
        params = {"_id": "token"}
        if self.last_updated:
            params["_lastUpdated"] = "date"
        if self.patient_field and self.type != "Patient":
            params |= {"patient": "reference", "subject": "reference"}
        if self.code:
            params["code"] = "token"
        params |= {name: kind for name, (kind, _build) in self.params.items()}
        return params | dict.fromkeys(self.date_params, "date")

    def references(self) -> dict[str, str]:
        """Reference search parameter -> the type it points to: what `_include` follows from this type and
        `_revinclude` follows back to it."""
        if self.patient_field and self.type != "Patient":
            return {"patient": "Patient", "subject": "Patient"}
        return {}

    def _allowed(self, actor: Actor) -> QuerySet:
        if not actor.can(self.perm):
            raise PermissionDenied(f"Your role may not read {self.type} resources")
        return self.queryset(actor)

    def scoped(self, actor: Actor) -> QuerySet:
        """The records the actor may read, ready for the mapper (meta annotated, related rows joined)."""
        qs = self._allowed(actor)
        joins = self.related + ((self.user,) if self.user else ())
        if joins:
            qs = qs.select_related(*joins)
        return R.with_meta(qs) if self.history else qs

    def bulk_records(
        self, actor: Actor, *, since=None, compartment=False, until=None, patients=None
    ) -> Iterator:
        """The same records streamed in pk order, for bulk export. Instead of two subqueries per row for the
        meta and a join per row for the staff member: one grouped history query streamed alongside, and a
        cache of the (few) users. `compartment`: only records about a patient (Patient/Group level).
        Records marked entered in error are left out of a full export, as out of a search; an export
        `since` a time carries those withdrawn since, marked, so a client can retract what it holds.

        `until`: none changed after it (the export's transactionTime). `patients`: only records about
        these patients (ids, or a queryset of patients)."""
        qs = self._allowed(actor)
        if self.entered_in_error and since is None:
            qs = qs.filter(entered_in_error_at__isnull=True)
        if self.related:
            qs = qs.select_related(*self.related)
        if compartment and self.type != "Patient":
            qs = qs.filter(**{f"{self.patient_field}__isnull": False})
        if patients is not None:
            qs = qs.filter(**{f"{self.patient_field}__in": patients})
        if until is not None and (self.history or self.last_updated):
            qs = (
                qs.exclude(pk__in=qs.model.history.model.objects.filter(history_date__gt=until).values("id"))
                if self.history
                else qs.filter(**{f"{self.last_updated}__lte": until})
            )
        if since is not None and (self.history or self.last_updated):  # else: no change time, all of them
            qs = (
                R.changed_since(qs, since)
                if self.history
                else qs.filter(**{f"{self.last_updated}__gte": since})
            )
        qs = qs.order_by("pk")
        records = qs.iterator(chunk_size=R.BULK_CHUNK) if self.related else _instances(qs)
        if self.history:
            records = _with_meta(records, R.meta_rows(qs))
        if self.user:
            records = _with_users(records, self.user)
        return records


def _instances(qs: QuerySet) -> Iterator:
    """Model instances built straight from `.values()` rows, without `Model.__init__`, which is a third of a
    bulk export's time. Sound for these models: every concrete field (and annotation) is in the row, and no
    model here acts on the init signals."""
    model, db = qs.model, qs.db
    for row in qs.values().iterator(chunk_size=R.BULK_CHUNK):
        record = model.__new__(model)
        record.__dict__.update(row)
        record._state = state = ModelState()
        state.adding, state.db = False, db
        yield record


def _with_meta(records: Iterator, meta: Iterator[tuple]) -> Iterator:
    """Merge (id, version count, newest version date) rows, in the same pk order, onto the records."""
    row = next(meta, None)
    for record in records:
        pk = record.pk
        while row is not None and row[0] < pk:
            row = next(meta, None)
        record.fhir_version, record.fhir_updated = (row[1], row[2]) if row and row[0] == pk else (1, None)
        yield record


def _with_users(records: Iterator, path: str) -> Iterator:
    """Set the user at `path` ("recorded_by", "session__signed_by") on each record, each user read once."""
    *hops, name = path.split("__")
    cache: dict = {}
    for record in records:
        holder = record
        for hop in hops:
            holder = getattr(holder, hop)
        user_id = getattr(holder, f"{name}_id")
        if user_id is not None:
            if user_id not in cache:
                cache[user_id] = User.objects.get(pk=user_id)
            setattr(holder, name, cache[user_id])
        yield record


def _in_scope(model, actor: Actor, path: str = "patient") -> QuerySet:
    return model.objects.filter(**{f"{path}__in": patients_in_scope(actor)})


NOTHING = Q(pk__in=[])


def split_token(value: str) -> tuple[str | None, str]:
    """A FHIR token: `system|code` (the code in that system), `system|` (any code in it), `|code` (the code
    with no system: none of ours), `code` (in any system) -> (system, code); system None: any system."""
    system, bar, code = value.partition("|")
    if not bar:
        return None, value
    if not system and not code:
        raise ValueError("a token needs a code or a system ('|' alone)")
    return system, code


def _coded(field_name: str, code: str) -> Q:
    """The field holds `code`, or (code "") any code: the field is filled in."""
    return Q(**{field_name: code}) if code else ~Q(**{field_name: ""})


def _observation_code(system: str | None, code: str) -> Q:
    if system is None:
        return Q(code=code) | Q(loinc=code)
    return {S.OBSERVATION: _coded("code", code), S.LOINC: _coded("loinc", code)}.get(system, NOTHING)


def _condition_code(system: str | None, code: str) -> Q:
    by_system = {S.CONDITION: "code", S.ICD10: "icd10", S.SNOMED: "snomed"}
    if system is None:
        return Q(code=code) | Q(icd10=code) | Q(snomed=code)
    return _coded(by_system[system], code) if system in by_system else NOTHING


def _simple_code(system_url: str, field_name: str):
    def build(system: str | None, code: str) -> Q:
        return _coded(field_name, code) if system in (None, system_url) else NOTHING

    return build


# --- Patient's own search parameters (matching through the patients selectors) ---

_IDENTIFIER_KINDS = {f"{S.IDENTIFIER}/{kind}": kind for kind in IdentifierSystem.values}


def _patient_identifier(actor: Actor, _qs: QuerySet, value: str) -> Q:
    """`identifier`: `<system>|<value>`, `<value>` (any of ours), `<system>|` (any value of it). Systems:
    the clinic's record number (`…/sid/mrn/<clinic code>`) and our identifier types (`…/sid/<type>`)."""
    system, code = split_token(value)
    if system is None:
        return patient_identifier_q(system=None, value=code) if code else NOTHING
    mrn = f"{S.MRN}/{actor.clinic.code}" if actor.clinic else None
    if system == mrn:
        return patient_identifier_q(system="mrn", value=code)
    if system in _IDENTIFIER_KINDS:
        return patient_identifier_q(system=_IDENTIFIER_KINDS[system], value=code)
    return NOTHING  # another clinic's record numbers, or a system we do not hold


def _string(build):
    def checked(_actor: Actor, qs: QuerySet, value: str) -> Q:
        if not fold(value):
            raise ValueError("a value is required")
        return build(qs, value)

    return checked


PATIENT_PARAMS = {
    "identifier": ("token", _patient_identifier),
    "name": ("string", _string(lambda _qs, value: patient_name_q(value))),
    "family": ("string", _string(patient_family_q)),
}


SPECS: dict[str, Spec] = {
    s.type: s
    for s in [
        Spec(
            "Patient",
            Perm.VIEW_DEMOGRAPHICS,
            lambda a: patients_in_scope(a).prefetch_related("identifiers"),
            R.patient_to_fhir,
            related=("clinic",),
            patient_field="pk",
            date_params={"birthdate": "birth_date"},
            date_only=frozenset({"birth_date"}),
            order=("family_name", "given_name", "mrn"),  # unique in the clinic; the patient_clinic_name index
            uuid_id=True,
            params=PATIENT_PARAMS,
        ),
        Spec(
            "Condition",
            Perm.VIEW_CLINICAL,
            lambda a: _in_scope(Condition, a),
            R.condition_to_fhir,
            user="recorded_by",
            date_params={"recorded-date": "recorded_at", "onset-date": "onset_date"},
            date_only=frozenset({"onset_date"}),
            code=_condition_code,
            order=("-recorded_at", "-pk"),
        ),
        Spec(
            "Observation",
            Perm.VIEW_CLINICAL,
            lambda a: _in_scope(Observation, a),
            R.observation_to_fhir,
            user="recorded_by",
            date_params={"date": "effective_at"},
            code=_observation_code,
            order=("-effective_at", "-pk"),
        ),
        Spec(
            "Procedure",
            Perm.VIEW_CLINICAL,
            lambda a: sessions_in_scope(a, include_withdrawn=True).filter(
                status=TreatmentSession.Status.SIGNED
            ),
            R.procedure_to_fhir,
            user="signed_by",
            date_params={"date": "signed_at"},
            code=_simple_code(S.TOXIN_PROTOCOL, "protocol"),
            order=("-signed_at", "-pk"),
        ),
        Spec(
            "MedicationAdministration",
            Perm.VIEW_CLINICAL,
            lambda a: administrations_in_scope(a, include_withdrawn=True),
            R.medication_administration_to_fhir,
            related=("session__vial__lot", "withdrawal__vial__lot"),
            user="session__signed_by",
            patient_field="session__patient_id",
            date_params={"effective-time": "withdrawal__at"},
            code=_simple_code(S.TOXIN_PRODUCT, "session__product"),
            order=("-withdrawal__at", "pk"),
        ),
        Spec(
            "AdverseEvent",
            Perm.VIEW_CLINICAL,
            lambda a: _in_scope(AdverseEvent, a),
            R.adverse_event_to_fhir,
            user="recorded_by",
            date_params={"date": "onset"},
            date_only=frozenset({"onset"}),
            code=_simple_code(S.ADVERSE_EVENT, "kind"),
            order=("-onset", "-pk"),
        ),
        Spec(
            "Consent",
            Perm.RECORD_CONSENT,
            lambda a: _in_scope(Consent, a),
            R.consent_to_fhir,
            date_params={"date": "signed_at"},
            order=("-signed_at", "-pk"),
        ),
        Spec(
            "Appointment",
            Perm.VIEW_APPOINTMENTS,
            lambda a: _in_scope(Appointment, a).filter(clinic_id=a.clinic.pk),
            R.appointment_to_fhir,
            user="practitioner",
            date_params={"date": "start"},
            order=("-start", "-pk"),
        ),
        Spec(
            "CarePlan",
            Perm.VIEW_CLINICAL,
            lambda a: _in_scope(AssessmentSnapshot, a),
            R.careplan_to_fhir,
            user="signed_by",
            date_params={"date": "signed_at"},
            order=("-signed_at", "-pk"),
        ),
        Spec(
            "AuditEvent",
            Perm.VIEW_AUDIT,
            lambda a: AuditEntry.objects.filter(clinic_id=a.clinic.pk if a.clinic else -1),
            R.audit_event_to_fhir,
            date_params={"date": "at"},
            last_updated="at",
            order=("-seq",),
            history=False,
            entered_in_error=False,
        ),
        # The staff and the clinic the records reference (Practitioner/<id>, Organization/<id>,
        # Location/<id>): readable by every role that sees the schedule, the reading clinic's only.
        *(
            Spec(
                type_name,
                Perm.VIEW_APPOINTMENTS,
                queryset,
                mapper,
                patient_field=None,
                last_updated=None,
                order=("pk",),
                history=False,
                entered_in_error=False,
            )
            for type_name, queryset, mapper in (
                ("Practitioner", staff_in_scope, R.practitioner_to_fhir),
                ("Organization", clinic_in_scope, R.organization_to_fhir),
                ("Location", clinic_in_scope, R.location_to_fhir),
            )
        ),
    ]
}


def patient_id_of(spec: Spec, record) -> str | None:
    """The patient a record is about (None: an audit entry about no patient), for the read audit."""
    if spec.type == "Patient":
        return str(record.pk)
    if spec.type == "MedicationAdministration":
        return str(record.session.patient_id)
    patient_id = getattr(record, "patient_id", None)
    return str(patient_id) if patient_id else None


# Patient ids a page of records touches, for the read audit.
def patient_ids_of(spec: Spec, records) -> list[str]:
    if spec.type == "Patient":
        return [str(r.pk) for r in records]
    return sorted({pid for r in records if (pid := patient_id_of(spec, r))})


def record_id_lookup(spec: Spec) -> str:
    return "seq" if spec.type == "AuditEvent" else "pk"


def record_version(actor: Actor, spec: Spec, pk, *, lock: bool = False) -> str:
    """The record's meta.versionId now (as `with_meta` counts it); `lock`: hold its row until the
    transaction ends (PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers), so that an
    If-Match check and the update it guards see the same version."""
    qs = spec._allowed(actor).filter(pk=pk)
    if lock:
        list(qs.select_for_update().values_list("pk", flat=True))
    return str(qs.model.history.model.objects.filter(id=pk).count() or 1)


def conditional_create_lock(actor: Actor) -> None:
    """Serialise conditional creates of the actor's clinic (If-None-Exist): the match and the create run
    under the clinic row's lock, so two identical requests cannot both find nothing and both create."""
    if actor.clinic is not None:
        list(Clinic.objects.select_for_update().filter(pk=actor.clinic.pk).values_list("pk", flat=True))
