"""Signing a warned plan on the session page: a reason box beside each warning, the page shown again with
the problem beside each missing reason, the reasons shown once signed and printed on the patient's
documents (clinical.md §12.1b R-BoNT-1: a warned plan needs the clinician's acknowledgement with a reason)."""

import html
import re

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.chart.signing import assessment_sign
from dermatox.inventory.models import Vial, Withdrawal
from dermatox.patients.services import encounter_create
from dermatox.treatments.models import TreatmentSession
from dermatox.treatments.services import session_create
from tests.pdf import pdf_text
from tests.signing import reasons_for

pytestmark = pytest.mark.django_db
REASON = "Explained to the patient; consent form signed today."
RAW_IDS = re.compile(r"\b(off_label|not_indicated_by_pathway|dose_per_point|exceeds_vial|ack_\w+)\b")


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("SIGN-WEB-1")


@pytest.fixture
def hair_session(nurse, patient, vial):
    """Scalp toxin for hair loss: off-label for every product (clinical.md §3.1, §12.8c)."""
    return session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)


def url(session) -> str:
    return f"/patients/{session.patient_id}/sessions/{session.pk}/"


def on_screen(page: str) -> str:
    """What a reader sees: the body's text without tags, scripts or attribute values."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def boxes(page: str) -> dict[str, str]:
    """Reason boxes by field name -> the text typed in them."""
    return dict(re.findall(r'<textarea id="ack-[\w-]+" name="(ack_\w+)"[^>]*>(.*?)</textarea>', page, re.S))


def test_each_warning_has_a_reason_box_beside_it_and_no_raw_id_on_screen(login, staff, hair_session):
    page = login(staff[Role.NURSE]).get(url(hair_session)).content.decode()
    warned = reasons_for(hair_session)
    assert set(boxes(page)) == {f"ack_{w}" for w in warned}
    assert page.count("Reason for signing despite this warning") == len(warned)
    assert "Off-label use" in page and "characters) before the session is signed" in page
    assert RAW_IDS.findall(on_screen(page)) == []


def test_signing_without_every_reason_shows_the_page_again_with_the_error_beside_each(
    login, staff, hair_session, vial
):
    client = login(staff[Role.NURSE])
    warned = reasons_for(hair_session)
    typed = {f"ack_{w}": "" for w in warned} | {"ack_off_label": "ok"}  # too short
    response = client.post(url(hair_session) + "sign/", typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not signed: each warning needs a reason." in page
    assert page.count("Give a reason of 3 to 300 characters to sign despite this warning.") == len(warned)
    assert page.count('aria-invalid="true"') == len(warned)
    assert boxes(page)["ack_off_label"] == "ok"  # what was typed is kept
    assert RAW_IDS.findall(on_screen(page)) == []
    hair_session.refresh_from_db()
    assert hair_session.status == "draft" and not Withdrawal.objects.exists()
    assert Vial.objects.get(pk=vial.pk).remaining_units == 200


def test_with_a_reason_for_each_the_session_is_signed_and_the_page_shows_them(
    login, staff, hair_session, vial
):
    client = login(staff[Role.NURSE])
    reasons = {f"ack_{w}": REASON for w in reasons_for(hair_session)}
    response = client.post(url(hair_session) + "sign/", reasons)
    assert response.status_code == 302
    hair_session.refresh_from_db()
    assert hair_session.status == "signed"
    assert [a["reason"] for a in hair_session.acknowledgements] == [REASON] * len(reasons)
    page = client.get(url(hair_session)).content.decode()
    assert page.count(REASON) == len(reasons) and "Acknowledged" in page
    assert str(staff[Role.NURSE]) in page
    assert boxes(page) == {}  # signed: nothing left to type
    assert RAW_IDS.findall(on_screen(page)) == []


def test_a_turkish_user_reads_the_labels_and_errors_in_turkish(login, staff, hair_session):
    user = staff[Role.NURSE]
    user.language = "tr"
    user.save()
    client = login(user)
    page = client.get(url(hair_session)).content.decode()
    assert "Bu uyarıya rağmen imzalama gerekçesi" in page and "Plan kontrolü" in page
    response = client.post(url(hair_session) + "sign/", {"ack_off_label": " "})
    page = response.content.decode()
    assert "İmzalanmadı: her uyarı için bir gerekçe gerekir." in page
    assert "Bu uyarıya rağmen imzalamak için 3–300 karakterlik bir gerekçe yazın." in page
    reasons = {f"ack_{w}": "Hasta bilgilendirildi; onam formu imzalandı." for w in reasons_for(hair_session)}
    client.post(url(hair_session) + "sign/", reasons)
    page = client.get(url(hair_session)).content.decode()
    assert "Gerekçeyle kabul edildi" in page and "Hasta bilgilendirildi; onam formu imzalandı." in page


def test_a_turkish_user_reads_the_warnings_themselves_in_turkish(login, staff, hair_session):
    """The plan check's words come from the engine's catalogue in the reader's language (issue 11 §3)."""
    user = staff[Role.NURSE]
    user.language = "tr"
    user.save()
    page = login(user).get(url(hair_session)).content.decode()
    assert "prospektüs dışı kullanım" in page and "Off-label use" not in page


def test_a_blocked_plan_shows_no_reason_box_and_signing_is_refused(login, staff, physician, hair_session):
    from dermatox.patients.services import condition_add

    condition_add(
        actor=physician,
        patient=hair_session.patient,
        data={"category": "history", "code": "myasthenia_gravis", "text": "MG"},
    )
    client = login(staff[Role.NURSE])
    page = client.get(url(hair_session)).content.decode()
    assert boxes(page) == {} and "Myasthenia" in page
    response = client.post(url(hair_session) + "sign/", {"ack_off_label": REASON}, follow=True)
    assert "Not signed: the plan check blocks it" in response.content.decode()
    assert TreatmentSession.objects.get(pk=hair_session.pk).status == "draft"


@pytest.fixture
def signed_with_reasons(login, staff, physician, hair_session):
    client = login(staff[Role.NURSE])
    reasons = {f"ack_{w}": REASON for w in reasons_for(hair_session)}
    assert client.post(url(hair_session) + "sign/", reasons).status_code == 302
    assessment_sign(actor=physician, patient=hair_session.patient, as_of=timezone.localdate())
    return hair_session


def test_the_acknowledgements_are_printed_on_the_aftercare_plan_and_visit_summary(
    login, staff, physician, signed_with_reasons
):
    session = signed_with_reasons
    client = login(staff[Role.PHYSICIAN])  # prints in the patient's language (tr)
    for path in (f"sessions/{session.pk}/aftercare.pdf", "plan.pdf"):
        text = " ".join(pdf_text(client.get(f"/patients/{session.patient_id}/{path}").content).split())
        assert REASON in text, path
        assert "Klinisyenin gerekçesiyle devam ettiği uyarılar" in text, path
        assert "Gerekçe:" in text and str(staff[Role.NURSE]) in text, path
    plan = " ".join(pdf_text(client.get(f"/patients/{session.patient_id}/plan.pdf").content).split())
    assert "Bu değerlendirmeden bu yana yapılan toksin seansları" in plan
    visit = encounter_create(
        actor=physician, patient=session.patient, data={"kind": "treatment", "start": timezone.now()}
    )
    path = f"/patients/{session.patient_id}/visits/{visit.pk}/summary.pdf"
    summary = " ".join(pdf_text(client.get(path).content).split())
    assert REASON in summary and "Klinisyenin gerekçesiyle devam ettiği uyarılar" in summary


def test_the_printed_warning_is_in_the_patients_language(login, staff, signed_with_reasons):
    session = signed_with_reasons
    client = login(staff[Role.PHYSICIAN])
    text = " ".join(pdf_text(client.get(f"/patients/{session.patient_id}/plan.pdf").content).split())
    assert "prospektüs dışı kullanım" in text and "Off-label use" not in text
