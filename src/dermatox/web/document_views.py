"""Printed documents (A4 PDF): treatment plan, aftercare per protocol, visit summary.
Printed in the patient's preferred language, whatever the language of the user printing them."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dermatox.chart.documents import aftercare_document, plan_document, visit_document
from dermatox.clinical.aftercare import aftercare_disclaimer, aftercare_for
from dermatox.documents.pdf import render_pdf
from dermatox.web.decorators import clinic_required
from dermatox.web.outcome_views import outcome_plots

# Evidence levels in plain words (GRADE's four levels, as the treatments data grade them).
LEVEL_WORDS = {
    "high": _("High: several good trials agree; new research is unlikely to change the picture."),
    "moderate": _("Moderate: good studies, but new research may change the picture."),
    "low": _("Low: small or uncontrolled studies; the true effect may be quite different."),
    "very_low": _("Very low: case reports, small series or expert opinion only; the effect is uncertain."),
}
AFTERCARE_SECTIONS = (
    ("urgent", _("Get help at once if")),
    ("expect", _("What to expect")),
    ("do", _("What to do")),
    ("avoid", _("What to avoid")),
    ("review", _("Follow-up")),
)
SHOWN_STATUSES = ("recommended", "option", "not_yet", "defer", "contraindicated")


def _pdf(template: str, context: dict, patient, name: str) -> HttpResponse:
    language = patient.preferred_language
    context = {
        **context,
        "patient": patient,
        "clinic": patient.clinic,
        "patient_line": f"{patient.display_name} · {patient.mrn}",
        "printed_at": timezone.now(),
    }
    response = HttpResponse(render_pdf(template, context, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{patient.mrn}-{name}.pdf"'
    return response


@clinic_required
def plan_pdf(request, patient_id):
    doc = plan_document(actor=request.actor, patient_id=patient_id, snapshot_id=request.GET.get("snapshot"))
    result = doc.result  # every engine text already in the patient's language
    recommendations = [
        {**rec, "level_words": LEVEL_WORDS.get(rec["evidence_level"], rec["evidence_level"])}
        for rec in result.get("recommendations", [])
        if rec["status"] in SHOWN_STATUSES
    ]
    alerts = result.get("safety", {}).get("alerts", [])
    return _pdf(
        "documents/treatment_plan.html",
        {
            "snapshot": doc.snapshot,
            "result": result,
            "critical_alerts": [a for a in alerts if a.get("severity") == "critical"],
            "recommendations": recommendations,
            "planned": doc.planned,
            "given": doc.given,
            "consents": doc.consents,
            "level_legend": list(LEVEL_WORDS.items()),
        },
        doc.patient,
        "treatment-plan",
    )


@clinic_required
def aftercare_pdf(request, patient_id, session_id):
    doc = aftercare_document(actor=request.actor, patient_id=patient_id, session_id=session_id)
    language = doc.patient.preferred_language
    items = aftercare_for(doc.summary.session.protocol, language)
    return _pdf(
        "documents/aftercare.html",
        {
            "summary": doc.summary,
            "reviews": doc.reviews,
            "sections": [
                (kind, title, [i for i in items if i.kind == kind]) for kind, title in AFTERCARE_SECTIONS
            ],
            "disclaimer": aftercare_disclaimer(language),
        },
        doc.patient,
        "aftercare",
    )


@clinic_required
def visit_pdf(request, patient_id, encounter_id):
    doc = visit_document(actor=request.actor, patient_id=patient_id, encounter_id=encounter_id)
    return _pdf(
        "documents/visit_summary.html",
        {
            "encounter": doc.encounter,
            "observations": doc.observations,
            "diagnoses": doc.diagnoses,
            "sessions": doc.sessions,
            "next_follow_ups": doc.next_follow_ups,
            "plots": outcome_plots(doc.outcomes, doc.patient.preferred_language) if doc.outcomes else [],
        },
        doc.patient,
        "visit-summary",
    )
