"""Outcome reads: a patient's repeated measures with their treatment sessions, and the clinic's cohort.

Each read is a fixed number of queries, however long the history or large the clinic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Min
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import AssessmentSnapshot, Observation
from dermatox.audit.services import audit_record
from dermatox.audit.writes import require
from dermatox.clinical.outcomes import (
    PER_SITE,
    PROTOCOL_OUTCOMES,
    REPEATED_MEASURES,
    Change,
    CohortChange,
    before_and_after,
    change_from_baseline,
    cohort_changes,
)
from dermatox.common.context import Actor
from dermatox.patients.models import Patient
from dermatox.treatments.models import TreatmentSession
from dermatox.treatments.selectors import sessions_in_scope


@dataclass
class Series:
    code: str
    site: str
    unit: str
    points: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    change: Change | None = None


@dataclass
class SessionMark:
    on: dt.date
    protocol: str


@dataclass
class Outcomes:
    series: list[Series]
    sessions: list[SessionMark]


def patient_outcomes(*, actor: Actor, patient: Patient) -> Outcomes:
    """Every repeated measure of the patient (one series per measure and site) and the signed sessions.
    Two queries. The caller has already read the patient through the scoped selector."""
    require(actor, Perm.VIEW_CLINICAL)
    rows = (
        Observation.objects.current()
        .filter(patient=patient, code__in=REPEATED_MEASURES, value_number__isnull=False)
        .order_by("effective_at", "pk")
        .values_list("code", "body_site", "unit", "value_number", "effective_at")
    )
    by_key: dict[tuple[str, str], Series] = {}
    for code, site, unit, value, at in rows:
        key = (code, site if code in PER_SITE else "")
        series = by_key.setdefault(key, Series(code, key[1], unit))
        series.points.append((timezone.localdate(at), value))
    order = {code: i for i, code in enumerate(REPEATED_MEASURES)}
    ordered = sorted(by_key.values(), key=lambda s: (order[s.code], s.site))
    for series in ordered:
        series.change = change_from_baseline(series.points)
    sessions = [
        SessionMark(timezone.localdate(at), protocol)
        # The caller read the patient through the scoped selector (an emergency grant included), so the
        # patient's own sessions: sessions_in_scope would narrow to the actor's clinic.
        for at, protocol in TreatmentSession.objects.current()
        .filter(patient=patient, status="signed")
        .order_by("signed_at")
        .values_list("signed_at", "protocol")
    ]
    return Outcomes(ordered, sessions)


@dataclass
class Cohort:
    patients: int
    per_pathway: dict[str, int]
    sessions_per_protocol: list[tuple[str, int]]
    changes: list[CohortChange]


def clinic_cohort(*, actor: Actor) -> Cohort:
    """Simple cohort figures for the actor's clinic. Audited as a clinic-level report (no patient ids)."""
    require(actor, Perm.VIEW_CLINICAL)
    clinic = actor.clinic
    patients = Patient.objects.current().filter(clinic=clinic).count()

    # Pathways: the latest signed assessment of each patient, areas with a recommended or optional treatment.
    per_pathway: dict[str, int] = defaultdict(int)
    latest: dict = {}
    for patient_id, result in (
        AssessmentSnapshot.objects.current()
        .filter(patient__clinic=clinic)
        .order_by("patient_id", "-signed_at")
        .values_list("patient_id", "result")
    ):
        latest.setdefault(patient_id, result)
    for result in latest.values():
        areas = {
            r["area"] for r in result.get("recommendations", []) if r["status"] in ("recommended", "option")
        }
        for area in areas:
            per_pathway[area] += 1

    signed = sessions_in_scope(actor).filter(status="signed")
    sessions_per_protocol = list(
        signed.values("protocol")
        .annotate(n=Count("id"))
        .order_by("-n", "protocol")
        .values_list("protocol", "n")
    )
    first_sessions = list(
        signed.filter(protocol__in=PROTOCOL_OUTCOMES)
        .values("patient_id", "protocol")
        .annotate(first=Min("signed_at"))
        .values_list("patient_id", "protocol", "first")
    )
    codes = {code for measures in PROTOCOL_OUTCOMES.values() for code in measures}
    points: dict[tuple, list] = defaultdict(list)
    for patient_id, code, site, value, at in (
        Observation.objects.current()
        .filter(
            patient_id__in={p for p, _protocol, _first in first_sessions},
            code__in=codes,
            value_number__isnull=False,
        )
        .order_by("effective_at", "pk")
        .values_list("patient_id", "code", "body_site", "value_number", "effective_at")
    ):
        points[(patient_id, code, site if code in PER_SITE else "")].append((timezone.localdate(at), value))
    sites: dict[tuple, list] = defaultdict(list)  # (patient, measure) -> one series per site
    for (patient_id, code, _site), series in points.items():
        sites[(patient_id, code)].append(series)
    changes = []
    for protocol, measures in PROTOCOL_OUTCOMES.items():
        for measure in measures:
            pairs = []
            for patient_id, session_protocol, first in first_sessions:
                if session_protocol != protocol:
                    continue
                for series in sites.get((patient_id, measure), ()):
                    pair = before_and_after(series, timezone.localdate(first))
                    if pair:
                        pairs.append(pair)
            if pairs:
                changes.append(cohort_changes(protocol, measure, pairs))
    audit_record(actor=actor, action="clinic.view_outcomes")
    return Cohort(patients, dict(per_pathway), sessions_per_protocol, changes)
