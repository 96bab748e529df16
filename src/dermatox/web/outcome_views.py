"""Outcome plots on the patient page and the clinic's cohort figures."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from dermatox.accounts.roles import Perm
from dermatox.chart.outcomes import clinic_cohort, patient_outcomes
from dermatox.documents.plots import series_svg
from dermatox.patients.selectors import patient_get
from dermatox.web.decorators import clinic_required
from dermatox.web.decorators import require_perm as _require
from dermatox.web.labels import is_turkish, measure_label
from dermatox.web.templatetags.dermatox import protocol_label, unit_label


def _language() -> str:
    return "tr" if is_turkish() else "en"


def outcome_plots(outcomes, language: str) -> list[dict]:
    """Each series as an SVG with its change from baseline, labelled in the reader's language."""
    with translation.override(language):
        mark = str(_("Toxin"))  # the plot's session label stays short; the legend below names protocols
    sessions = [(s.on, mark) for s in outcomes.sessions]
    plots = []
    for series in outcomes.series:
        title = measure_label(series.code, language) + (f" · {series.site}" if series.site else "")
        unit = "" if series.unit.startswith("{") else unit_label(series.unit)
        plots.append(
            {
                "series": series,
                "title": title,
                "unit": unit,
                "svg": series_svg(
                    title=title, unit=unit, points=series.points, sessions=sessions, language=language
                ),
            }
        )
    return plots


@clinic_required
def patient_outcomes_view(request, patient_id):
    patient = patient_get(
        actor=request.actor,
        patient_id=patient_id,
        audit_as="patient.view",
        detail={"sections": ["outcomes"]},
        emergency_read=True,
    )
    _require(request, Perm.VIEW_CLINICAL)
    outcomes = patient_outcomes(actor=request.actor, patient=patient)
    return render(
        request,
        "web/_outcomes.html",
        {
            "patient": patient,
            "plots": outcome_plots(outcomes, _language()),
            "sessions": [(s.on, protocol_label(s.protocol, _language())) for s in outcomes.sessions],
        },
    )


@clinic_required
def clinic_outcomes(request):
    _require(request, Perm.VIEW_CLINICAL)
    cohort = clinic_cohort(actor=request.actor)
    language = _language()
    return render(
        request,
        "web/clinic_outcomes.html",
        {
            "cohort": cohort,
            "protocols": {p: protocol_label(p, language) for p, _n in cohort.sessions_per_protocol}
            | {c.protocol: protocol_label(c.protocol, language) for c in cohort.changes},
            "measures": {c.measure: measure_label(c.measure, language) for c in cohort.changes},
        },
    )
