"""Issue 11 on the screen and on paper: the engine's safety alerts, assumptions and regulatory status on the
Assessment page and the printed plan, in the reader's (page) or the patient's (PDF) language; the
regulatory status per indication on the evidence page (clinical.md §12.8b); the new safety medicines in the
history form (§12.3-§12.4); map regions by anatomical name.

The rendering tests use a hand-made result (alerts and assumptions added to a real one), so they test the
pages, not the engine's rules."""

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.models import AssessmentSnapshot
from dermatox.assessments.services import observation_record
from dermatox.chart import assessment as chart_assessment
from dermatox.clinical.pathways import assess as real_assess
from dermatox.patients.models import MedicationStatement
from dermatox.patients.services import encounter_create, patient_create
from dermatox.treatments.services import session_create
from tests.pdf import pdf_text
from tests.signing import sign

pytestmark = pytest.mark.django_db

# Texts as the engine gives them after localize: no params, so any localize leaves them as they are.
CRITICAL_TR = (
    "Gebe ve izotretinoin kullanıyor: hemen bırakın ve teratoloji konusunda deneyimli bir hekime sevk edin."
)
WARNING_TR = "Kas gevşetici ile botulinum toksini: güçsüzlük artabilir."
ASSUMED_TR = "Gebelik olasılığı belirtilmedi: evet olarak değerlendirildi (doğrulanmamış varsayılan)."


def with_safety(case, *args, **kwargs):
    """The real result, plus what the issue-11 engine adds: alerts about current medicines (a critical
    teratogen in pregnancy, clinical.md §12.3; a BoNT interaction warning, §12.4), an assumption (§12.3
    pregnancy potential by age) and each recommendation's regulatory status (§12.8b)."""
    result = real_assess(case, *args, **kwargs)
    result["safety"]["alerts"] = [
        {
            "id": "bont_muscle_relaxant",
            "severity": "warning",
            "text": WARNING_TR,
            "medications": ["muscle_relaxant"],
            "evidence": ["bont_anticholinergic_relaxant"],
        },
        {
            "id": "isotretinoin_pregnancy",
            "severity": "critical",
            "text": CRITICAL_TR,
            "medications": ["isotretinoin"],
            "evidence": ["aad_acne_2024"],
        },
    ]
    result["assumptions"] = [
        {
            "id": "pregnancy_potential_by_age",
            "text": ASSUMED_TR,
            "field": "patient.can_become_pregnant",
            "value": True,
            "source": "clinical.md §12.3",
            "confidence": "U",
        }
    ]
    for rec in result["recommendations"]:
        rec["regulatory"] = {"botulinum_scalp": "investigational", "minoxidil_topical": "approved"}.get(
            rec["treatment"], "off_label"
        )
    return result


def without_safety(case, *args, **kwargs):
    """A result as engines before issue 11 stored it: no alerts, assumptions or regulatory status."""
    result = real_assess(case, *args, **kwargs)
    result.pop("assumptions", None)
    result["safety"].pop("alerts", None)
    for rec in result["recommendations"]:
        rec.pop("regulatory", None)
    return result


@pytest.fixture
def localize_langs(monkeypatch):
    """Which languages the pages ask the engine's localize for."""
    langs = []
    original = chart_assessment.localize

    def spy(result, lang):
        langs.append(lang)
        return original(result, lang)

    monkeypatch.setattr(chart_assessment, "localize", spy)
    return langs


@pytest.fixture
def hair_woman(physician, patient):
    observation_record(actor=physician, patient=patient, code="daily_shedding", value=150)
    observation_record(actor=physician, patient=patient, code="ludwig", value="II")
    return patient


def turkish(user):
    user.language = "tr"
    user.save()
    return user


def test_critical_alert_is_a_red_banner_above_everything_in_the_readers_language(
    login, staff, hair_woman, client, monkeypatch, localize_langs
):
    monkeypatch.setattr(chart_assessment, "assess", with_safety)
    login(turkish(staff[Role.PHYSICIAN]))
    page = client.get(f"/patients/{hair_woman.pk}/assessment/").content.decode()
    assert localize_langs == ["tr"]
    # One role="alert": the critical one, red, first; the warning is amber, after it.
    assert page.count('role="alert"') == 1
    critical = page.index(CRITICAL_TR)
    assert page.rfind('class="alert alert-danger" role="alert"', 0, critical) > page.rfind(
        "</div>", 0, critical
    )
    assert critical < page.index(WARNING_TR)
    assert page.rfind('class="alert alert-warn"', 0, page.index(WARNING_TR)) > critical
    # Above the page's own explanation, the missing data and every result card.
    assert critical < page.index("Kayıttaki verilerden oluşturulmuştur") and critical < page.index(
        "Eksik veriler"
    )
    # The medicines by name in Turkish, never as ids.
    assert "İzotretinoin (oral)" in page and "Kas gevşetici" in page and "muscle_relaxant" not in page
    assert "Kritik" in page and "Uyarı" in page


def test_assumptions_and_regulatory_badges_in_turkish(
    login, staff, hair_woman, client, monkeypatch, localize_langs
):
    monkeypatch.setattr(chart_assessment, "assess", with_safety)
    login(turkish(staff[Role.NURSE]))
    page = client.get(f"/patients/{hair_woman.pk}/assessment/").content.decode()
    assert "Varsayılanlar (kaydedilmemiş)" in page and ASSUMED_TR in page
    assert "Araştırma aşamasında" in page  # scalp BoNT investigational (§12.8c)
    assert "Onaylı" in page and "Endikasyon dışı" in page
    assert "Topikal minoksidil" in page and "Topical minoxidil" not in page  # names in the reader's language


def test_an_english_reader_gets_the_same_result_in_english(
    login, staff, hair_woman, client, monkeypatch, localize_langs
):
    monkeypatch.setattr(chart_assessment, "assess", with_safety)
    login(staff[Role.PHYSICIAN])
    page = client.get(f"/patients/{hair_woman.pk}/assessment/").content.decode()
    assert localize_langs == ["en"]
    assert "Critical" in page and "Isotretinoin (oral)" in page and "Assumed (not recorded)" in page
    assert "Investigational" in page and "Off-label" in page


def test_a_snapshot_stored_before_the_safety_keys_renders_without_them(
    login, staff, physician, hair_woman, client, monkeypatch
):
    """Signed snapshots are never rewritten: an older result has no alerts, assumptions or regulatory."""
    monkeypatch.setattr("dermatox.chart.signing.assess", without_safety)
    login(staff[Role.PHYSICIAN])
    client.post(f"/patients/{hair_woman.pk}/assessment/")
    snapshot = AssessmentSnapshot.objects.get()
    assert "alerts" not in snapshot.result["safety"] and "assumptions" not in snapshot.result
    response = client.get(f"/patients/{hair_woman.pk}/assessment/{snapshot.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and "Topical minoxidil" in page
    assert 'role="alert"' not in page and "Assumed (not recorded)" not in page and "Off-label" not in page


def test_the_printed_plan_is_in_the_patients_language_with_the_critical_alerts(
    staff, login, physician, hair_woman, monkeypatch, localize_langs
):
    monkeypatch.setattr("dermatox.chart.signing.assess", with_safety)
    login(staff[Role.PHYSICIAN]).post(f"/patients/{hair_woman.pk}/assessment/")
    localize_langs.clear()
    client = login(staff[Role.NURSE])  # the nurse works in English; the patient reads Turkish
    text = " ".join(pdf_text(client.get(f"/patients/{hair_woman.pk}/plan.pdf").content).split())
    assert localize_langs == ["tr"]
    assert "Önemli: şu anda kullandığınız ilaçlar hakkında" in text
    assert CRITICAL_TR in text and "İlaçlar: İzotretinoin (oral)" in text
    assert WARNING_TR not in text  # the patient's copy prints the critical alerts only
    assert "Topikal minoksidil: Önerilir" in text and "Ruhsat durumu: Onaylı" in text
    assert "Ruhsat durumu: Endikasyon dışı" in text
    assert "English" not in text and "İngilizce" not in text  # no "written in English by the rules" note


def _turkish_reason(patient, treatment):
    """The first reason the engine gives for a treatment, rendered from its id in Turkish and in English."""
    from dermatox.chart.case_builder import build_case
    from dermatox.clinical.messages import render

    result = real_assess(build_case(patient, timezone.localdate()).case)
    rec = next(r for r in result["recommendations"] if r["treatment"] == treatment)
    rid, params = rec["reason_ids"][0], rec["reason_params"][0]
    return render(rid if "." in rid else f"reason.{rid}", params, "tr"), rec["reasons"][0]


def test_engine_reasons_are_in_the_readers_language_on_the_page(login, staff, hair_woman, client):
    from django.utils.html import escape

    login(turkish(staff[Role.PHYSICIAN]))
    page = client.get(f"/patients/{hair_woman.pk}/assessment/").content.decode()
    in_turkish, in_english = _turkish_reason(hair_woman, "minoxidil_topical")
    assert escape(in_turkish) in page and escape(in_english) not in page
    assert ">edf_s3_aga_2011<" not in page and ">Blumeyer 2011<" in page  # evidence cited by name, not id


def test_engine_reasons_are_in_the_patients_language_on_the_plan(login, staff, hair_woman):
    login(staff[Role.PHYSICIAN]).post(f"/patients/{hair_woman.pk}/assessment/")
    text = " ".join(
        pdf_text(login(staff[Role.NURSE]).get(f"/patients/{hair_woman.pk}/plan.pdf").content).split()
    )
    in_turkish, in_english = _turkish_reason(hair_woman, "minoxidil_topical")
    assert " ".join(in_turkish.split()) in text and " ".join(in_english.split()) not in text


def test_evidence_page_shows_the_regulatory_status_per_indication(login, staff, client):
    """clinical.md §12.8b: approved vs off-label per indication; scalp BoNT investigational (§12.8c)."""
    login(staff[Role.FRONT_DESK])
    page = client.get("/evidence/").content.decode()

    def row(treatment):
        start = page.index(f'id="treatment-{treatment}"')
        return page[start : page.index("</tr>", start)]

    assert "Investigational" in row("botulinum_scalp") and "19-63" in row("botulinum_scalp")
    assert "placebo-controlled trial" in row("botulinum_scalp")
    assert "Off-label" in row("hormonal_therapy") and "unconfirmed" in row("hormonal_therapy")  # U (§12.8b)
    assert "Approved in part" in row("hormonal_therapy_acne")
    assert "spironolactone for acne is off-label" in row("hormonal_therapy_acne")
    assert "Not an approved drug" in row("oral_supplements")
    assert "Approved" in row("minoxidil_topical") and "Approved" in row("finasteride")
    assert 'id="zhou_2020"' in page and 'id="bont_anticholinergic_relaxant"' in page
    login(turkish(staff[Role.NURSE]))
    page = client.get("/evidence/").content.decode()
    assert "Saçlı deri kaslarına botulinum toksini" in row("botulinum_scalp")
    assert "Araştırma aşamasında" in row("botulinum_scalp") and "Saç dökülmesi" in row("botulinum_scalp")
    assert "Endikasyon dışı" in row("botulinum_intradermal")


NEW_MEDICATIONS = {
    "oral_tetracycline": "Oral tetrasiklin antibiyotik",
    "topical_retinoid": "Topikal retinoid",
    "tazarotene": "Tazaroten",
    "oral_minoxidil": "Minoksidil (oral, düşük doz)",
    "dutasteride": "Dutasterid",
    "vitamin_a": "A vitamini takviyesi",
    "anticholinergic": "Antikolinerjik ilaç",
    "muscle_relaxant": "Kas gevşetici",
    "potassium_sparing_or_ace_inhibitor": "Potasyum takviyesi",
}


def test_history_form_offers_the_safety_medicines_in_turkish_and_records_the_code(
    login, staff, patient, client
):
    """clinical.md §12.3-§12.4: the medication list of the history form carries the nine new ids."""
    login(turkish(staff[Role.NURSE]))
    page = client.get(f"/patients/{patient.pk}/add/medication/").content.decode()
    for code, name in NEW_MEDICATIONS.items():
        start = page.index(f'value="{code}"')
        assert name in page[start : page.index("</option>", start)], code
    response = client.post(
        f"/patients/{patient.pk}/add/medication/", {"code": "dutasteride", "status": "active"}
    )
    assert response.status_code == 302
    assert MedicationStatement.objects.get(patient=patient).code == "dutasteride"


@pytest.fixture
def scalp_session(physician, nurse, receive_and_open):
    """A man (Turkish-speaking) with a scalp session signed today and a visit today."""
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
    vial = receive_and_open("L-MAP-1")
    session = sign(nurse, session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=vial.pk))
    visit = encounter_create(
        actor=physician, patient=man, data={"kind": "consultation", "start": timezone.now()}
    )
    return man, session, visit


# Region ids as they are stored (area:name in the data; a point keeps the name only).
REGION_IDS = ("scalp:", "face:", "axilla:", "temporalis_left", "temporalis_right", "periauricular_left")


def test_region_names_on_the_session_page_in_the_readers_language(login, staff, scalp_session, client):
    man, session, _visit = scalp_session
    login(turkish(staff[Role.NURSE]))
    page = client.get(f"/patients/{man.pk}/sessions/{session.pk}/").content.decode()
    assert "<td>Frontal kas</td>" in page and "<td>Temporal kas, sol</td>" in page
    assert 'aria-label="Oksipital kas: ' in page
    assert not [i for i in REGION_IDS if i in page]
    assert "<td>occipitalis</td>" not in page and "<td>frontalis</td>" not in page
    # views, depths and the product by name too: no ids on the screen
    assert "<td>Saçlı deri, üstten</td>" in page or "<td>Saçlı deri, arka</td>" in page
    assert "Kas içi" in page and ">intramuscular<" not in page and "<td>scalp_top</td>" not in page
    assert "onabotulinumtoxinA ·" not in page
    assert "150 U onabotulinumtoksinA, 5 U/0,1 mL ile 30 noktaya" in page  # the published protocol too
    assert ">{% translate" not in page and ">back of the head<" not in page
    login(staff[Role.PHYSICIAN])
    page = client.get(f"/patients/{man.pk}/sessions/{session.pk}/").content.decode()
    assert "<td>Temporalis, left</td>" in page and "<td>Periauricular region, right</td>" in page


def test_region_names_on_the_visit_and_aftercare_pdfs_in_the_patients_language(login, staff, scalp_session):
    man, session, visit = scalp_session
    client = login(staff[Role.NURSE])
    visit_text = " ".join(
        pdf_text(client.get(f"/patients/{man.pk}/visits/{visit.pk}/summary.pdf").content).split()
    )
    assert "Frontal kas" in visit_text and "Temporal kas, sağ" in visit_text
    assert "onabotulinumtoksinA" in visit_text  # the product by its Turkish name
    aftercare = client.get(f"/patients/{man.pk}/sessions/{session.pk}/aftercare.pdf").content
    aftercare_text = " ".join(pdf_text(aftercare).split())
    for text in (visit_text, aftercare_text):
        assert not [i for i in REGION_IDS if i in text]
        assert "Temporalis left" not in text and "Scalp:" not in text  # the old id-as-words


def test_region_names_on_the_plan_pdf_for_a_planned_session(
    login, staff, physician, nurse, hair_woman, receive_and_open
):
    session_create(actor=nurse, patient=hair_woman, protocol="glabellar_lines")  # a draft: planned doses
    login(staff[Role.PHYSICIAN]).post(f"/patients/{hair_woman.pk}/assessment/")
    text = " ".join(
        pdf_text(login(staff[Role.NURSE]).get(f"/patients/{hair_woman.pk}/plan.pdf").content).split()
    )
    assert "Proserus kası" in text and "Korrugator kası, sol" in text
    assert not [i for i in REGION_IDS if i in text] and "procerus" not in text.lower()
    assert "onabotulinumtoxinA ·" not in text


def test_fhir_injection_site_text_is_the_region_name(scalp_session):
    from dermatox.fhir.resources import medication_administration_to_fhir

    _man, session, _visit = scalp_session
    point = session.points.filter(region="temporalis_left").first()
    site = medication_administration_to_fhir(point, as_dict=True)["dosage"]["site"]
    assert site["coding"][0]["code"] == "temporalis_left" and site["text"] == "Temporalis, left"
