"""Intake writes: start (staff), submit (the patient, by link), confirm into the record (nurse or physician)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.audit.writes import require, require_same_clinic, save_audited, validate
from dermatox.clinical.intake import MAX_SIGNATURE, IntakeAnswers, IntakeErrors, parse_answers
from dermatox.clinical.observations import observation_types
from dermatox.clinical.reference import by_id
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput, NotFound
from dermatox.common.filecrypt import open_text, seal_text
from dermatox.common.text import clean_multiline
from dermatox.intake.error_codes import IntakeCode
from dermatox.intake.models import IntakeForm
from dermatox.patients import services as patient_services
from dermatox.patients.models import Patient
from dermatox.patients.services import PATIENT_FIELDS

DEMOGRAPHIC_FIELDS = PATIENT_FIELDS
INTAKE_METHOD = "reported by the patient at intake"
_ANSWER_KEY = re.compile(r"[a-z][a-z0-9_]{0,40}")
NOT_ANSWERS = ("csrfmiddlewaretoken", "lang")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def intake_start(*, actor: Actor, patient: Patient) -> tuple[IntakeForm, str]:
    """A new one-time link for this patient. Returns the form and the token (shown once, never stored).
    Any earlier link of the patient that was not used is cancelled, so only one is live."""
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, patient.clinic_id)
    for old in IntakeForm.objects.current().filter(patient=patient, status=IntakeForm.Status.OPEN):
        old.status = IntakeForm.Status.CANCELLED
        save_audited(actor, old, action="intake.cancel", detail={"why": "replaced"})
    token = secrets.token_urlsafe(24)
    intake = IntakeForm(
        patient=patient,
        clinic_id=patient.clinic_id,
        token_hash=_hash(token),
        language=patient.preferred_language,
        created_by=actor.acting_user,
        expires_at=timezone.now() + dt.timedelta(hours=settings.DERMATOX_INTAKE_LINK_HOURS),
    )
    save_audited(actor, intake, action="intake.start")
    return intake, token


def intake_by_token(token: str) -> IntakeForm:
    """The open intake behind a link. Expired, used or unknown links all answer the same: not found."""
    intake = (
        IntakeForm.objects.current()
        .select_related("patient", "clinic")
        .filter(token_hash=_hash(token or ""), status=IntakeForm.Status.OPEN)
        .first()
    )
    if intake is None or intake.expires_at <= timezone.now():
        raise NotFound("This link is not valid any more. Please ask at the front desk.")
    return intake


def patient_actor(intake: IntakeForm, *, ip: str | None = None, user_agent: str = "") -> Actor:
    """The patient filling in their own form: no staff user, no permissions, audited as such."""
    return Actor(
        user=None, clinic=intake.clinic, role="patient", ip=ip, user_agent=user_agent, channel="intake"
    )


def _demographics(intake: IntakeForm, data: dict) -> dict:
    """The patient's corrections to their details, checked by the record's own rules."""
    stored = intake.patient
    values = {}
    for name in DEMOGRAPHIC_FIELDS:
        raw = data.get(name)
        values[name] = raw.strip() if isinstance(raw, str) else getattr(stored, name)
    probe = Patient(clinic_id=stored.clinic_id, mrn=stored.mrn, **values)
    if isinstance(values["birth_date"], str):
        try:
            probe.birth_date = dt.date.fromisoformat(values["birth_date"])
        except ValueError:
            raise InvalidInput("birth_date: date", fields={"birth_date": ["date"]}) from None
    validate(probe, exclude=["clinic", "mrn", "search_name"])
    values = {name: getattr(probe, name) for name in DEMOGRAPHIC_FIELDS}  # as validate cleaned them
    values["birth_date"] = probe.birth_date.isoformat()
    return values


def _cleaned(data: dict) -> dict:
    """The tablet's post with control characters out of every text (names, signer, free lines)."""
    return {k: clean_multiline(v) if isinstance(v, str) else v for k, v in data.items()}


def intake_parse(intake: IntakeForm, data: dict) -> tuple[dict, IntakeAnswers]:
    """Check a submission: demographics by the record's rules, health answers by the questionnaire's.
    Raises InvalidInput with every bad field (health rules as codes the page words for the patient)."""
    data = _cleaned(data)
    fields: dict[str, list[str]] = {}
    demographics: dict = {}
    try:
        demographics = _demographics(intake, data)
    except InvalidInput as exc:
        fields.update(exc.fields)
    sex = demographics.get("sex_at_birth") or intake.patient.sex_at_birth
    answers = None
    try:
        answers = parse_answers(data, sex=sex, today=timezone.localdate())
    except IntakeErrors as exc:
        fields.update({name: [rule] for name, rule in exc.errors.items()})
    if fields:
        raise InvalidInput.from_fields(fields)
    return demographics, answers


@transaction.atomic
def intake_submit(*, actor: Actor, intake: IntakeForm, data: dict) -> IntakeForm:
    """Keep the patient's answers and the signed consent PDF; nothing reaches the record yet."""
    intake = (
        IntakeForm.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic")
        .get(pk=intake.pk)
    )
    if intake.status != IntakeForm.Status.OPEN or intake.expires_at <= timezone.now():
        raise Conflict("This form was already sent or has expired.", code=IntakeCode.INTAKE_CLOSED)
    data = _cleaned(data)
    demographics, answers = intake_parse(intake, data)
    # Keep what the questionnaire asked, nothing else a client may have posted (tokens, stray fields).
    keep = {
        k: v[:MAX_SIGNATURE]
        for k, v in data.items()
        if isinstance(v, str) and _ANSWER_KEY.fullmatch(k) and k not in (*DEMOGRAPHIC_FIELDS, *NOT_ANSWERS)
    }
    if keep.get("signature"):  # the drawn signature is kept encrypted, as the consent PDF is
        keep["signature"] = seal_text(keep["signature"])
    intake.answers = {"demographics": demographics, "health": keep}
    intake.submitted_at = timezone.now()
    consent_pdf = consent_pdf_render(intake, answers)
    intake.status = IntakeForm.Status.SUBMITTED
    intake.consent_pdf_sha256 = hashlib.sha256(consent_pdf).hexdigest()
    intake.consent_pdf.save(f"intake-{intake.pk}-consent.pdf", ContentFile(consent_pdf), save=False)
    return save_audited(actor, intake, action="intake.submit")


def consent_pdf_render(intake: IntakeForm, answers: IntakeAnswers) -> bytes:
    """The signed form as the patient saw it, in their language: details, answers, consents, signature."""
    from dermatox.clinical.intake import questions_for
    from dermatox.documents.pdf import render_pdf
    from dermatox.intake.texts import CONSENT_TEXTS, DECLARATION

    demographics = intake.answers["demographics"]
    language = demographics.get("preferred_language") or intake.language
    return render_pdf(
        "documents/intake_consent.html",
        {
            "clinic": intake.clinic,
            "patient": intake.patient,
            "patient_line": f"{intake.patient.display_name} · {intake.patient.mrn}",
            "printed_at": intake.submitted_at,
            "demographics": demographics,
            "questions": [
                (q.label(language), answers.answers.get(q.id))
                for q in questions_for(demographics["sex_at_birth"])
            ],
            "answers": answers,
            "consents": [
                (CONSENT_TEXTS[k][0], CONSENT_TEXTS[k][1], answers.consents[k]) for k in CONSENT_TEXTS
            ],
            "declaration": DECLARATION,
            "signature": answers.signature,
            "signed_at": intake.submitted_at,
        },
        language=language,
    )


def intake_answers(intake: IntakeForm) -> IntakeAnswers:
    """The submitted answers, parsed again by the same rules (as of the day they were given)."""
    sex = intake.answers["demographics"]["sex_at_birth"]
    health = dict(intake.answers["health"])
    if health.get("signature"):
        health["signature"] = open_text(health["signature"])
    return parse_answers(health, sex=sex, today=timezone.localdate(intake.submitted_at))


def _display(file_name: str, code: str) -> str:
    return by_id(file_name)[code]["display"]


@transaction.atomic
def intake_confirm(*, actor: Actor, intake: IntakeForm) -> dict:
    """Write the reviewed answers into the record in one transaction, as entries of the confirming
    nurse or physician. Codes the record already holds (active) are not added twice. Returns counts."""
    require(actor, Perm.EDIT_CLINICAL)
    require_same_clinic(actor, intake.clinic_id)
    intake = IntakeForm.objects.select_for_update(of=("self",)).select_related("patient").get(pk=intake.pk)
    if intake.status != IntakeForm.Status.SUBMITTED:
        raise Conflict("Only a submitted intake can be confirmed.", code=IntakeCode.INTAKE_NOT_SUBMITTED)
    patient = intake.patient
    answers = intake_answers(intake)
    at = intake.submitted_at
    counts = dict.fromkeys(("history", "medications", "allergies", "observations", "courses", "consents"), 0)

    demographics = dict(intake.answers["demographics"])
    demographics["birth_date"] = dt.date.fromisoformat(demographics["birth_date"])
    patient_services.patient_update(actor=actor, patient=patient, data=demographics)

    have_conditions = set(
        patient.conditions.current().filter(clinical_status="active").values_list("code", flat=True)
    )
    for code in answers.conditions:
        if code not in have_conditions:
            patient_services.condition_add(
                actor=actor,
                patient=patient,
                data={"category": "history", "code": code, "text": _display("conditions.toml", code)},
            )
            counts["history"] += 1
    for text in answers.other_conditions:
        patient_services.condition_add(
            actor=actor, patient=patient, data={"category": "history", "text": text}
        )
        counts["history"] += 1

    have_meds = set(patient.medications.current().filter(status="active").values_list("code", flat=True))
    for code in answers.medications:
        if code not in have_meds:
            name = _display("medications.toml", code)
            patient_services.medication_add(actor=actor, patient=patient, data={"code": code, "name": name})
            counts["medications"] += 1
    for text in answers.other_medications:
        patient_services.medication_add(actor=actor, patient=patient, data={"name": text})
        counts["medications"] += 1

    have_allergies = set(patient.allergies.current().values_list("code", flat=True))
    for code in answers.allergies:
        if code not in have_allergies:
            substance = _display("allergens.toml", code)
            patient_services.allergy_add(
                actor=actor, patient=patient, data={"code": code, "substance": substance}
            )
            counts["allergies"] += 1
    for text in answers.other_allergies:
        patient_services.allergy_add(actor=actor, patient=patient, data={"substance": text})
        counts["allergies"] += 1

    if answers.pregnant is not None:
        patient_services.pregnancy_status_record(
            actor=actor,
            patient=patient,
            data={
                "pregnant": answers.pregnant,
                "breastfeeding": answers.breastfeeding,
                "recorded_on": timezone.localdate(at),
            },
        )

    from dermatox.assessments.services import observation_record
    from dermatox.treatments.services import external_toxin_dose_record, treatment_course_record

    types = observation_types()
    for code, value in answers.observations.items():
        observation_record(
            actor=actor,
            patient=patient,
            code=code,
            value=value,
            unit=types[code].unit or None,
            effective_at=at,
            method=INTAKE_METHOD,
        )
        counts["observations"] += 1
    for course in answers.courses:
        treatment_course_record(
            actor=actor,
            patient=patient,
            data={"treatment": course.treatment, "weeks": course.weeks, "outcome": course.outcome},
        )
        counts["courses"] += 1
    if answers.toxin_dose is not None:
        dose = answers.toxin_dose
        external_toxin_dose_record(
            actor=actor,
            patient=patient,
            data={"given_on": dose.given_on, "area": dose.area, "product": dose.product, "units": dose.units},
        )

    for kind, decision in answers.consents.items():
        patient_services.consent_record(
            actor=actor,
            patient=patient,
            data={
                "kind": kind,
                "decision": decision,
                "scope": "intake",
                "signed_at": at,
                "signer_name": answers.signer_name,
                "document": intake.consent_pdf.name,
            },
        )
        counts["consents"] += 1

    intake.status = IntakeForm.Status.CONFIRMED
    intake.confirmed_by = actor.acting_user
    intake.confirmed_at = timezone.now()
    save_audited(actor, intake, action="intake.confirm", detail=counts)
    return counts


@transaction.atomic
def intake_cancel(*, actor: Actor, intake: IntakeForm) -> IntakeForm:
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, intake.clinic_id)
    if intake.status == IntakeForm.Status.CONFIRMED:
        raise Conflict("A confirmed intake is part of the record; correct the record instead.")
    intake.status = IntakeForm.Status.CANCELLED
    return save_audited(actor, intake, action="intake.cancel")


def audit_link_use(intake: IntakeForm, actor: Actor) -> None:
    audit_record(actor=actor, action="intake.open", obj=intake)
