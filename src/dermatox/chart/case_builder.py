"""Build a pathways case from the patient's record: the latest observations, labs, history and courses.

What the record does not hold is listed as missing (and shown so), never assumed normal. Reads only:
the caller audits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language

from dermatox.assessments.models import Observation
from dermatox.clinical.messages import Msg, engine_lang, render
from dermatox.clinical.observations import observation_types
from dermatox.clinical.pathways.case import HAIR_DIAGNOSES, TOXIN_AREAS, UNKNOWN_PRODUCT
from dermatox.clinical.pathways.labs import RESULT_MAX_AGE_DAYS
from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin_safety import RETREATMENT_DAYS
from dermatox.intake.models import IntakeForm
from dermatox.patients.models import Patient
from dermatox.treatments.models import ExternalToxinDose, TreatmentCourse

PREGNANCY_STATEMENT_MAX_DAYS = 90
HAIR_NUMBERS = {
    "daily_shedding": "daily_shedding",
    "pull_test_hairs": "pull_test_hairs",
    "sinclair": "sinclair",
}
HAIR_CODES = {"norwood": "norwood", "ludwig": "ludwig"}
HAIR_YES_NO = {
    "scalp_gaps": "scalp_gaps",
    "hair_thinning": "thinning",
    "hair_growth_problem": "growth_problem",
    "hyperandrogenism_signs": "hyperandrogenism_signs",
    "hair_loss_trigger_3m": "trigger_last_3_months",
}

LOOKBACK_DAYS = 3 * 365
TRIGGER_WINDOW_DAYS = 90


@dataclass
class BuiltCase:
    case: dict | None
    notes: list[Msg] = field(default_factory=list)  # what the record lacks (catalogue kind "missing")
    sources: dict[str, str] = field(default_factory=dict)  # input path -> "value (date)" for the page

    def note(self, key: str, **params) -> None:
        self.notes.append(Msg(f"missing.{key}", params))

    @property
    def missing(self) -> list[str]:
        """The notes in the active language (what a page or a message shows)."""
        lang = reader_lang()
        return [m.text(lang) for m in self.notes]

    def missing_items(self) -> list[dict]:
        """The notes as stored with a signed assessment: id and parameters, so they read in any language."""
        return [{**m.as_dict(), "text": m.text("en")} for m in self.notes]


def reader_lang() -> str:
    return engine_lang(get_language())


def missing_text(item, lang: str) -> str:
    """A stored note ({id, params, text}, or a plain text from before) in the language."""
    if isinstance(item, dict) and "id" in item:
        return render(item["id"], item.get("params", {}), lang)
    return str(item)


def _latest(patient: Patient, as_of: dt.date) -> dict[str, Observation]:
    since = as_of - dt.timedelta(days=LOOKBACK_DAYS)
    latest: dict[str, Observation] = {}
    rows = (
        Observation.objects.current()
        .filter(patient=patient, effective_at__date__lte=as_of, effective_at__date__gte=since)
        .order_by("-effective_at", "-pk")
        .only("code", "value_number", "value_code", "unit", "effective_at")
    )
    for obs in rows.iterator(chunk_size=500):
        latest.setdefault(obs.code, obs)
    return latest


def _toxin_history(patient: Patient, as_of: dt.date) -> list[dict]:
    """Doses charted in Dermatox (signed sessions): one entry per day, product and protocol, with the
    protocol's area and indication, so the plan check sees a second session for the same area on the same
    day (and the label counts every dose of the day) while another area at the same visit stays allowed."""
    from django.db.models import Sum
    from django.db.models.functions import TruncDate

    from dermatox.clinical.toxin.protocols import load_protocols
    from dermatox.inventory.models import Withdrawal

    rows = (
        Withdrawal.objects.current()
        .filter(
            patient=patient,
            reason="administered",
            at__date__lte=as_of,
            at__date__gte=as_of - dt.timedelta(days=LOOKBACK_DAYS),
        )
        .annotate(day=TruncDate("at"))
        .values("day", "vial__lot__product", "point__session__protocol")
        .annotate(units=Sum("units"))
        .order_by("day", "vial__lot__product", "point__session__protocol")
    )
    protocols = load_protocols()
    out = []
    for r in rows:
        dose = {
            "date": r["day"].isoformat(),
            "product": r["vial__lot__product"],
            "units": float(r["units"]),
            "indication": "charted in Dermatox",
        }
        protocol = protocols.get(r["point__session__protocol"])
        if protocol is not None:  # a dose without a session (or of a retired protocol): no area known
            dose["indication"] = protocol["indication"]
            dose["area"] = protocol["area"]
        out.append(dose)
    return out


def _intake_denied_toxin_on(patient: Patient, as_of: dt.date) -> dt.date | None:
    """The day of the latest confirmed intake, if the patient answered there that they never had toxin."""
    intake = (
        IntakeForm.objects.current()
        .filter(patient=patient, status=IntakeForm.Status.CONFIRMED, confirmed_at__date__lte=as_of)
        .order_by("-confirmed_at")
        .first()
    )
    if intake is None or intake.answers.get("health", {}).get("toxin_before") != "no":
        return None
    return timezone.localdate(intake.confirmed_at)


def _external_toxin(patient: Patient, as_of: dt.date, built: BuiltCase) -> list[dict]:
    """Doses given elsewhere as reported at intake, every one of them: its date starts the 12-week interval
    whatever is unknown about it. An unknown product is "unknown" and unknown units are left out (the rules
    then cannot count it toward a maximum), and the missing data say so with the date the interval ends."""
    doses = list(
        ExternalToxinDose.objects.current().filter(
            patient=patient, given_on__lte=as_of, given_on__gte=as_of - dt.timedelta(days=LOOKBACK_DAYS)
        )
    )
    if not doses:
        denied_on = _intake_denied_toxin_on(patient, as_of)
        if denied_on is None:
            built.note("toxin_elsewhere_unrecorded")
        elif denied_on < as_of:
            built.note("toxin_denied_since", date=denied_on.isoformat())
    out = []
    products = by_id("toxin_products.toml")
    for dose in doses:
        product = dose.product if dose.product in products else UNKNOWN_PRODUCT
        entry = {
            "date": dose.given_on.isoformat(),
            "product": product,
            "indication": f"given elsewhere ({dose.area})",
        }
        if dose.units:
            entry["units"] = float(dose.units)
        if dose.area in TOXIN_AREAS:  # "other": somewhere the plan check has no area for
            entry["area"] = dose.area
        out.append(entry)
        unknown = [
            what
            for what, lacking in (("product", product == UNKNOWN_PRODUCT), ("units", not dose.units))
            if lacking
        ]
        if unknown:
            built.note(
                "toxin_elsewhere_unknown",
                date=dose.given_on.isoformat(),
                term=dose.area if dose.area in TOXIN_AREAS else "other_area",
                terms=unknown,
                not_before=(dose.given_on + dt.timedelta(days=RETREATMENT_DAYS)).isoformat(),
            )
    return out


def build_case(patient: Patient, as_of: dt.date) -> BuiltCase:
    built = BuiltCase(case=None)
    if patient.sex_at_birth not in ("male", "female"):
        built.note("sex_not_male_or_female")
        return built
    case: dict = {
        "as_of": as_of.isoformat(),
        "patient": {"sex": patient.sex_at_birth, "birth_date": patient.birth_date.isoformat()},
    }
    built.case = case

    if patient.sex_at_birth == "female":
        status = patient.pregnancy_statuses.current().filter(recorded_on__lte=as_of).first()
        if status is None:
            built.note("pregnancy_unrecorded")
        else:
            case["patient"]["pregnant"] = status.pregnant == "yes"
            case["patient"]["breastfeeding"] = status.breastfeeding == "yes"
            if status.can_become_pregnant in ("yes", "no") and status.pregnant != "yes":
                case["patient"]["can_become_pregnant"] = status.can_become_pregnant == "yes"
            if status.pregnant == "yes" and status.trimester:
                case["patient"]["pregnancy_trimester"] = status.trimester
            if "unknown" in (status.pregnant, status.breastfeeding):
                built.note("pregnancy_unknown")
            if (as_of - status.recorded_on).days > PREGNANCY_STATEMENT_MAX_DAYS:
                built.note("pregnancy_stale", date=status.recorded_on.isoformat())

    conditions = by_id("conditions.toml")
    active = list(patient.conditions.current().filter(clinical_status="active").order_by("-recorded_at"))
    history = {
        "conditions": sorted(
            {c.code for c in active if c.code in conditions and conditions[c.code]["kind"] == "history"}
        ),
        "medications": sorted(
            {
                m.code
                for m in patient.medications.current().filter(status="active")
                if m.code in by_id("medications.toml")
            }
        ),
        "allergies": sorted(
            {a.code for a in patient.allergies.current() if a.code in by_id("allergens.toml")}
        ),
    }
    history["toxin_history"] = _toxin_history(patient, as_of)
    history["toxin_history"] += _external_toxin(patient, as_of, built)
    history["toxin_history"].sort(key=lambda dose: dose["date"])
    case["history"] = {k: v for k, v in history.items() if v}

    latest = _latest(patient, as_of)
    types = observation_types()

    hair: dict = {}
    for code, key in HAIR_NUMBERS.items():
        if code in latest:
            hair[key] = int(latest[code].value_number)
    for code, key in HAIR_CODES.items():
        if code in latest:
            hair[key] = latest[code].value_code
    for code, key in HAIR_YES_NO.items():
        if code in latest:
            hair[key] = latest[code].value_code == "yes"
    trigger = latest.get("hair_loss_trigger_3m")
    if trigger is not None and (as_of - trigger.effective_at.date()).days > TRIGGER_WINDOW_DAYS:
        # "A trigger in the last 3 months" was true of the day it was asked, not of today.
        hair.pop("trigger_last_3_months", None)
        built.note("trigger_stale", date=trigger.effective_at.date().isoformat())
    # every active hair diagnosis: several may hold at once (clinical.md §12.7)
    diagnosis = sorted({c.code for c in active if c.category == "diagnosis" and c.code in HAIR_DIAGNOSES})
    if diagnosis:
        hair["diagnosis"] = diagnosis
    if hair:
        case["hair"] = hair
        for code in ("daily_shedding", "pull_test_hairs", *HAIR_YES_NO):
            if code not in latest:
                built.note("hair_item", observation=code)

    skin: dict = {}
    acne = {}
    for code in ("gags", "iga", "nodules"):
        if code in latest:
            acne[code] = int(latest[code].value_number)
    if "acne_scarring" in latest:
        acne["scarring"] = latest["acne_scarring"].value_code == "yes"
    if acne:
        skin["acne"] = acne
    if "seborrhea_grade" in latest:
        skin["seborrhea"] = latest["seborrhea_grade"].value_code
    if "sebum_casual" in latest:
        skin["sebum"] = [float(latest["sebum_casual"].value_number)]
    courses = list(TreatmentCourse.objects.current().filter(patient=patient))
    if courses:
        skin["prior_treatments"] = [
            {"treatment": c.treatment, "weeks": c.weeks, "outcome": c.outcome} for c in courses
        ]
    scars = {}
    if "goodman_baron" in latest:
        scars["goodman_baron"] = int(latest["goodman_baron"].value_number)
    if "scar_treatment_ongoing" in latest:
        scars["treatment_ongoing"] = latest["scar_treatment_ongoing"].value_code == "yes"
    if scars:
        skin["scars"] = scars
    if skin:
        case["skin"] = skin
        if "acne" in skin and "seborrhea" not in skin:
            built.note("seborrhoea_unrecorded")
        if "acne" in skin and not courses:
            built.note("acne_courses_unrecorded")

    labs = []
    for code, obs in latest.items():
        if types[code].group == "lab" and (as_of - obs.effective_at.date()).days <= RESULT_MAX_AGE_DAYS:
            labs.append(
                {
                    "test": code,
                    "value": float(obs.value_number),
                    "unit": obs.unit,
                    "date": obs.effective_at.date().isoformat(),
                }
            )
    if labs:
        case["labs"] = sorted(labs, key=lambda lab: lab["test"])
    for code, obs in latest.items():
        built.sources[code] = f"{obs.value_code or obs.value_number.normalize():} ({obs.effective_at.date()})"
    return built
