"""What the printed documents show: plain data composed from the record, scoped and audited as exports.

The documents package renders whatever it is given; these reads decide what that is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import AssessmentSnapshot, Observation
from dermatox.audit.services import audit_record
from dermatox.audit.writes import require
from dermatox.chart.assessment import result_in
from dermatox.chart.outcomes import Outcomes, patient_outcomes
from dermatox.clinical.regions import point_area, region_id
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound
from dermatox.patients.models import Consent, Encounter, Patient
from dermatox.patients.selectors import patient_get
from dermatox.treatments.models import FollowUp, TreatmentSession


@dataclass
class SessionSummary:
    session: TreatmentSession
    total_units: Decimal
    # region, units, points; the region as a map_regions.toml id ("scalp:frontalis") where it is one
    regions: list[tuple[str, Decimal, int]]
    lot: str = ""
    # The plan's warnings the signer went ahead despite: {warning, text, params?, reason, by_name, at}
    acknowledgements: list[dict] = field(default_factory=list)


def _acknowledgements(session: TreatmentSession) -> list[dict]:
    return [
        {**a, "at": parse_datetime(a["at"]) if a.get("at") else None} for a in session.acknowledgements or []
    ]


def _region_id(session: TreatmentSession, region: str) -> str:
    """Points keep the region without its map area (the protocol's); a CDS order's free-text site is no map
    region and stays as it was written."""
    return region_id(region, point_area(session.protocol)) or region


def _session_summaries(sessions: list[TreatmentSession]) -> list[SessionSummary]:
    out = []
    for session in sessions:
        regions: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])
        for point in session.points.all():
            if point.entered_in_error_at is None:
                region = _region_id(session, point.region)
                regions[region][0] += point.units
                regions[region][1] += 1
        lot = session.vial.lot.lot_number if session.vial_id else ""
        total = sum((r[0] for r in regions.values()), Decimal(0))
        out.append(
            SessionSummary(
                session,
                total,
                [(k, v[0], v[1]) for k, v in sorted(regions.items())],
                lot,
                _acknowledgements(session),
            )
        )
    return out


def _sessions(patient: Patient):
    return (
        TreatmentSession.objects.current()
        .filter(patient=patient)
        .select_related("vial__lot", "signed_by")
        .prefetch_related("points")
    )


def _consents(patient: Patient) -> list[Consent]:
    latest: dict[str, Consent] = {}
    for consent in patient.consents.current().order_by("-signed_at", "-pk"):
        latest.setdefault(consent.kind, consent)
    return list(latest.values())


@dataclass
class PlanDocument:
    patient: Patient
    snapshot: AssessmentSnapshot
    planned: list[SessionSummary]
    consents: list[Consent]
    result: dict  # the snapshot's result with every engine text in the patient's language
    given: list[SessionSummary] = field(default_factory=list)  # signed since the assessment's date


def plan_document(*, actor: Actor, patient_id, snapshot_id=None) -> PlanDocument:
    """The treatment plan: a signed assessment (the latest, or the one named), the doses planned (draft
    sessions), the sessions signed since the assessment's date (with the warnings acknowledged and why)
    and the consents. A plan is only printed from a signed assessment."""
    require(actor, Perm.VIEW_CLINICAL)
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    snapshots = patient.assessment_snapshots.current().select_related("signed_by")
    if snapshot_id and not str(snapshot_id).isdigit():
        raise NotFound("No such assessment")
    snapshot = snapshots.filter(pk=snapshot_id).first() if snapshot_id else snapshots.first()
    if snapshot is None:
        raise NotFound("No signed assessment: sign one on the Assessment page first.")
    planned = _session_summaries(list(_sessions(patient).filter(status="draft").order_by("created_at")))
    given = _session_summaries(
        list(
            _sessions(patient)
            .filter(status="signed", signed_at__date__gte=snapshot.as_of)
            .order_by("signed_at")
        )
    )
    audit_record(actor=actor, action="plan.export_pdf", obj=snapshot)
    result = result_in(snapshot.result, patient.preferred_language)
    return PlanDocument(patient, snapshot, planned, _consents(patient), result, given)


@dataclass
class AftercareDocument:
    patient: Patient
    summary: SessionSummary
    reviews: list[FollowUp]


def aftercare_document(*, actor: Actor, patient_id, session_id) -> AftercareDocument:
    require(actor, Perm.VIEW_CLINICAL)
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    session = _sessions(patient).filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session")
    reviews = []
    if session.signed_at:
        reviews = list(
            patient.follow_ups.current()
            .filter(source=f"protocol:{session.protocol}", created_at__gte=session.signed_at)
            .order_by("due_date")[:10]
        )
    audit_record(actor=actor, action="aftercare.export_pdf", obj=session)
    return AftercareDocument(patient, _session_summaries([session])[0], reviews)


@dataclass
class VisitDocument:
    patient: Patient
    encounter: Encounter
    observations: list[Observation]
    diagnoses: list = field(default_factory=list)
    sessions: list[SessionSummary] = field(default_factory=list)
    next_follow_ups: list[FollowUp] = field(default_factory=list)
    outcomes: Outcomes | None = None


def visit_document(*, actor: Actor, patient_id, encounter_id) -> VisitDocument:
    """One visit: its measurements, diagnoses made that day, toxin sessions signed that day, what is next,
    and the outcome plots up to now. Internal notes are not printed."""
    require(actor, Perm.VIEW_CLINICAL)
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    encounter = patient.encounters.current().select_related("practitioner").filter(pk=encounter_id).first()
    if encounter is None:
        raise NotFound("No such visit")
    day = timezone.localtime(encounter.start).date()
    observations = list(encounter.observations.current().order_by("code", "body_site"))
    diagnoses = list(patient.conditions.current().filter(category="diagnosis", recorded_at__date=day))
    sessions = _session_summaries(list(_sessions(patient).filter(status="signed", signed_at__date=day)))
    next_follow_ups = list(
        patient.follow_ups.current()
        .filter(status__in=["open", "booked"], due_date__gte=day)
        .order_by("due_date")[:5]
    )
    audit_record(actor=actor, action="visit.export_pdf", obj=encounter)
    return VisitDocument(
        patient,
        encounter,
        observations,
        diagnoses,
        sessions,
        next_follow_ups,
        patient_outcomes(actor=actor, patient=patient),
    )
