"""Outcome plots, the cohort page and the printed documents, read as a user would (text of the PDF)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.services import observation_record
from dermatox.chart.signing import assessment_sign
from dermatox.patients.services import encounter_create, patient_create
from dermatox.treatments.services import session_create
from tests.pdf import pdf_text
from tests.signing import sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def treated_man(physician, nurse, receive_and_open):
    """A man with shedding measured before a signed scalp session and 12 weeks after it."""
    man = patient_create(
        actor=physician,
        data={
            "given_name": "Emre",
            "family_name": "Kaya",
            "sex_at_birth": "male",
            "birth_date": "1985-03-01",
            "preferred_language": "tr",
        },
    )
    now = timezone.now()
    observation_record(
        actor=nurse, patient=man, code="daily_shedding", value=180, effective_at=now - dt.timedelta(days=20)
    )
    observation_record(
        actor=nurse, patient=man, code="daily_shedding", value=160, effective_at=now - dt.timedelta(hours=1)
    )
    vial = receive_and_open("L-OUT-1")
    session = sign(nurse, session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=vial.pk))
    later = now + dt.timedelta(weeks=12)
    with time_machine.travel(later, tick=False):
        observation_record(actor=nurse, patient=man, code="daily_shedding", value=100, effective_at=later)
    return man, session, later


def test_patient_outcomes_plot_with_session_marked_and_change(staff, login, treated_man):
    man, _session, _later = treated_man
    page = login(staff[Role.PHYSICIAN]).get(f"/patients/{man.pk}/outcomes/").content.decode()
    assert page.count("<svg") == 1 and 'aria-label="Daily hair shedding' in page
    assert "stroke-dasharray" in page  # the session line
    assert "<b>180</b>" in page and "<b>100</b>" in page and "<b>-80</b>" in page and "-44.4 %" in page


@pytest.mark.usefixtures("treated_man")
def test_cohort_median_change_per_protocol(staff, login):
    page = login(staff[Role.PHYSICIAN]).get("/outcomes/").content.decode()
    # Baseline: the last value before the session (160), after: 100 -> -60 (-37.5 %), n = 1.
    assert '<td class="num">1</td><td class="num">-60</td><td class="num">-37.5 %</td>' in page


def test_outcome_queries_do_not_grow_with_the_history(staff, login, nurse, treated_man):
    man, _session, later = treated_man
    client = login(staff[Role.PHYSICIAN])
    with CaptureQueriesContext(connection) as few:
        client.get(f"/patients/{man.pk}/outcomes/")
    with time_machine.travel(later + dt.timedelta(hours=2), tick=False):
        for i in range(30):
            observation_record(
                actor=nurse, patient=man, code="gags", value=i % 40, effective_at=later - dt.timedelta(days=i)
            )
    with CaptureQueriesContext(connection) as many:
        client.get(f"/patients/{man.pk}/outcomes/")
    assert len(many) == len(few) > 0


def test_plan_pdf_in_the_patients_language_with_recommendations(staff, login, physician, treated_man):
    man, _session, _later = treated_man
    assessment_sign(actor=physician, patient=man, as_of=timezone.localdate())
    client = login(staff[Role.NURSE])  # a nurse working in English prints for a Turkish-speaking patient
    response = client.get(f"/patients/{man.pk}/plan.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Emre Kaya" in text and "Tedavi planı" in text and "Sayfa 1 /" in text
    assert "Kanıt" in text  # the evidence level in plain words


def test_no_plan_without_a_signed_assessment(staff, login, treated_man):
    man, _session, _later = treated_man
    client = login(staff[Role.PHYSICIAN])
    assert client.get(f"/patients/{man.pk}/plan.pdf").status_code == 404
    assert client.get(f"/patients/{man.pk}/plan.pdf?snapshot=abc").status_code == 404


def test_aftercare_pdf_has_the_urgent_warning_and_review_dates(staff, login, treated_man):
    man, session, _later = treated_man
    text = pdf_text(
        login(staff[Role.NURSE]).get(f"/patients/{man.pk}/sessions/{session.pk}/aftercare.pdf").content
    )
    assert "112" in text  # clinical.md §8.3 distant spread: get help at once
    assert "L-OUT-1" in text


def test_visit_summary_pdf(staff, login, physician, treated_man):
    man, _session, _later = treated_man
    visit = encounter_create(
        actor=physician, patient=man, data={"kind": "consultation", "start": timezone.now()}
    )
    observation_record(actor=physician, patient=man, code="pull_test_hairs", value=4, encounter=visit)
    text = pdf_text(
        login(staff[Role.PHYSICIAN]).get(f"/patients/{man.pk}/visits/{visit.pk}/summary.pdf").content
    )
    flat = " ".join(text.split())
    assert "Emre Kaya" in flat and "Ziyaret özeti" in flat  # the patient's language (tr)
    assert "Saç çekme testi (~60 telden çıkan) 4" in flat  # the visit's measurement with its value
    assert "Günlük saç dökülmesi" in flat  # the outcome plots of the repeated measures


def test_front_desk_cannot_print_clinical_documents(staff, login, treated_man):
    man, session, _later = treated_man
    client = login(staff[Role.FRONT_DESK])
    assert client.get(f"/patients/{man.pk}/sessions/{session.pk}/aftercare.pdf").status_code == 403
