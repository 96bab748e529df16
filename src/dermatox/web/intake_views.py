"""Intake: staff start it and review it; the patient fills it in on a tablet through a one-time link."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.clinical.intake import (
    CONSENT_KINDS,
    COURSE_OUTCOMES,
    MAX_COURSES,
    TOXIN_AREAS,
    acne_treatments,
    questions_for,
)
from dermatox.clinical.reference import load
from dermatox.common.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from dermatox.common.http import client_ip
from dermatox.common.throttle import check_throttle, count_failure
from dermatox.intake import services
from dermatox.intake.models import IntakeForm
from dermatox.intake.texts import CONSENT_TEXTS, DECLARATION, RULES
from dermatox.patients.models import Language, Sex
from dermatox.patients.selectors import patient_get, record_get
from dermatox.web.decorators import clinic_required
from dermatox.web.decorators import require_perm as _require
from dermatox.web.labels import TOXIN_AREA_LABELS, display

OUTCOME_LABELS = {
    "inadequate": _("Did not help enough"),
    "partial": _("Helped a little"),
    "good": _("Helped well"),
    "not_tolerated": _("Side effects: had to stop"),
}


@clinic_required
def intake_start(request, patient_id):
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    if request.method != "POST":  # after the lookup: another clinic's patient is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    _require(request, Perm.EDIT_DEMOGRAPHICS)
    intake, token = services.intake_start(actor=request.actor, patient=patient)
    link = request.build_absolute_uri(f"/intake/{token}/")
    audit_record(actor=request.actor, action="patient.view_for_intake", obj=patient)
    return render(request, "web/intake_started.html", {"patient": patient, "intake": intake, "link": link})


def _intake_of(request, patient_id, intake_id) -> IntakeForm:
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    return record_get(actor=request.actor, patient=patient, model=IntakeForm, pk=intake_id)


@clinic_required
@require_http_methods(["GET", "POST"])
def intake_review(request, patient_id, intake_id):
    intake = _intake_of(request, patient_id, intake_id)
    _require(request, Perm.VIEW_CLINICAL)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.intake_cancel(actor=request.actor, intake=intake)
                messages.success(request, _("Intake cancelled."))
            else:
                counts = services.intake_confirm(actor=request.actor, intake=intake)
                messages.success(
                    request,
                    _("Intake confirmed into the record: %(n)s entries.") % {"n": sum(counts.values())},
                )
        except (Conflict, InvalidInput) as exc:
            messages.error(request, exc.message)
        return redirect("patient-detail", patient_id=intake.patient_id)
    answers = services.intake_answers(intake) if intake.answers else None
    audit_record(actor=request.actor, action="intake.view", obj=intake)
    patient = intake.patient
    changes = []
    if intake.answers:
        for name, value in intake.answers["demographics"].items():
            stored = getattr(patient, name)
            stored = stored.isoformat() if hasattr(stored, "isoformat") else stored
            if str(stored or "") != str(value or ""):
                changes.append((patient._meta.get_field(name).verbose_name, stored, value))
    sex = intake.answers.get("demographics", {}).get("sex_at_birth") if intake.answers else None
    return render(
        request,
        "web/intake_review.html",
        {
            "patient": patient,
            "intake": intake,
            "answers": answers,
            "changes": changes,
            "questions": [(q, answers.answers.get(q.id)) for q in questions_for(sex)] if answers else [],
            "language": translation.get_language(),
            "consent_titles": {k: v[0] for k, v in CONSENT_TEXTS.items()},
            "treatment_names": _treatment_names(),
            "outcome_labels": OUTCOME_LABELS,
        },
    )


@clinic_required
def intake_pdf(request, patient_id, intake_id):
    intake = _intake_of(request, patient_id, intake_id)
    _require(request, Perm.VIEW_CLINICAL)
    if not intake.consent_pdf:
        raise NotFound("No signed document")
    audit_record(actor=request.actor, action="intake.export_pdf", obj=intake)
    return FileResponse(
        intake.consent_pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{intake.patient.mrn}-consent.pdf",
    )


def _treatment_names() -> dict[str, str]:
    return {t["id"]: display(t) for t in acne_treatments()}


def _language(request, intake: IntakeForm) -> str:
    wanted = request.GET.get("lang") or request.POST.get("lang") or intake.language
    return wanted if wanted in dict(Language.choices) else "tr"


@require_http_methods(["GET", "POST"])
def intake_fill(request, token):
    """The patient's page: no staff session needed, and nothing else of the system is reachable from it.
    Wrong tokens are counted per address; over settings.DERMATOX_INTAKE_GUESS_RATE that address gets 429
    before any lookup, so links cannot be guessed by trying many."""
    guesses = {
        "group": "intake-link-guess",
        "key": client_ip(request) or "-",
        "rate_setting": "DERMATOX_INTAKE_GUESS_RATE",
    }
    try:
        check_throttle(request, **guesses, message="Too many wrong intake links from this address")
        intake = services.intake_by_token(token)
    except TooManyRequests as exc:
        response = render(request, "web/intake_throttled.html", status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except NotFound:
        count_failure(request, **guesses)
        return render(request, "web/intake_closed.html", status=404)
    language = _language(request, intake)
    translation.activate(language)
    actor = services.patient_actor(
        intake, ip=request.META.get("REMOTE_ADDR"), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300]
    )
    data = request.POST if request.method == "POST" else {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.intake_submit(actor=actor, intake=intake, data=data.dict())
        except InvalidInput as exc:
            errors = {k: [str(RULES.get(m, m)) for m in v] for k, v in exc.fields.items()}
        except Conflict:
            return render(request, "web/intake_closed.html", status=409)
        else:
            return render(request, "web/intake_done.html", {"language": language})
    else:
        services.audit_link_use(intake, actor)
    patient = intake.patient
    values = data or {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
        "phone": patient.phone,
        "email": patient.email,
        "address": patient.address,
        "preferred_language": patient.preferred_language,
    }
    sex = values.get("sex_at_birth") or patient.sex_at_birth
    questions = questions_for(sex)
    item_names = {}
    for file_name, kind in (
        ("conditions.toml", "condition"),
        ("medications.toml", "medication"),
        ("allergens.toml", "allergy"),
    ):
        for row in load(file_name):
            item_names[f"{kind}:{row['id']}"] = display(row, language)
    products = [(p["id"], display(p, language)) for p in load("toxin_products.toml")]
    return render(
        request,
        "web/intake_fill.html",
        {
            "intake": intake,
            "language": language,
            "values": values,
            "errors": errors,
            "sections": [
                ("safety", _("Safety questions"), [q for q in questions if q.section == "safety"]),
                ("other", _("Other health questions"), [q for q in questions if q.section != "safety"]),
            ],
            "item_names": item_names,
            "sex_choices": Sex.choices,
            "language_choices": Language.choices,
            "female": sex == "female",
            "toxin_areas": [(a, TOXIN_AREA_LABELS[a]) for a in TOXIN_AREAS],
            "products": products,
            "treatments": list(_treatment_names().items()),
            "outcomes": [(o, OUTCOME_LABELS[o]) for o in COURSE_OUTCOMES],
            "course_numbers": [str(n) for n in range(1, MAX_COURSES + 1)],
            "yes_no": [("yes", _("Yes")), ("no", _("No"))],
            "yes_no_unknown": [("yes", _("Yes")), ("no", _("No")), ("unknown", _("Not sure"))],
            "agree": [("granted", _("I agree")), ("refused", _("I do not agree"))],
            "products_with_unknown": [*products, ("unknown", _("I don't know"))],
            "consents": [(k, *CONSENT_TEXTS[k]) for k in CONSENT_KINDS],
            "declaration": DECLARATION,
        },
    )
