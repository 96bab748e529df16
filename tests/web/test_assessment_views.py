import pytest

from dermatox.accounts.roles import Role
from dermatox.assessments.models import AssessmentSnapshot
from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def hair_patient(physician, patient):
    observation_record(actor=physician, patient=patient, code="daily_shedding", value=150)
    observation_record(actor=physician, patient=patient, code="ludwig", value="II")
    return patient


def test_assessment_page_shows_recommendations_reasons_evidence_and_missing_data(
    login, staff, hair_patient, client
):
    login(staff[Role.NURSE])
    page = client.get(f"/patients/{hair_patient.pk}/assessment/").content.decode()
    assert "Topical minoxidil" in page and "Recommended" in page
    assert 'href="/evidence/#edf_s3_aga_2011"' in page
    assert "Missing data (not assumed normal)" in page and "Pregnancy and breastfeeding not recorded" in page
    assert "Ferritin" in page  # suggested work-up
    assert "Sign and save" not in page  # nurses do not sign
    assert AuditEntry.objects.filter(action="patient.view", detail__sections=["assessment"]).exists()


def test_physician_signs_from_the_page(login, staff, hair_patient, client):
    login(staff[Role.PHYSICIAN])
    response = client.post(f"/patients/{hair_patient.pk}/assessment/")
    snapshot = AssessmentSnapshot.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/assessment/{snapshot.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert "Signed assessment" in page and snapshot.content_hash in page


def test_nurse_cannot_sign_and_front_desk_cannot_see(login, staff, hair_patient, client):
    login(staff[Role.NURSE])
    assert client.post(f"/patients/{hair_patient.pk}/assessment/").status_code == 403
    assert not AssessmentSnapshot.objects.exists()
    login(staff[Role.FRONT_DESK])
    assert client.get(f"/patients/{hair_patient.pk}/assessment/").status_code == 403


def test_evidence_page_lists_register_and_seed_verdicts(login, staff, client):
    login(staff[Role.FRONT_DESK])
    page = client.get("/evidence/").content.decode()
    assert 'id="melo_2024"' in page
    assert 'id="seed_7"' in page and "Wrong" in page  # the "2-year US study" claim
    assert "Partly true" in page


def test_areas_without_an_assessment_collapse_to_one_line(login, staff, hair_patient, client):
    login(staff[Role.PHYSICIAN])
    page = client.get(f"/patients/{hair_patient.pk}/assessment/").content.decode()
    assert "Nothing applies: No skin assessment in this case." in page
    assert "Topical minoxidil" in page  # the hair area is shown in full
