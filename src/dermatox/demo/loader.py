"""Load the demo: two clinics of one chain, one user per role, and seeded synthetic patients.

Writes in bulk (with version-history rows) so it can also load 100,000+ patients for benchmarks;
one audit entry records the load itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.models import Clinic, Membership, User
from dermatox.accounts.roles import Role
from dermatox.accounts.services import clinic_create
from dermatox.assessments.models import Observation
from dermatox.audit.services import audit_record
from dermatox.clinical.observations import check_observation_value, observation_types
from dermatox.clinical.reference import by_id
from dermatox.common.context import Actor
from dermatox.common.text import fold
from dermatox.demo.bulk_write import write_new
from dermatox.demo.generator import generate
from dermatox.demo.history import demo_treatment_history
from dermatox.demo.schedule import demo_appointments
from dermatox.inventory.models import InventoryPolicy, Lot, Vial
from dermatox.patients.models import (
    Allergy,
    Condition,
    Consent,
    Encounter,
    MedicationStatement,
    Note,
    Patient,
    PatientIdentifier,
    PregnancyStatus,
)
from dermatox.treatments.models import FollowUp, TreatmentCourse

DEMO_PASSWORD = "Dermatox-demo-2026"  # noqa: S105 (printed on purpose: demo only)
CLINICS = [
    ("nis", "Anka Hair & Skin — Nişantaşı", "Teşvikiye Cd. No:12, Şişli, İstanbul"),
    ("kad", "Anka Hair & Skin — Kadıköy", "Bağdat Cd. No:201, Kadıköy, İstanbul"),
]
# username, full name, role per clinic code
USERS = [
    ("physician", "Dr. Elif Yılmaz", {"nis": Role.PHYSICIAN, "kad": Role.PHYSICIAN}),
    ("nurse", "Ayşe Demir", {"nis": Role.NURSE}),
    ("frontdesk", "Mehmet Kaya", {"nis": Role.FRONT_DESK}),
    ("manager", "Zeynep Arslan", {"nis": Role.MANAGER, "kad": Role.MANAGER}),
    ("admin", "System Administrator", {"nis": Role.SYSADMIN, "kad": Role.SYSADMIN}),
    ("nurse.kadikoy", "Can Öztürk", {"kad": Role.NURSE}),
]
BATCH = 2000


def demo_present() -> bool:
    return Clinic.objects.filter(code=CLINICS[0][0]).exists()


def demo_logins() -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD})"]
    for username, full_name, roles in USERS:
        where = ", ".join(f"{code}:{role.value}" for code, role in roles.items())
        lines.append(f"  {username:<15} {full_name:<22} {where}")
    lines.append("Clinics: nis = Nişantaşı, kad = Kadıköy. Sign in at http://127.0.0.1:8000/")
    return "\n".join(lines)


def _staff() -> tuple[list[Clinic], dict[str, User]]:
    clinics = []
    for code, name, address in CLINICS:  # created and audited as any clinic is (accounts.services)
        clinic = Clinic.objects.filter(code=code).first() or clinic_create(
            actor=Actor.system(), name=name, code=code, chain_name="Anka Clinics", address=address
        )
        clinics.append(clinic)
    by_code = {c.code: c for c in clinics}
    users = {}
    for username, full_name, roles in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username, full_name=full_name, language="tr" if username == "nurse" else "en"
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        for code, role in roles.items():
            Membership.objects.get_or_create(user=user, clinic=by_code[code], defaults={"role": role})
        users[username] = user
    return clinics, users


def _demo_stock(clinic: Clinic, nurse: User, as_of: dt.date) -> None:
    """Toxin stock to chart with: the demo clinic keeps reconstituted vials 4 weeks (ASDS consensus)."""
    InventoryPolicy.objects.get_or_create(clinic=clinic, defaults={"beyond_use_hours": 4 * 7 * 24})
    opened = timezone.now()
    for product, number, vial_units, diluent in (
        ("onabotulinumtoxinA", "C8123A", 100, 2.5),
        ("onabotulinumtoxinA", "C8124B", 200, 4.0),
        ("abobotulinumtoxinA", "D5561", 300, 1.5),
    ):
        lot, created = Lot.objects.get_or_create(
            clinic=clinic,
            product=product,
            lot_number=number,
            defaults={"expiry": as_of + dt.timedelta(days=300), "received_by": nurse},
        )
        if not created:
            continue
        vials = Vial.objects.bulk_create(
            [Vial(lot=lot, vial_units=vial_units, remaining_units=vial_units) for _ in range(3)]
        )
        first = vials[0]
        Vial.objects.filter(pk=first.pk).update(
            state="open",
            diluent_ml=diluent,
            opened_at=opened,
            opened_by=nurse,
            beyond_use_at=opened + dt.timedelta(weeks=4),
        )


@transaction.atomic
def demo_load(*, seed: int = 2026, patients: int = 60, as_of: dt.date | None = None) -> str:
    as_of = as_of or timezone.localdate()
    clinics, users = _staff()
    conditions = by_id("conditions.toml")
    medications = by_id("medications.toml")
    allergens = by_id("allergens.toml")
    loinc = {k: t.loinc for k, t in observation_types().items()}
    tz = ZoneInfo("Europe/Istanbul")
    physician, nurse = users["physician"], users["nurse"]
    counters = {c.pk: c.next_patient_number for c in clinics}
    totals = {"patients": 0, "encounters": 0, "observations": 0}

    buffers: dict[type, list] = {}

    def add(obj):
        buffers.setdefault(type(obj), []).append(obj)

    def flush():
        # Parents first: patients, then encounters, then what points at them.
        for model in (
            Patient,
            Encounter,
            PatientIdentifier,
            Condition,
            MedicationStatement,
            Allergy,
            PregnancyStatus,
            Consent,
            Observation,
            Note,
            FollowUp,
            TreatmentCourse,
        ):
            rows = buffers.pop(model, [])
            if rows:
                write_new(model, rows, user=physician)

    for demo in generate(seed=seed, count=patients, as_of=as_of, clinics=len(clinics)):
        clinic = clinics[demo.clinic_index % len(clinics)]
        number = counters[clinic.pk]
        counters[clinic.pk] += 1
        patient = Patient(
            clinic=clinic,
            mrn=f"{clinic.code.upper()}-{number:06d}",
            given_name=demo.given_name,
            family_name=demo.family_name,
            sex_at_birth=demo.sex_at_birth,
            birth_date=demo.birth_date,
            phone=demo.phone,
            email=demo.email,
            address=demo.address,
            preferred_language=demo.preferred_language,
            search_name=fold(f"{demo.given_name} {demo.family_name}"),
        )
        add(patient)
        add(PatientIdentifier(patient=patient, system="national_id", value=demo.national_id))
        first_visit = timezone.make_aware(demo.visits[0].start, tz)
        for code in demo.diagnoses:
            row = conditions[code]
            add(
                Condition(
                    patient=patient,
                    category="diagnosis",
                    code=code,
                    text=row["display"],
                    icd10=row.get("icd10", ""),
                    snomed=row.get("snomed", ""),
                    recorded_by=physician,
                )
            )
        for code in demo.history:
            add(
                Condition(
                    patient=patient,
                    category="history",
                    code=code,
                    text=conditions[code]["display"],
                    recorded_by=physician,
                )
            )
        for code, dose in demo.medications:
            add(
                MedicationStatement(
                    patient=patient,
                    code=code,
                    name=medications[code]["display"],
                    dose=dose,
                    status="stopped" if "stopped" in dose else "active",
                    recorded_by=physician,
                )
            )
        for code, reaction in demo.allergies:
            add(
                Allergy(
                    patient=patient,
                    code=code,
                    substance=allergens[code]["display"],
                    reaction=reaction,
                    criticality="low",
                    recorded_by=physician,
                )
            )
        if demo.pregnancy:
            add(
                PregnancyStatus(
                    patient=patient,
                    pregnant=demo.pregnancy[0],
                    breastfeeding=demo.pregnancy[1],
                    recorded_on=demo.visits[-1].start.date(),
                    recorded_by=nurse,
                )
            )
        for kind, decision in demo.consents:
            add(
                Consent(
                    patient=patient,
                    kind=kind,
                    decision=decision,
                    signed_at=first_visit,
                    signer_name=f"{demo.given_name} {demo.family_name}",
                    recorded_by=users["frontdesk"],
                )
            )
        for visit in demo.visits:
            start = timezone.make_aware(visit.start, tz)
            encounter = Encounter(
                patient=patient,
                clinic=clinic,
                kind=visit.kind,
                status="finished",
                start=start,
                end=start + dt.timedelta(minutes=30),
                practitioner=physician,
                reason=visit.reason,
            )
            add(encounter)
            for obs in visit.observations:
                checked = check_observation_value(obs.code, obs.value, obs.unit)
                add(
                    Observation(
                        patient=patient,
                        encounter=encounter,
                        code=obs.code,
                        loinc=loinc[obs.code],
                        value_number=checked.number if checked.number is None else Decimal(checked.number),
                        value_code=checked.code,
                        unit=checked.unit,
                        effective_at=start,
                        recorded_by=nurse,
                    )
                )
            add(
                Note(
                    patient=patient,
                    encounter=encounter,
                    kind="progress",
                    text=visit.note,
                    author=physician,
                    written_at=start + dt.timedelta(minutes=25),
                )
            )
            totals["encounters"] += 1
            totals["observations"] += len(visit.observations)
        for treatment, weeks, outcome in demo.courses:
            add(
                TreatmentCourse(
                    patient=patient, treatment=treatment, weeks=weeks, outcome=outcome, recorded_by=physician
                )
            )
        if demo.follow_up:
            add(
                FollowUp(patient=patient, due_date=demo.follow_up[0], reason=demo.follow_up[1], source="demo")
            )
        totals["patients"] += 1
        if len(buffers.get(Patient, [])) >= BATCH:
            flush()
    flush()
    for clinic in clinics:
        Clinic.objects.filter(pk=clinic.pk).update(next_patient_number=counters[clinic.pk])
    _demo_stock(clinics[0], users["nurse"], as_of)
    totals.update(demo_treatment_history(clinic=clinics[0], physician=physician, nurse=nurse, as_of=as_of))
    demo_practitioners = {"nis": [users["physician"], users["nurse"]], "kad": [users["nurse.kadikoy"]]}
    totals["appointments"] = sum(
        demo_appointments(
            clinic=clinic,
            practitioners=demo_practitioners.get(clinic.code, []),
            created_by=users["frontdesk"],
            as_of=as_of,
            seed=seed,
        )
        for clinic in clinics
    )
    audit_record(actor=Actor.system(), action="demo.load", detail={"seed": seed, **totals})
    return ", ".join(f"{v} {k}" for k, v in totals.items())
