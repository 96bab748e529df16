"""Thin views: parse the request, call a selector or service, render. Errors are mapped at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dermatox.accounts.roles import Perm
from dermatox.accounts.selectors import memberships_for
from dermatox.assessments.models import AssessmentSnapshot, Observation
from dermatox.assessments.services import observation_record
from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.chart.assessment import assessment_view, result_in, snapshot_get
from dermatox.chart.audit_trail import audit_detail_shown, audit_entries
from dermatox.chart.selectors import chart_get, timeline_page
from dermatox.chart.signing import assessment_sign
from dermatox.clinical.reference import by_id, load
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput, NotFound
from dermatox.patients import services as patient_services
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
from dermatox.patients.selectors import (
    emergency_access_available,
    patient_get,
    patient_search,
    patients_recent,
    record_get,
)
from dermatox.treatments.models import AdverseEvent, FollowUp, TreatmentCourse, TreatmentSession
from dermatox.treatments.services import adverse_event_record, follow_up_create, treatment_course_record
from dermatox.web import forms
from dermatox.web.decorators import clinic_required
from dermatox.web.decorators import require_perm as _require
from dermatox.web.labels import display, is_turkish


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
def clinic_choose(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    memberships = list(memberships_for(request.user))
    if request.method == "POST":
        wanted = request.POST.get("clinic")
        chosen = next((m for m in memberships if str(m.clinic_id) == wanted), None)
        if chosen is not None:
            request.session["clinic_id"] = chosen.clinic_id
            audit_record(
                actor=Actor(
                    user=request.user,
                    clinic=chosen.clinic,
                    role=chosen.role,
                    ip=request.actor.ip,
                    user_agent=request.actor.user_agent,
                ),
                action="auth.clinic_choose",
            )
            return redirect("home")
        messages.error(request, _("Choose one of your clinics."))
    elif len(memberships) == 1 and request.actor and request.actor.clinic:
        return redirect("patient-list")
    return render(request, "web/clinic_choose.html", {"memberships": memberships})


@login_required
@require_http_methods(["POST"])
def user_language(request):
    from dermatox.accounts.services import user_set_language

    try:
        user_set_language(user=request.user, language=request.POST.get("language", ""))
    except InvalidInput as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if safe else "home")


@clinic_required
def home(request):
    if request.actor.can(Perm.VIEW_DEMOGRAPHICS):
        return redirect("patient-list")
    return redirect("audit")


@clinic_required
def patient_list(request):
    form = forms.PatientSearchForm(request.GET or None)
    patients: list[Patient] = []
    searched = False
    if form.is_valid() and any(form.cleaned_data.values()):
        searched = True
        patients = patient_search(
            actor=request.actor,
            text=form.cleaned_data["q"],
            birth_date=form.cleaned_data["birth_date"],
            identifier=form.cleaned_data["identifier"],
        )
    elif not form.errors:
        patients = patients_recent(actor=request.actor)
    # A number that matches nobody here may be a patient of a sister clinic: offer break-the-glass by that
    # exact number (never a search across clinics).
    emergency = emergency_access_available(request.actor)
    emergency_ref = form.cleaned_data["identifier"] if searched and not patients and emergency else ""
    template = "web/_patient_rows.html" if request.htmx else "web/patient_list.html"
    return render(
        request,
        template,
        {
            "form": form,
            "patients": patients,
            "searched": searched,
            "emergency_available": emergency,
            "emergency_ref": emergency_ref,
        },
    )


@clinic_required
@require_http_methods(["GET", "POST"])
def patient_create(request):
    _require(request, Perm.EDIT_DEMOGRAPHICS)
    form = forms.PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_services.patient_create(actor=request.actor, data=form.cleaned_data)
        except InvalidInput as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Patient %(mrn)s created.") % {"mrn": patient.mrn})
            return redirect("patient-detail", patient_id=patient.pk)
    return render(request, "web/patient_form.html", {"form": form, "title": _("New patient")})


@clinic_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, patient_id):
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    _require(request, Perm.EDIT_DEMOGRAPHICS)
    form = forms.PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.patient_update(actor=request.actor, patient=patient, data=form.cleaned_data)
        except InvalidInput as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("patient-detail", patient_id=patient.pk)
    audit_record(actor=request.actor, action="patient.view_for_edit", obj=patient)
    return render(
        request, "web/patient_form.html", {"form": form, "patient": patient, "title": _("Edit patient")}
    )


@clinic_required
def patient_detail(request, patient_id):
    chart = chart_get(actor=request.actor, patient_id=patient_id)
    return render(request, "web/patient_detail.html", {"chart": chart, "patient": chart.patient})


@clinic_required
def patient_timeline(request, patient_id):
    patient = patient_get(
        actor=request.actor,
        patient_id=patient_id,
        audit_as="patient.view",
        detail={"sections": ["timeline"]},
        emergency_read=True,
    )
    page = timeline_page(actor=request.actor, patient=patient, cursor=request.GET.get("cursor"))
    return render(
        request,
        "web/_timeline.html",
        {"patient": patient, "page": page, "chart": {"clinical": request.actor.can(Perm.VIEW_CLINICAL)}},
    )


@clinic_required
def patient_versions(request, patient_id):
    patient = patient_get(
        actor=request.actor, patient_id=patient_id, audit_as="patient.view_versions", emergency_read=True
    )
    versions = list(patient.history.select_related("history_user").order_by("-history_date")[:100])
    return render(request, "web/patient_versions.html", {"patient": patient, "versions": versions})


@dataclass(frozen=True)
class AddKind:
    title: Any
    form: type
    perm: str
    save: Any  # (actor, patient, cleaned_data) -> record
    needs_patient_in_form: bool = False


def _observation_save(actor, patient, data):
    return observation_record(actor=actor, patient=patient, **data)


ADD_KINDS: dict[str, AddKind] = {
    "identifier": AddKind(
        _("Add identifier"),
        forms.IdentifierForm,
        Perm.EDIT_DEMOGRAPHICS,
        lambda a, p, d: patient_services.identifier_add(actor=a, patient=p, **d),
    ),
    "encounter": AddKind(
        _("New visit"),
        forms.EncounterForm,
        Perm.EDIT_APPOINTMENTS,
        lambda a, p, d: patient_services.encounter_create(actor=a, patient=p, data=d),
    ),
    "history": AddKind(
        _("Add to medical history"),
        forms.HistoryConditionForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: patient_services.condition_add(actor=a, patient=p, data={**d, "category": "history"}),
    ),
    "diagnosis": AddKind(
        _("Add diagnosis"),
        forms.DiagnosisForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: patient_services.condition_add(
            actor=a, patient=p, data={**d, "category": "diagnosis"}
        ),
    ),
    "medication": AddKind(
        _("Add medication"),
        forms.MedicationForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: patient_services.medication_add(actor=a, patient=p, data=d),
    ),
    "allergy": AddKind(
        _("Add allergy"),
        forms.AllergyForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: patient_services.allergy_add(actor=a, patient=p, data=d),
    ),
    "pregnancy": AddKind(
        _("Record pregnancy / breastfeeding"),
        forms.PregnancyForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: patient_services.pregnancy_status_record(actor=a, patient=p, data=d),
    ),
    "consent": AddKind(
        _("Record consent"),
        forms.ConsentForm,
        Perm.RECORD_CONSENT,
        lambda a, p, d: patient_services.consent_record(actor=a, patient=p, data=d),
    ),
    "note": AddKind(
        _("Write note"),
        forms.NoteForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: patient_services.note_add(actor=a, patient=p, data=d),
        needs_patient_in_form=True,
    ),
    "observation": AddKind(
        _("Record measurement"),
        forms.ObservationForm,
        Perm.EDIT_CLINICAL,
        _observation_save,
        needs_patient_in_form=True,
    ),
    "treatment_course": AddKind(
        _("Record a past acne treatment course"),
        forms.TreatmentCourseForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: treatment_course_record(actor=a, patient=p, data=d),
    ),
    "adverse_event": AddKind(
        _("Record an adverse event"),
        forms.AdverseEventForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: adverse_event_record(actor=a, patient=p, data=d),
        needs_patient_in_form=True,
    ),
    "follow_up": AddKind(
        _("Add follow-up"),
        forms.FollowUpForm,
        Perm.EDIT_CLINICAL,
        lambda a, p, d: follow_up_create(actor=a, patient=p, data=d),
    ),
}

# URL name of a record kind -> model; used for "entered in error".
RECORD_MODELS = {
    "patient": Patient,
    "identifier": PatientIdentifier,
    "encounter": Encounter,
    "condition": Condition,
    "medication": MedicationStatement,
    "allergy": Allergy,
    "pregnancy": PregnancyStatus,
    "consent": Consent,
    "note": Note,
    "observation": Observation,
    "follow_up": FollowUp,
    "treatment_course": TreatmentCourse,
    "adverse_event": AdverseEvent,
    "session": TreatmentSession,
    "assessment": AssessmentSnapshot,
}


@clinic_required
@require_http_methods(["GET", "POST"])
def record_add(request, patient_id, kind):
    spec = ADD_KINDS.get(kind)
    if spec is None:
        raise NotFound("No such form")
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    _require(request, spec.perm)
    extra = {"patient": patient} if spec.needs_patient_in_form else {}
    form = spec.form(request.POST or None, **extra)
    if request.method == "POST" and form.is_valid():
        try:
            spec.save(request.actor, patient, form.cleaned_data)
        except InvalidInput as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("patient-detail", patient_id=patient.pk)
    # The form shows who the patient is (and, for notes and measurements, their visits): a read.
    audit_record(actor=request.actor, action=audit_action("patient.view_for_{0}", kind), obj=patient)
    return render(request, "web/record_form.html", {"form": form, "patient": patient, "title": spec.title})


def _after_correction(patient, record):
    if isinstance(record, Patient):
        return redirect("patient-list")
    if isinstance(record, TreatmentSession):  # its page says what happened to the doses, asks about the units
        return redirect("session-detail", patient_id=patient.pk, session_id=record.pk)
    return redirect("patient-detail", patient_id=patient.pk)


@clinic_required
@require_http_methods(["GET", "POST"])
def record_entered_in_error(request, patient_id, kind, pk):
    model = RECORD_MODELS.get(kind)
    if model is None:
        raise NotFound("No such record type")
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    record = record_get(
        actor=request.actor, patient=patient, model=model, pk=pk if model is not Patient else 0
    )
    _require(request, patient_services.entered_in_error_permission(model))
    if record.is_entered_in_error:  # a second submit, another tab, the back button: nothing to do again
        messages.info(request, _("This record is already marked as entered in error."))
        return _after_correction(patient, record)
    form = forms.EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.record_mark_entered_in_error(
                actor=request.actor, record=record, reason=form.cleaned_data["reason"]
            )
        except InvalidInput as exc:
            forms.apply_errors(form, exc)
        except Conflict as exc:  # withdrawn by someone else meanwhile
            messages.info(request, exc.message)
            return _after_correction(patient, record)
        else:
            messages.success(request, _("Marked as entered in error. It stays in the record's history."))
            return _after_correction(patient, record)
    audit_record(
        actor=request.actor,
        action=audit_action("{0}.view_for_correction", record._meta.model_name),
        obj=record,
    )
    return render(
        request,
        "web/entered_in_error.html",
        {"form": form, "patient": patient, "record": record, "kind": kind},
    )


@clinic_required
@require_http_methods(["GET", "POST"])
def patient_assessment(request, patient_id):
    as_of = timezone.localdate()
    if request.method == "POST":
        patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
        try:
            snapshot = assessment_sign(actor=request.actor, patient=patient, as_of=as_of)
        except InvalidInput as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Assessment signed and saved."))
            return redirect("assessment-snapshot", patient_id=patient.pk, snapshot_id=snapshot.pk)
    view = assessment_view(actor=request.actor, patient_id=patient_id, as_of=as_of)
    return render(
        request,
        "web/assessment.html",
        {"view": view, "patient": view.patient, **_result_context(view.result)},
    )


@clinic_required
def assessment_snapshot(request, patient_id, snapshot_id):
    snapshot = snapshot_get(actor=request.actor, patient_id=patient_id, snapshot_id=snapshot_id)
    return render(
        request,
        "web/assessment_snapshot.html",
        {"snapshot": snapshot, "patient": snapshot.patient, **_result_context(snapshot.result)},
    )


AREAS = (("hair", _("Hair loss")), ("acne", _("Acne and oily skin")), ("scar", _("Acne scars")))


def area_blocks(result: dict | None) -> list[dict]:
    """Recommendations grouped by area; an area where nothing applies for one shared reason (e.g. no acne
    assessment) is collapsed into that one line."""
    blocks = []
    for area, title in AREAS:
        recs = [r for r in (result or {}).get("recommendations", []) if r["area"] == area]
        reasons = {tuple(r["reasons"]) for r in recs}
        collapsed = recs and all(r["status"] == "not_indicated" for r in recs) and len(reasons) == 1
        blocks.append(
            {
                "area": area,
                "title": title,
                "recs": recs,
                "collapsed": recs[0]["reasons"][0] if collapsed else "",
            }
        )
    return blocks


def _result_context(result: dict | None) -> dict:
    """An engine result as the page shows it: every text in the reader's language, the recommendations by
    area, and the alerts about what the patient already takes with the critical ones first."""
    shown = result_in(result, get_language())
    alerts = (shown or {}).get("safety", {}).get("alerts", [])
    return {
        "result": shown,
        "blocks": area_blocks(shown),
        "alerts": sorted(alerts, key=lambda a: a.get("severity") != "critical"),
        "evidence_by_id": by_id("evidence.toml"),
    }


@login_required
def evidence(request):
    """What the evidence says: the register, the status of use of each treatment (approved, off-label,
    investigational... clinical.md §12.8b), and the seed texts' claims with the reference's verdicts."""
    areas = dict(AREAS)
    return render(
        request,
        "web/evidence.html",
        {
            "entries": sorted(by_id("evidence.toml").values(), key=lambda e: e["id"]),
            "claims": load("seed_claims.toml"),
            "treatments": [
                {
                    **t,
                    "name": display(t),
                    "area_name": areas.get(t["area"], t["area"]),
                    "regulatory_text": t["regulatory_note_tr"] if is_turkish() else t["regulatory_note"],
                }
                for t in load("treatments.toml")
            ],
        },
    )


@clinic_required
def audit_view(request):
    form = forms.AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    patient_id = None
    if filters.get("patient"):
        match = Patient.objects.filter(clinic=request.actor.clinic, mrn__iexact=filters["patient"]).first()
        patient_id = match.pk if match else "00000000-0000-0000-0000-000000000000"
    entries = audit_entries(
        actor=request.actor,
        patient_id=patient_id,
        username=filters.get("user", ""),
        action=filters.get("action", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        sort=request.GET.get("sort", "-seq"),
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page:  # protocols, points, doses...: clinical, not for a manager's eyes
        entry.shown_detail = audit_detail_shown(request.actor, entry.detail, entry.action)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "web/audit.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "sort": request.GET.get("sort", "-seq"),
        },
    )
