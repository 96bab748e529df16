"""The REST API end to end through the WSGI stack: tokens and scopes, the one error shape, pagination,
every endpoint's happy path, and that a token never sees another clinic's records. The writes added later
(consents, follow-ups, rescheduling, toxin charting) are in test_rest_writes.py; the `token` and `api`
fixtures in conftest.py."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.patients.services import consent_record, patient_create
from dermatox.treatments.services import session_create
from tests.api.helpers import is_error
from tests.signing import sign

pytestmark = pytest.mark.django_db

# --- authentication, scopes, the error shape ---------------------------------------------------------------


def test_no_token_or_a_bad_one_is_401_with_the_error_shape(api):
    for auth in (None, "Bearer dx_not-a-real-token", "Basic dXNlcjpwYXNz"):
        response = api("get", "/api/patients", auth=auth)
        is_error(response, 401, "unauthenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_read_only_token_cannot_write(api, token, patient):
    read_only = token(scopes=["read"])
    assert api("get", "/api/patients", auth=read_only).status_code == 200
    body = is_error(
        api("post", f"/api/patients/{patient.pk}/allergies", {"substance": "Latex"}, auth=read_only),
        403,
        "insufficient_scope",
    )
    assert "write" in body["message"]
    assert not patient.allergies.exists()


def test_a_role_without_clinical_access_gets_403_on_clinical_sections(api, token, patient):
    front_desk = token(user_key=Role.FRONT_DESK)
    assert api("get", f"/api/patients/{patient.pk}", auth=front_desk).status_code == 200
    is_error(api("get", f"/api/patients/{patient.pk}/conditions", auth=front_desk), 403)


def test_another_clinics_token_sees_nothing_of_clinic_a(api, token, patient):
    other = token(user_key="physician_b", clinic_index=1)
    listed = api("get", "/api/patients", auth=other).json()
    assert listed == {"count": 0, "next": None, "previous": None, "items": []}
    assert api("get", f"/api/patients?q={patient.family_name}", auth=other).json()["count"] == 0
    is_error(api("get", f"/api/patients/{patient.pk}", auth=other), 404, "not_found")
    for section in (
        "conditions",
        "medications",
        "allergies",
        "observations",
        "consents",
        "toxin-sessions",
        "follow-ups",
        "appointments",
    ):
        is_error(api("get", f"/api/patients/{patient.pk}/{section}", auth=other), 404, "not_found")
    is_error(api("patch", f"/api/patients/{patient.pk}", {"phone": "+905551112233"}, auth=other), 404)
    is_error(api("post", f"/api/patients/{patient.pk}/allergies", {"substance": "Latex"}, auth=other), 404)
    assert not patient.allergies.exists()
    patient.refresh_from_db()
    assert patient.phone == ""


def test_an_unknown_patient_is_404_and_a_malformed_id_422(api):
    is_error(api("get", f"/api/patients/{uuid.uuid4()}"), 404, "not_found")
    body = is_error(api("get", "/api/patients/not-a-uuid"), 422, "invalid")
    assert "path.patient_id" in body["fields"]


# --- patients ------------------------------------------------------------------------------------------------


def new_patient(physician, given, family, birth="1980-01-01"):
    return patient_create(
        actor=physician,
        data={"given_name": given, "family_name": family, "sex_at_birth": "male", "birth_date": birth},
    )


def test_patient_list_pages_with_count_and_next(api, physician):
    for given, family in (("Ali", "Ak"), ("Can", "Bal"), ("Ece", "Cem")):
        new_patient(physician, given, family)
    first = api("get", "/api/patients?limit=2").json()
    assert first["count"] == 3 and [p["family_name"] for p in first["items"]] == ["Ak", "Bal"]
    assert first["previous"] is None and "offset=2" in first["next"] and "limit=2" in first["next"]
    second = api("get", first["next"]).json()
    assert [p["family_name"] for p in second["items"]] == ["Cem"]
    assert second["next"] is None and "offset=0" in second["previous"]


def test_patient_search_by_name_and_birth_date_is_audited(api, physician, patient):
    new_patient(physician, "Ali", "Ak", birth="1970-05-05")
    found = api("get", "/api/patients?q=sahin").json()  # accents and case folded, like the UI
    assert [p["id"] for p in found["items"]] == [str(patient.pk)]
    assert found["items"][0]["identifiers"] == [{"system": "national_id", "value": "12345678901"}]
    assert api("get", "/api/patients?birth_date=1970-05-05").json()["count"] == 1
    entry = AuditEntry.objects.filter(action="patient.search").order_by("-seq").first()
    assert entry.channel == "api" and entry.detail["results"] == 1


def test_patient_get_create_update(api, patient):
    got = api("get", f"/api/patients/{patient.pk}").json()
    assert got["mrn"] == patient.mrn and got["given_name"] == "İpek"
    assert "clinic" not in got and "search_name" not in got and "entered_in_error_at" not in got
    assert AuditEntry.objects.filter(action="patient.view", patient_id=patient.pk, channel="api").exists()

    created = api(
        "post",
        "/api/patients",
        {"given_name": "Mert", "family_name": "Demir", "sex_at_birth": "male", "birth_date": "1991-02-03"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["mrn"].startswith("AAA-")

    changed = api("patch", f"/api/patients/{patient.pk}", {"phone": "+90 555 111 22 33"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["phone"] == "+90 555 111 22 33" and changed.json()["given_name"] == "İpek"
    assert patient.history.count() == 2


def test_bad_patient_input_names_the_field(api, patient):
    body = is_error(
        api("post", "/api/patients", {"family_name": "Demir", "sex_at_birth": "x", "birth_date": "soon"}),
        422,
        "invalid",
    )
    assert {"body.given_name", "body.sex_at_birth", "body.birth_date"} <= set(body["fields"])
    body = is_error(
        api(
            "post",
            "/api/patients",
            {
                "given_name": "A",
                "family_name": "B",
                "sex_at_birth": "male",
                "birth_date": "1990-01-01",
                "clinic": 2,
            },
        ),
        422,
    )
    assert "body.clinic" in body["fields"]  # nobody sets the clinic through the API
    # The model's own rules answer 400 with the model's field name.
    body = is_error(api("patch", f"/api/patients/{patient.pk}", {"email": "not-an-email"}), 400, "invalid")
    assert "email" in body["fields"]
    body = is_error(api("patch", f"/api/patients/{patient.pk}", {"given_name": None}), 422)
    assert "null" in body["message"]
    is_error(api("get", "/api/patients?limit=1000"), 422)
    assert "query.limit" in api("get", "/api/patients?limit=0").json()["fields"]


def test_a_body_that_is_not_json_is_400(client, token):
    response = client.post(
        "/api/patients", data="{not json", content_type="application/json", HTTP_AUTHORIZATION=token()
    )
    is_error(response, 400, "bad_request")


# --- history ---------------------------------------------------------------------------------------------------


def test_conditions_medications_allergies_list_and_create(api, patient):
    base = f"/api/patients/{patient.pk}"
    made = api("post", f"{base}/conditions", {"category": "diagnosis", "text": "Acne", "icd10": "L70.0"})
    assert made.status_code == 201, made.json()
    api("post", f"{base}/conditions", {"category": "history", "text": "Asthma"})
    conditions = api("get", f"{base}/conditions").json()
    assert conditions["count"] == 2
    assert [c["text"] for c in api("get", f"{base}/conditions?category=diagnosis").json()["items"]] == [
        "Acne"
    ]

    made = api("post", f"{base}/medications", {"name": "Isotretinoin", "dose": "20 mg daily"})
    assert made.status_code == 201 and made.json()["status"] == "active"
    assert api("get", f"{base}/medications").json()["items"][0]["name"] == "Isotretinoin"
    body = is_error(
        api(
            "post",
            f"{base}/medications",
            {"name": "X", "start_date": "2020-05-01", "end_date": "2020-01-01"},
        ),
        400,
    )
    assert "end_date" in body["fields"]

    made = api("post", f"{base}/allergies", {"substance": "Latex", "criticality": "high"})
    assert made.status_code == 201
    assert api("get", f"{base}/allergies").json()["items"][0]["criticality"] == "high"
    assert (
        "body.criticality"
        in is_error(api("post", f"{base}/allergies", {"substance": "X", "criticality": "extreme"}), 422)[
            "fields"
        ]
    )
    assert AuditEntry.objects.filter(action="allergy.add", channel="api").count() == 1
    viewed = AuditEntry.objects.filter(action="patient.view", channel="api", patient_id=patient.pk)
    assert {tuple(e.detail["sections"]) for e in viewed} >= {
        ("conditions",),
        ("medications",),
        ("allergies",),
    }


# --- observations -----------------------------------------------------------------------------------------------


def test_observations_create_and_filter_by_code_and_dates(api, patient):
    base = f"/api/patients/{patient.pk}/observations"
    now = timezone.now()
    earlier = (now - dt.timedelta(days=30)).isoformat()
    made = api("post", base, {"code": "daily_shedding", "value": 120, "effective_at": earlier})
    assert made.status_code == 201, made.json()
    assert made.json()["value_number"] == 120 and made.json()["unit"] == "/d"
    assert api("post", base, {"code": "daily_shedding", "value": 90}).status_code == 201
    coded = api("post", base, {"code": "norwood", "value": "III"})
    assert (
        coded.status_code == 201
        and coded.json()["value_code"] == "III"
        and coded.json()["value_number"] is None
    )

    shedding = api("get", f"{base}?code=daily_shedding").json()
    assert shedding["count"] == 2 and shedding["items"][0]["value_number"] == 90  # newest first
    recent = api("get", f"{base}?code=daily_shedding&date_from={(now - dt.timedelta(days=2)).date()}").json()
    assert [o["value_number"] for o in recent["items"]] == [90]
    old = api("get", f"{base}?date_to={(now - dt.timedelta(days=10)).date()}").json()
    assert [o["value_number"] for o in old["items"]] == [120]
    is_error(api("get", f"{base}?date_from=2024-02-01&date_to=2024-01-01"), 400)

    body = is_error(api("post", base, {"code": "daily_shedding", "value": "lots"}), 400, "invalid")
    assert "value" in body["fields"]
    body = is_error(api("post", base, {"code": "no_such_thing", "value": 1}), 400)
    assert "code" in body["fields"]
    body = is_error(
        api("post", base, {"code": "daily_shedding", "value": 1, "effective_at": "2024-01-01T10:00:00"}), 422
    )
    assert "body.effective_at" in body["fields"]  # a time without a UTC offset is ambiguous


# --- consents, toxin sessions, follow-ups -------------------------------------------------------------------------


def test_consents_list(api, physician, patient):
    consent_record(
        actor=physician,
        patient=patient,
        data={
            "kind": "treatment",
            "decision": "granted",
            "signed_at": timezone.now() - dt.timedelta(hours=1),
            "signer_name": "İpek Şahin",
        },
    )
    items = api("get", f"/api/patients/{patient.pk}/consents").json()["items"]
    assert [(c["kind"], c["decision"], c["has_document"]) for c in items] == [("treatment", "granted", False)]


def test_toxin_sessions_with_points_and_administrations_and_follow_ups(api, nurse, patient, receive_and_open):
    vial = receive_and_open("API-LOT-1")
    session = sign(
        nurse, session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    )
    page = api("get", f"/api/patients/{patient.pk}/toxin-sessions").json()
    assert page["count"] == 1
    got = page["items"][0]
    assert got["id"] == session.pk and got["status"] == "signed" and got["points"]
    assert got["total_units"] == sum(p["units"] for p in got["points"]) > 0
    administration = got["points"][0]["administration"]
    assert administration["lot_number"] == "API-LOT-1" and administration["product"] == "onabotulinumtoxinA"
    assert "plan_check" not in got and "vial" not in got

    follow_ups = api("get", f"/api/patients/{patient.pk}/follow-ups").json()
    assert follow_ups["count"] == session.patient.follow_ups.current().count()
    assert all({"due_date", "reason", "status"} <= set(f) for f in follow_ups["items"])


# --- appointments -------------------------------------------------------------------------------------------------


def test_appointments_book_and_list(api, staff, patient):
    base = f"/api/patients/{patient.pk}/appointments"
    start = (timezone.now() + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    data = {
        "start": start.isoformat(),
        "end": (start + dt.timedelta(minutes=30)).isoformat(),
        "kind": "consultation",
        "practitioner_id": staff[Role.PHYSICIAN].pk,
        "reason": "Review",
    }
    made = api("post", base, data)
    assert made.status_code == 201, made.json()
    assert made.json()["practitioner_id"] == staff[Role.PHYSICIAN].pk and made.json()["status"] == "booked"
    listed = api("get", base).json()
    assert listed["count"] == 1 and listed["items"][0]["reason"] == "Review"

    clash = is_error(api("post", base, data), 400, "invalid")  # the practitioner is taken then
    assert "start" in clash["fields"]
    body = is_error(api("post", base, {**data, "practitioner_id": staff["physician_b"].pk}), 400)
    assert "practitioner" in body["fields"]
    body = is_error(api("post", base, {**data, "kind": "party"}), 422)
    assert "body.kind" in body["fields"]
