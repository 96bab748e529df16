"""The clinician's examination forms (hair, skin) and lab results entry. They write observations that the
Assessment page reads; what each field means (unit, range, codes) comes from observation_types.toml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dermatox.accounts.roles import Perm
from dermatox.assessments.services import examination_record
from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.clinical.demographics import age_on
from dermatox.clinical.observations import observation_types
from dermatox.clinical.pathways.acne import gags_severity
from dermatox.clinical.pathways.case import GAGS_REGIONS, gags_score
from dermatox.clinical.pathways.labs import UnknownUnit, flag_one, lab_tests, units_of
from dermatox.clinical.reference import by_id
from dermatox.common.errors import InvalidInput
from dermatox.patients.selectors import patient_get
from dermatox.web.decorators import clinic_required
from dermatox.web.decorators import require_perm as _require
from dermatox.web.labels import display, is_turkish, measure_label

YES_NO = (("yes", _("Yes")), ("no", _("No")))
# Descriptions: clinical.md §5.2 (IGA), §5.5 (Fitzpatrick), §5.6 (Goodman & Baron qualitative), §5.1 (GAGS).
IGA = (
    ("0", _("0 · Clear: no lesions")),
    ("1", _("1 · Almost clear: a few scattered comedones and papules")),
    ("2", _("2 · Mild: less than half the face; some comedones, papules, pustules")),
    ("3", _("3 · Moderate: more than half the face; many lesions; one nodule at most")),
    ("4", _("4 · Severe: entire face; a few nodules or cysts")),
)
FITZPATRICK = (
    ("I", _("I · always burns, never tans")),
    ("II", _("II · burns easily, tans minimally")),
    ("III", _("III · sometimes burns, tans gradually")),
    ("IV", _("IV · burns minimally, tans well")),
    ("V", _("V · rarely burns, tans deeply")),
    ("VI", _("VI · never burns, deeply pigmented")),
)
GOODMAN_BARON = (
    ("1", _("1 · Macular: colour, not contour")),
    ("2", _("2 · Mild: hidden by make-up or beard")),
    ("3", _("3 · Moderate: obvious at 50 cm, flattens when stretched")),
    ("4", _("4 · Severe: obvious at 50 cm, does not flatten")),
)
SEBORRHEA = (("none", _("None")), ("mild", _("Mild")), ("marked", _("Marked")))
GAGS_GRADES = (
    ("0", _("0 · none")),
    ("1", _("1 · comedone")),
    ("2", _("2 · papule")),
    ("3", _("3 · pustule")),
    ("4", _("4 · nodule")),
)
GAGS_REGION_NAMES = {
    "forehead": _("Forehead"),
    "right_cheek": _("Right cheek"),
    "left_cheek": _("Left cheek"),
    "nose": _("Nose"),
    "chin": _("Chin"),
    "chest_back": _("Chest and upper back"),
}
HAIR_SITES = (
    ("frontal", _("Frontal")),
    ("vertex", _("Vertex")),
    ("occipital", _("Occipital")),
    ("temporal", _("Temporal")),
)
SEBUM_SITES = (
    ("forehead", _("Forehead")),
    ("right_cheek", _("Right cheek")),
    ("left_cheek", _("Left cheek")),
    ("chin", _("Chin")),
    ("nose", _("Nose")),
)
GAGS_BANDS = {
    "clear": _("clear"),
    "mild": _("mild"),
    "moderate": _("moderate"),
    "severe": _("severe"),
    "very_severe": _("very severe"),
}
SEBUM_ROWS = 3
LAB_ROWS = 6
NOT_FEMALE = ("male", "intersex", "unknown")
NOT_MALE = ("female", "intersex", "unknown")


@dataclass(frozen=True)
class Field:
    code: str
    widget: str  # number | yesno | select | radio | scale
    options: tuple = ()
    sexes: tuple[str, ...] = ()
    site: bool = False


HAIR = (
    Field("daily_shedding", "number"),
    Field("pull_test_hairs", "number"),
    Field("norwood", "scale", sexes=NOT_FEMALE),
    Field("ludwig", "scale", sexes=NOT_MALE),
    Field("sinclair", "scale", sexes=NOT_MALE),
    Field("scalp_gaps", "yesno", YES_NO),
    Field("hair_thinning", "yesno", YES_NO),
    Field("hyperandrogenism_signs", "yesno", YES_NO),
    Field("hair_loss_trigger_3m", "yesno", YES_NO),
    Field("hair_density", "number", site=True),
    Field("hair_shaft_diameter", "number", site=True),
)
SKIN = (
    Field("iga", "radio", IGA),
    Field("inflammatory_lesions", "number"),
    Field("noninflammatory_lesions", "number"),
    Field("nodules", "number"),
    Field("seborrhea_grade", "select", SEBORRHEA),
    Field("fitzpatrick", "radio", FITZPATRICK),
    Field("acne_scarring", "yesno", YES_NO),
    Field("goodman_baron", "radio", GOODMAN_BARON),
    Field("scar_treatment_ongoing", "yesno", YES_NO),
)
FORMS = {
    "hair": (_("Hair examination"), HAIR, ("androgenetic_alopecia", "telogen_effluvium", "alopecia_areata")),
    "skin": (_("Skin examination"), SKIN, ("acne_vulgaris", "acne_scars", "seborrhoea")),
}


def _field_errors(exc: InvalidInput) -> dict[str, list[str]]:
    # Templates cannot read "__all__": errors of the whole form are shown under "form".
    return {("form" if k == "__all__" else k): list(v) for k, v in exc.fields.items()}


def _measured_at(post, errors) -> dt.datetime | None:
    raw = post.get("measured_at", "")
    value = parse_datetime(raw) if raw else None
    if value is None:
        errors["measured_at"] = [str(_("Enter the date and time of the examination."))]
        return None
    value = timezone.make_aware(value) if timezone.is_naive(value) else value
    if value > timezone.now() + dt.timedelta(minutes=5):
        errors["measured_at"] = [str(_("must not be in the future"))]
    return value


def _gags(post, items, errors) -> None:
    chosen = {r: post.get(f"gags_{r}", "") for r in GAGS_REGIONS}
    given = {r: v for r, v in chosen.items() if v != ""}
    if not given:
        return
    if len(given) < len(GAGS_REGIONS) or not all(v in "01234" and len(v) == 1 for v in given.values()):
        errors["gags"] = [str(_("Grade every region (0 = no lesions) to compute the GAGS score."))]
        return
    grades = {r: int(v) for r, v in given.items()}
    items["gags"] = {"code": "gags", "value": gags_score(grades), "components": grades}


def _sebum(post, items, errors) -> None:
    rows = [n for n in range(1, SEBUM_ROWS + 1) if post.get(f"sebum_{n}_value", "").strip()]
    if not rows:
        return
    conditions = []
    for name, low, high, text in (
        ("sebum_hours_since_wash", 0, 72, _("%(v)s h since washing")),
        ("sebum_acclimatisation", 0, 120, _("acclimatised %(v)s min")),
        ("sebum_room_temp", 10, 40, _("room %(v)s °C")),
    ):
        raw = post.get(name, "").strip().replace(",", ".")
        try:
            value = float(raw)
        except ValueError:
            errors[name] = [str(_("required for a Sebumeter reading: a number"))]
            continue
        if not low <= value <= high:
            errors[name] = [str(_("must be from %(low)s to %(high)s")) % {"low": low, "high": high}]
            continue
        conditions.append(str(text) % {"v": f"{value:g}"})
    device = post.get("sebum_device", "").strip()[:100]
    for n in rows:
        site = post.get(f"sebum_{n}_site", "")
        if site not in dict(SEBUM_SITES):
            errors[f"sebum_{n}_value"] = [str(_("choose the site of this reading"))]
            continue
        items[f"sebum_{n}_value"] = {
            "code": "sebum_casual",
            "value": post[f"sebum_{n}_value"],
            "body_site": site,
            "device": device,
            "method": "; ".join(conditions),
        }


def _items(fields: tuple[Field, ...], post, sex: str, errors) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for f in fields:
        if f.sexes and sex not in f.sexes:
            continue
        value = post.get(f.code, "").strip()
        if value:
            item = {"code": f.code, "value": value}
            if f.site:
                item["body_site"] = post.get(f"{f.code}_site", "")
            items[f.code] = item
    return items


@clinic_required
@require_http_methods(["GET", "POST"])
def examination(request, patient_id, exam):
    kind = exam
    if kind not in FORMS:
        from dermatox.common.errors import NotFound

        raise NotFound("No such form")
    title, fields, diagnoses = FORMS[kind]
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    _require(request, Perm.EDIT_CLINICAL)
    errors: dict[str, list[str]] = {}
    post = request.POST
    if request.method == "POST":
        measured_at = _measured_at(post, errors)
        items = _items(fields, post, patient.sex_at_birth, errors)
        if kind == "skin":
            _gags(post, items, errors)
            _sebum(post, items, errors)
        if not errors:
            try:
                examination_record(
                    actor=request.actor,
                    patient=patient,
                    items=items,
                    diagnosis=post.get("diagnosis", ""),
                    effective_at=measured_at,
                )
            except InvalidInput as exc:
                errors = _field_errors(exc)
            else:
                messages.success(request, _("Examination saved."))
                return redirect("patient-assessment", patient_id=patient.pk)
    audit_record(
        actor=request.actor, action=audit_action("patient.view_for_{0}_examination", kind), obj=patient
    )
    conditions = by_id("conditions.toml")
    shown = [f for f in fields if not f.sexes or patient.sex_at_birth in f.sexes]
    return render(
        request,
        "web/examination.html",
        {
            "patient": patient,
            "kind": kind,
            "title": title,
            "fields": [(f, measure_label(f.code), observation_types()[f.code]) for f in shown],
            "values": post or {"measured_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
            "errors": errors,
            "diagnoses": [(d, display(conditions[d])) for d in diagnoses],
            "gags_regions": [(r, GAGS_REGION_NAMES[r], factor) for r, factor in GAGS_REGIONS.items()],
            "gags_grades": GAGS_GRADES,
            "gags_bands": {str(score): str(GAGS_BANDS[gags_severity(score)]) for score in range(45)},
            "sebum_rows": [str(n) for n in range(1, SEBUM_ROWS + 1)],
            "sebum_sites": SEBUM_SITES,
            "hair_sites": HAIR_SITES,
        },
    )


def _lab_choices() -> list[tuple[str, str, list[str]]]:
    return [(t["id"], display(t), units_of(t)) for t in lab_tests().values()]


@clinic_required
@require_http_methods(["GET", "POST"])
def labs(request, patient_id):
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    _require(request, Perm.EDIT_CLINICAL)
    errors: dict[str, list[str]] = {}
    post = request.POST
    if request.method == "POST":
        items = {}
        for n in range(1, LAB_ROWS + 1):
            test = post.get(f"lab_{n}_test", "")
            value = post.get(f"lab_{n}_value", "").strip()
            if not test and not value:
                continue
            if test not in lab_tests():
                errors[f"lab_{n}_test"] = [str(_("choose a test"))]
                continue
            day = post.get(f"lab_{n}_date", "")
            try:
                when = dt.date.fromisoformat(day)
            except ValueError:
                errors[f"lab_{n}_date"] = [str(_("enter the date the sample was taken"))]
                continue
            # Drawn that morning (08:00), or now if it is earlier than that today: never in the future.
            at = min(timezone.make_aware(dt.datetime.combine(when, dt.time(8))), timezone.now())
            items[f"lab_{n}_value"] = {
                "code": test,
                "value": value,
                "unit": post.get(f"lab_{n}_unit", "").strip(),
                "effective_at": at,
                "method": "laboratory result",
            }
        if not errors:
            try:
                examination_record(actor=request.actor, patient=patient, items=items)
            except InvalidInput as exc:
                errors = _field_errors(exc)
            else:
                messages.success(request, _("Lab results saved: %(n)s.") % {"n": len(items)})
                return redirect("patient-assessment", patient_id=patient.pk)
    audit_record(actor=request.actor, action="patient.view_for_labs", obj=patient)
    today = timezone.localdate().isoformat()
    return render(
        request,
        "web/labs.html",
        {
            "patient": patient,
            "tests": _lab_choices(),
            "rows": [str(n) for n in range(1, LAB_ROWS + 1)],
            "values": post or {f"lab_{n}_date": today for n in range(1, LAB_ROWS + 1)},
            "errors": errors,
        },
    )


@clinic_required
def lab_flag(request, patient_id):
    """The flag of one typed result, shown as the clinician types (HTMX). It reads the patient's sex, age
    and latest pregnancy statement, so it is audited like any other read of the record."""
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    _require(request, Perm.VIEW_CLINICAL)
    row = request.GET.get("row", "")
    test = request.GET.get(f"lab_{row}_test", "")
    audit_record(
        actor=request.actor,
        action="patient.view_for_lab_flag",
        obj=patient,
        detail={"test": test if test in lab_tests() else ""},
    )
    raw = request.GET.get(f"lab_{row}_value", "").strip().replace(",", ".")
    unit = request.GET.get(f"lab_{row}_unit", "").strip()
    context: dict = {}
    if test in lab_tests() and raw:
        try:
            value = float(raw)
            sex = patient.sex_at_birth if patient.sex_at_birth in ("male", "female") else "unknown"
            today = timezone.localdate()
            # The limits depend on age and pregnancy (clinical.md §12.6): the latest statement on the record.
            status = patient.pregnancy_statuses.current().filter(recorded_on__lte=today).first()
            pregnant = sex == "female" and status is not None and status.pregnant == "yes"
            context["result"] = flag_one(
                test,
                value,
                unit or lab_tests()[test]["unit"],
                sex,
                age=age_on(patient.birth_date, today),
                pregnant=pregnant,
                trimester=status.trimester if pregnant else None,
                lang="tr" if is_turkish() else "en",
            )
        except ValueError as exc:
            context["problem"] = str(exc) if isinstance(exc, UnknownUnit) else _("not a number")
    return render(request, "web/_lab_flag.html", context)
