"""Issue 12 §1.4: text a user typed (here a body site) is drawn in plots as it was typed, never parsed as
matplotlib mathtext, which failed on "$\\frac{$" and took the outcomes page and the visit PDF down."""

import datetime as dt

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.services import observation_record
from dermatox.documents.plots import series_svg
from dermatox.patients.services import encounter_create
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

SITE = "$\\frac{$"


@pytest.fixture
def measured_with_a_math_site(patient, nurse):
    now = timezone.now()
    for days, value in ((30, 150), (1, 120)):
        observation_record(
            actor=nurse,
            patient=patient,
            code="hair_density",  # one series per site: the site is in the plot's title
            value=value,
            effective_at=now - dt.timedelta(days=days),
            body_site=SITE,
        )
    return patient


def test_the_outcomes_page_shows_a_math_like_site_literally(staff, login, measured_with_a_math_site):
    patient = measured_with_a_math_site
    response = login(staff[Role.PHYSICIAN]).get(f"/patients/{patient.pk}/outcomes/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "$\\frac{$" in page  # the plot's own title text, as typed


def test_the_visit_pdf_shows_a_math_like_site_literally(staff, login, physician, measured_with_a_math_site):
    patient = measured_with_a_math_site
    visit = encounter_create(
        actor=physician, patient=patient, data={"kind": "consultation", "start": timezone.now()}
    )
    observation_record(actor=physician, patient=patient, code="pull_test_hairs", value=3, encounter=visit)
    response = login(staff[Role.PHYSICIAN]).get(f"/patients/{patient.pk}/visits/{visit.pk}/summary.pdf")
    assert response.status_code == 200
    assert "$\\frac{$" in pdf_text(response.content)


@pytest.mark.parametrize("text", [SITE, "$x^2$", "a $ b $$ c", "\\mathrm{", "50$"])
def test_every_plot_text_is_plain(text):
    """Title, unit and session labels all pass through the same plain-text setting."""
    svg = series_svg(
        title=text,
        unit=text,
        points=[(dt.date(2026, 1, 1), 1), (dt.date(2026, 2, 1), 2)],
        sessions=[(dt.date(2026, 1, 15), text)],
        language="en",
    )
    assert svg.count(text.replace("&", "&amp;").replace("<", "&lt;")) >= 3
