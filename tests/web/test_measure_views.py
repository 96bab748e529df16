"""Examination forms and lab entry: many measurements, all or nothing, each bad field named.
Sources: GAGS factors and bands clinical.md §5.1; Sebumeter conditions §5.4; IGA §5.2; Norwood §1.2;
ferritin < 30 ng/mL and vitamin D < 20 ng/mL (ng/mL x 2.496 = nmol/L) §2.2, §12.6."""

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.models import Observation
from dermatox.audit.models import AuditEntry
from dermatox.patients.services import patient_create, pregnancy_status_record

pytestmark = pytest.mark.django_db
NOW = lambda: timezone.localtime().strftime("%Y-%m-%dT%H:%M")  # noqa: E731
REGIONS = ("forehead", "right_cheek", "left_cheek", "nose", "chin", "chest_back")


@pytest.fixture
def nurse_client(staff, login):
    return login(staff[Role.NURSE])


@pytest.fixture
def man(physician):
    return patient_create(
        actor=physician,
        data={
            "given_name": "Emre",
            "family_name": "Kaya",
            "sex_at_birth": "male",
            "birth_date": "1988-01-01",
        },
    )


def test_gags_is_computed_from_the_regions_and_kept_with_them(nurse_client, patient):
    grades = dict(zip(REGIONS, ("2", "3", "3", "1", "2", "0"), strict=True))
    response = nurse_client.post(
        f"/patients/{patient.pk}/examination/skin/",
        {
            "measured_at": NOW(),
            **{f"gags_{r}": g for r, g in grades.items()},
            "iga": "3",
            "diagnosis": "acne_vulgaris",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    gags = Observation.objects.get(patient=patient, code="gags")
    # 2x2 + 2x3 + 2x3 + 1x1 + 1x2 + 3x0 = 19 (moderate band 19-30)
    assert gags.value_number == 19 and gags.components == {r: int(g) for r, g in grades.items()}
    assert Observation.objects.get(patient=patient, code="iga").value_number == 3
    assert patient.conditions.get(category="diagnosis").code == "acne_vulgaris"


def test_an_incomplete_gags_and_a_bad_count_save_nothing_and_name_the_fields(nurse_client, patient):
    response = nurse_client.post(
        f"/patients/{patient.pk}/examination/skin/",
        {"measured_at": NOW(), "gags_forehead": "2", "inflammatory_lesions": "-4", "iga": "2"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Grade every region" in page
    assert not Observation.objects.filter(patient=patient).exists()


def test_a_bad_count_alone_is_named_and_nothing_is_saved(nurse_client, patient):
    response = nurse_client.post(
        f"/patients/{patient.pk}/examination/skin/",
        {"measured_at": NOW(), "inflammatory_lesions": "-4", "iga": "2"},
    )
    assert response.status_code == 200
    assert "must be &gt;= 0" in response.content.decode()
    assert not Observation.objects.filter(patient=patient).exists()


def test_sebumeter_readings_keep_site_device_and_conditions(nurse_client, patient):
    data = {
        "measured_at": NOW(),
        "sebum_device": "Sebumeter SM 815",
        "sebum_hours_since_wash": "3",
        "sebum_acclimatisation": "20",
        "sebum_room_temp": "21",
        "sebum_1_site": "forehead",
        "sebum_1_value": "182",
        "sebum_2_site": "left_cheek",
        "sebum_2_value": "95,5",
    }
    assert nurse_client.post(f"/patients/{patient.pk}/examination/skin/", data).status_code == 302
    readings = {o.body_site: o for o in Observation.objects.filter(patient=patient, code="sebum_casual")}
    assert readings["forehead"].value_number == 182 and readings["left_cheek"].value_number == 95.5
    assert readings["forehead"].device == "Sebumeter SM 815"
    assert "3 h since washing" in readings["forehead"].method and "21 °C" in readings["forehead"].method


def test_sebumeter_readings_without_conditions_are_refused(nurse_client, patient):
    response = nurse_client.post(
        f"/patients/{patient.pk}/examination/skin/",
        {"measured_at": NOW(), "sebum_1_site": "forehead", "sebum_1_value": "182"},
    )
    assert response.status_code == 200
    assert "required for a Sebumeter reading" in response.content.decode()
    assert not Observation.objects.filter(patient=patient).exists()


def test_hair_exam_of_a_man_with_norwood_and_diagnosis(nurse_client, man):
    response = nurse_client.post(
        f"/patients/{man.pk}/examination/hair/",
        {
            "measured_at": NOW(),
            "norwood": "III-vertex",
            "pull_test_hairs": "1",
            "daily_shedding": "60",
            "hair_density": "150",
            "hair_density_site": "vertex",
            "diagnosis": "androgenetic_alopecia",
        },
    )
    assert response.status_code == 302
    values = {o.code: o for o in Observation.objects.filter(patient=man)}
    assert values["norwood"].value_code == "III-vertex"
    assert values["hair_density"].body_site == "vertex"
    assert man.conditions.get().code == "androgenetic_alopecia"


def test_hair_form_shows_the_scales_for_the_patients_sex(nurse_client, man, patient):
    male_page = nurse_client.get(f"/patients/{man.pk}/examination/hair/").content.decode()
    female_page = nurse_client.get(f"/patients/{patient.pk}/examination/hair/").content.decode()
    assert 'name="norwood"' in male_page and 'name="ludwig"' not in male_page
    assert (
        'name="ludwig"' in female_page
        and 'name="sinclair"' in female_page
        and 'name="norwood"' not in female_page
    )


def test_a_pull_test_out_of_range_is_named(nurse_client, man):
    response = nurse_client.post(
        f"/patients/{man.pk}/examination/hair/",
        {"measured_at": NOW(), "pull_test_hairs": "70", "norwood": "II"},
    )
    assert response.status_code == 200 and "must be &lt;= 60" in response.content.decode()
    assert not Observation.objects.filter(patient=man).exists()


def test_labs_are_kept_as_reported_with_their_units(nurse_client, patient):
    today = timezone.localdate().isoformat()
    response = nurse_client.post(
        f"/patients/{patient.pk}/labs/",
        {
            "lab_1_test": "ferritin",
            "lab_1_value": "14",
            "lab_1_unit": "ng/mL",
            "lab_1_date": today,
            "lab_2_test": "vitamin_d_25oh",
            "lab_2_value": "40",
            "lab_2_unit": "nmol/L",
            "lab_2_date": today,
        },
    )
    assert response.status_code == 302
    vitamin_d = Observation.objects.get(patient=patient, code="vitamin_d_25oh")
    assert vitamin_d.value_number == 40 and vitamin_d.unit == "nmol/L" and vitamin_d.loinc


def test_a_lab_row_with_an_unknown_unit_saves_nothing(nurse_client, patient):
    today = timezone.localdate().isoformat()
    response = nurse_client.post(
        f"/patients/{patient.pk}/labs/",
        {
            "lab_1_test": "ferritin",
            "lab_1_value": "14",
            "lab_1_unit": "ng/mL",
            "lab_1_date": today,
            "lab_2_test": "ferritin",
            "lab_2_value": "14",
            "lab_2_unit": "mg/dL",
            "lab_2_date": today,
        },
    )
    assert response.status_code == 200 and "unit:" in response.content.decode()
    assert not Observation.objects.filter(patient=patient).exists()


@pytest.mark.parametrize(
    ("test", "value", "unit", "flag"),
    [
        ("ferritin", "14", "ng/mL", "low"),  # §2.2 ferritin < 30 ng/mL
        ("ferritin", "45", "ug/L", "normal"),
        ("vitamin_d_25oh", "40", "nmol/L", "low"),  # 40 nmol/L = 16 ng/mL < 20
        ("vitamin_d_25oh", "80", "nmol/L", "normal"),  # 32 ng/mL
    ],
)
def test_the_flag_is_shown_as_the_result_is_typed(nurse_client, patient, test, value, unit, flag):
    response = nurse_client.get(
        f"/patients/{patient.pk}/labs/flag/",
        {"row": "1", "lab_1_test": test, "lab_1_value": value, "lab_1_unit": unit},
    )
    assert f'data-flag="{flag}"' in response.content.decode()


def test_the_typed_flag_uses_the_patients_age_and_pregnancy(nurse_client, physician, patient):
    """clinical.md §12.6: female testosterone 2.5 nmol/L is raised (women >= 19 y; the patient is over 30),
    and Hb 11.5 g/dL is anaemia in a non-pregnant woman but not in pregnancy (cut-off 11.0 g/dL)."""

    def typed(test, value, unit):
        response = nurse_client.get(
            f"/patients/{patient.pk}/labs/flag/",
            {"row": "1", "lab_1_test": test, "lab_1_value": value, "lab_1_unit": unit},
        )
        return response.content.decode()

    raised = typed("testosterone_total", "2.5", "nmol/L")
    assert 'data-flag="high"' in raised and "endocrinology" in raised
    assert 'data-flag="low"' in typed("hemoglobin", "11.5", "g/dL")
    pregnancy_status_record(
        actor=physician,
        patient=patient,
        data={"pregnant": "yes", "breastfeeding": "no", "recorded_on": timezone.localdate()},
    )
    assert 'data-flag="normal"' in typed("hemoglobin", "11.5", "g/dL")
    toxic = typed("vitamin_d_25oh", "400", "nmol/L")
    assert 'data-flag="high"' in toxic and 'data-urgent="true"' in toxic and "calcium" in toxic


def test_an_unknown_unit_is_explained_at_once(nurse_client, patient):
    response = nurse_client.get(
        f"/patients/{patient.pk}/labs/flag/",
        {"row": "2", "lab_2_test": "ferritin", "lab_2_value": "3", "lab_2_unit": "mg"},
    )
    assert "unknown unit" in response.content.decode()


def test_front_desk_cannot_open_the_examination(staff, login, patient):
    client = login(staff[Role.FRONT_DESK])
    assert client.get(f"/patients/{patient.pk}/examination/skin/").status_code == 403
    assert client.get(f"/patients/{patient.pk}/labs/").status_code == 403


def test_the_typed_flag_is_an_audited_read(nurse_client, staff, patient):
    """It reads the patient's sex, age and pregnancy: audited with who and which patient, as other reads."""
    nurse_client.get(
        f"/patients/{patient.pk}/labs/flag/",
        {"row": "1", "lab_1_test": "ferritin", "lab_1_value": "14", "lab_1_unit": "ng/mL"},
    )
    entry = AuditEntry.objects.get(action="patient.view_for_lab_flag")
    assert entry.patient_id == patient.pk and entry.actor_id == staff[Role.NURSE].pk
    assert entry.role == Role.NURSE and entry.channel == "web" and entry.detail == {"test": "ferritin"}


def test_the_typed_flag_refused_to_front_desk_is_not_a_read(staff, login, patient):
    client = login(staff[Role.FRONT_DESK])
    assert client.get(f"/patients/{patient.pk}/labs/flag/", {"row": "1"}).status_code == 403
    assert not AuditEntry.objects.filter(action="patient.view_for_lab_flag").exists()
