"""The REST API's writes beyond patients and history: consents, follow-ups, rescheduling and cancelling
appointments, and toxin charting (session, points, vial, sign). Each goes through its service: success is
read back from the database, bad input names the field, a read-only token gets 403, and another clinic's
token gets 404 and writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.inventory.models import Vial, Withdrawal
from dermatox.inventory.services import lot_receive, vial_open
from dermatox.patients.models import Consent
from dermatox.patients.services import condition_add
from dermatox.scheduling.models import Appointment
from dermatox.scheduling.services import appointment_book, appointment_cancel, follow_up_book
from dermatox.treatments.models import FollowUp, InjectionPoint, TreatmentSession
from dermatox.treatments.services import follow_up_create, session_create
from tests.api.helpers import is_error
from tests.dates import FAR_EXPIRY, NEXT_YEAR

pytestmark = pytest.mark.django_db


def at(days: int, hour: int) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def records(physician, nurse, staff, patient, receive_and_open):
    """Clinic A's records every write below aims at: a draft glabellar session (no vial yet) with its
    points, an open vial for it, a follow-up and a booked appointment."""
    vial = receive_and_open("API-W-1")
    session = session_create(actor=nurse, patient=patient, protocol="glabellar_lines")
    follow_up = follow_up_create(
        actor=physician, patient=patient, data={"due_date": timezone.localdate(), "reason": "Check"}
    )
    appointment = appointment_book(
        actor=physician,
        patient=patient,
        data={
            "start": at(3, 10),
            "end": at(3, 10) + dt.timedelta(minutes=30),
            "kind": "consultation",
            "practitioner": staff[Role.PHYSICIAN],
        },
    )
    return {
        "patient": patient,
        "vial": vial,
        "session": session,
        "point": session.points.order_by("pk").first(),
        "follow_up": follow_up,
        "appointment": appointment,
    }


def write_operations(r: dict) -> list[tuple[str, str, dict | None]]:
    """Every write operation of this file, each with a valid body, aimed at clinic A's records."""
    p, s, pt = r["patient"].pk, r["session"].pk, r["point"].pk
    return [
        (
            "post",
            f"/api/patients/{p}/consents",
            {
                "kind": "treatment",
                "decision": "granted",
                "signed_at": timezone.now().isoformat(),
                "signer_name": "İpek Şahin",
            },
        ),
        ("post", f"/api/patients/{p}/follow-ups", {"due_date": NEXT_YEAR.isoformat(), "reason": "Review"}),
        ("patch", f"/api/follow-ups/{r['follow_up'].pk}", {"status": "done"}),
        (
            "patch",
            f"/api/appointments/{r['appointment'].pk}",
            {"start": at(4, 11).isoformat(), "end": (at(4, 11) + dt.timedelta(minutes=30)).isoformat()},
        ),
        ("post", f"/api/appointments/{r['appointment'].pk}/cancel", {"reason": "Ill"}),
        ("post", f"/api/patients/{p}/toxin-sessions", {"protocol": "glabellar_lines"}),
        (
            "post",
            f"/api/toxin-sessions/{s}/points",
            {
                "view": "face_front",
                "region": "procerus",
                "x": 50,
                "y": 40,
                "depth": "intramuscular",
                "units": 2,
            },
        ),
        ("patch", f"/api/toxin-sessions/{s}/points/{pt}", {"units": 5}),
        ("delete", f"/api/toxin-sessions/{s}/points/{pt}", None),
        ("put", f"/api/toxin-sessions/{s}/vial", {"vial_id": r["vial"].pk}),
        ("post", f"/api/toxin-sessions/{s}/sign", {}),
        ("post", f"/api/toxin-sessions/{s}/entered-in-error", {"reason": "Charted on the wrong patient"}),
        ("post", f"/api/toxin-sessions/{s}/stock-correction", {"correction": "wasted"}),
    ]


def written(r: dict) -> dict:
    """Everything those writes could change: versions of each kind of record, withdrawals, the vial."""
    return {
        "consents": Consent.history.count(),
        "follow_ups": FollowUp.history.count(),
        "appointments": Appointment.history.count(),
        "sessions": TreatmentSession.history.count(),
        "points": InjectionPoint.history.count(),
        "withdrawals": Withdrawal.objects.count(),
        "vial": Vial.objects.get(pk=r["vial"].pk).remaining_units,
    }


# The writes tested in test_rest.py (patients and their history, booking); every other one is here.
EARLIER_WRITES = {
    ("post", "/api/patients"),
    ("patch", "/api/patients/{patient_id}"),
    *(
        ("post", f"/api/patients/{{patient_id}}/{section}")
        for section in ("conditions", "medications", "allergies", "observations", "appointments")
    ),
}


def test_every_other_write_operation_is_listed_here(client, records):
    """So that a write added to the API without its scope and clinic tests fails here."""
    spec = client.get("/api/openapi.json").json()
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops if method != "get"}
    names = {
        "patients": "{patient_id}",
        "toxin-sessions": "{session_id}",
        "points": "{point_id}",
        "follow-ups": "{follow_up_id}",
        "appointments": "{appointment_id}",
    }

    def template(path: str) -> str:
        parts = path.split("/")
        return "/".join(
            names[parts[i - 1]] if i and parts[i - 1] in names and parts[i][:1].isalnum() else part
            for i, part in enumerate(parts)
        )

    listed = {(method, template(path)) for method, path, _ in write_operations(records)}
    assert listed == documented - EARLIER_WRITES


def test_a_read_only_token_writes_nothing(api, token, records):
    read_only = token(scopes=["read"])
    before = written(records)
    for method, path, body in write_operations(records):
        is_error(api(method, path, body, auth=read_only), 403, "insufficient_scope")
    assert written(records) == before


def test_another_clinics_token_finds_nothing_and_writes_nothing(api, token, records):
    other = token(user_key="physician_b", clinic_index=1)
    before = written(records)
    for method, path, body in write_operations(records):
        is_error(api(method, path, body, auth=other), 404, "not_found")
    assert written(records) == before
    is_error(api("get", f"/api/toxin-sessions/{records['session'].pk}", auth=other), 404, "not_found")


def test_the_valid_bodies_above_all_succeed_in_the_clinic(api, records):
    """The cross-clinic and scope tests are only worth something if the same requests work here."""
    expected = [201, 201, 200, 200, 200, 201, 201, 200, 204, 200, 200, 200, 200]
    for (method, path, body), status in zip(write_operations(records), expected, strict=True):
        response = api(method, path, body)
        assert response.status_code == status, (method, path, response.content[:300])


# --- consents -------------------------------------------------------------------------------------------


def test_consent_create(api, token, patient):
    base = f"/api/patients/{patient.pk}/consents"
    signed = timezone.now() - dt.timedelta(hours=2)
    made = api(
        "post",
        base,
        {
            "kind": "photography",
            "decision": "granted",
            "signed_at": signed.isoformat(),
            "signer_name": " İpek Şahin ",
            "scope": "before/after photos",
        },
    )
    assert made.status_code == 201, made.json()
    stored = Consent.objects.get(pk=made.json()["id"])
    assert (stored.patient_id, stored.kind, stored.decision, stored.signer_name, stored.scope) == (
        patient.pk,
        "photography",
        "granted",
        "İpek Şahin",
        "before/after photos",
    )
    assert stored.signed_at == signed
    assert AuditEntry.objects.filter(action="consent.photography.granted", channel="api").count() == 1
    listed = api("get", base).json()["items"]
    assert [(c["kind"], c["decision"], c["has_document"]) for c in listed] == [
        ("photography", "granted", False)
    ]

    # The front desk records consents too (the role table says so); a manager may not.
    withdrawn = {**made.json(), "decision": "withdrawn"}
    body = {k: withdrawn[k] for k in ("kind", "decision", "signed_at", "signer_name")}
    assert api("post", base, body, auth=token(user_key=Role.FRONT_DESK)).status_code == 201
    is_error(api("post", base, body, auth=token(user_key=Role.MANAGER)), 403, "permission_denied")
    assert patient.consents.count() == 2


def test_bad_consent_input_names_the_field(api, patient):
    base = f"/api/patients/{patient.pk}/consents"
    good = {
        "kind": "treatment",
        "decision": "granted",
        "signed_at": timezone.now().isoformat(),
        "signer_name": "İpek Şahin",
    }
    body = is_error(api("post", base, {**good, "kind": "tattoo", "decision": "maybe"}), 422, "invalid")
    assert {"body.kind", "body.decision"} <= set(body["fields"])
    body = is_error(api("post", base, {**good, "document": "x.pdf"}), 422)
    assert "body.document" in body["fields"]
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    assert "signed_at" in is_error(api("post", base, {**good, "signed_at": future}), 400, "invalid")["fields"]
    before_birth = "1980-01-01T10:00:00+03:00"
    assert "signed_at" in is_error(api("post", base, {**good, "signed_at": before_birth}), 400)["fields"]
    assert "signer_name" in is_error(api("post", base, {**good, "signer_name": "   "}), 400)["fields"]
    assert not patient.consents.exists()


# --- follow-ups -----------------------------------------------------------------------------------------


def test_follow_up_create_and_set_status(api, token, patient, staff):
    made = api(
        "post",
        f"/api/patients/{patient.pk}/follow-ups",
        {"due_date": NEXT_YEAR.isoformat(), "reason": " Labs "},
    )
    assert made.status_code == 201, made.json()
    stored = FollowUp.objects.get(pk=made.json()["id"])
    assert (stored.patient_id, stored.due_date, stored.reason, stored.status, stored.source) == (
        patient.pk,
        NEXT_YEAR,
        "Labs",
        "open",
        "",
    )
    assert stored.created_by == staff[Role.PHYSICIAN]

    changed = api("patch", f"/api/follow-ups/{stored.pk}", {"status": "cancelled"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["status"] == "cancelled"
    stored.refresh_from_db()
    assert stored.status == "cancelled" and stored.history.count() == 2
    assert AuditEntry.objects.filter(
        action="follow_up.status", channel="api", detail__status="cancelled"
    ).exists()
    # The front desk works the recall list: it may close a follow-up, not add one (a clinical record).
    front_desk = token(user_key=Role.FRONT_DESK)
    assert (
        api("patch", f"/api/follow-ups/{stored.pk}", {"status": "done"}, auth=front_desk).status_code == 200
    )
    stored.refresh_from_db()
    assert stored.status == "done"
    is_error(
        api(
            "post",
            f"/api/patients/{patient.pk}/follow-ups",
            {"due_date": NEXT_YEAR.isoformat(), "reason": "X"},
            auth=front_desk,
        ),
        403,
        "permission_denied",
    )


def test_a_booked_follow_up_changes_only_with_its_appointment(api, physician, patient):
    """Reopened by hand while its appointment stands, it would be on the recall list to be booked twice."""
    due = follow_up_create(
        actor=physician, patient=patient, data={"due_date": timezone.localdate(), "reason": "Review"}
    )
    appointment = follow_up_book(actor=physician, follow_up=due)
    for status in ("open", "cancelled", "done"):
        is_error(api("patch", f"/api/follow-ups/{due.pk}", {"status": status}), 409, "follow_up_booked")
    due.refresh_from_db()
    assert due.status == "booked"
    appointment_cancel(actor=physician, appointment=appointment, reason="Patient called")
    assert api("patch", f"/api/follow-ups/{due.pk}", {"status": "done"}).status_code == 200


def test_bad_follow_up_input_names_the_field(api, patient, records):
    base = f"/api/patients/{patient.pk}/follow-ups"
    count = FollowUp.objects.count()
    long_ago = (timezone.localdate() - dt.timedelta(days=400)).isoformat()
    body = is_error(api("post", base, {"due_date": long_ago, "reason": "Late"}), 400, "invalid")
    assert "due_date" in body["fields"]
    body = is_error(api("post", base, {"due_date": "soon"}), 422)
    assert {"body.due_date", "body.reason"} <= set(body["fields"])
    assert (
        "body.source"
        in is_error(
            api("post", base, {"due_date": NEXT_YEAR.isoformat(), "reason": "R", "source": "x"}), 422
        )["fields"]
    )
    assert FollowUp.objects.count() == count

    follow_up = records["follow_up"]
    body = is_error(api("patch", f"/api/follow-ups/{follow_up.pk}", {"status": "lost"}), 422, "invalid")
    is_error(api("patch", f"/api/follow-ups/{follow_up.pk}", {"status": "booked"}), 422, "invalid")
    assert "body.status" in body["fields"]
    assert "body.status" in is_error(api("patch", f"/api/follow-ups/{follow_up.pk}", {}), 422)["fields"]
    is_error(api("patch", "/api/follow-ups/999999", {"status": "done"}), 404, "not_found")
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


# --- appointments ---------------------------------------------------------------------------------------


def test_appointment_reschedule(api, staff, records):
    appointment = records["appointment"]
    path = f"/api/appointments/{appointment.pk}"
    start = at(5, 11)
    moved = api(
        "patch",
        path,
        {
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=45)).isoformat(),
            "practitioner_id": staff[Role.NURSE].pk,
        },
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["practitioner_id"] == staff[Role.NURSE].pk
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end, appointment.practitioner_id, appointment.sequence) == (
        start,
        start + dt.timedelta(minutes=45),
        staff[Role.NURSE].pk,
        1,
    )
    unassigned = api("patch", path, {"practitioner_id": None})
    assert unassigned.status_code == 200 and unassigned.json()["practitioner_id"] is None
    appointment.refresh_from_db()
    assert appointment.practitioner_id is None and appointment.start == start
    assert AuditEntry.objects.filter(action="appointment.reschedule", channel="api").count() == 2


def test_bad_reschedule_input_names_the_field(api, staff, records):
    appointment = records["appointment"]
    path = f"/api/appointments/{appointment.pk}"
    versions = appointment.history.count()
    body = is_error(api("patch", path, {"end": at(2, 9).isoformat()}), 400, "invalid")  # before the start
    assert "end" in body["fields"]
    body = is_error(api("patch", path, {"start": at(-3, 10).isoformat(), "end": at(-3, 11).isoformat()}), 400)
    assert "start" in body["fields"]
    body = is_error(api("patch", path, {"practitioner_id": staff[Role.FRONT_DESK].pk}), 400)
    assert "practitioner" in body["fields"]
    body = is_error(api("patch", path, {"start": None}), 422)
    assert "null" in body["message"]
    body = is_error(api("patch", path, {"start": f"{NEXT_YEAR.isoformat()}T10:00:00"}), 422)  # no UTC offset
    assert "body.start" in body["fields"]
    assert "body.kind" in is_error(api("patch", path, {"kind": "lab"}), 422)["fields"]
    is_error(api("patch", "/api/appointments/999999", {}), 404, "not_found")
    assert appointment.history.count() == versions


def test_appointment_cancel(api, records):
    appointment = records["appointment"]
    path = f"/api/appointments/{appointment.pk}/cancel"
    body = is_error(api("post", path, {"reason": ""}), 422, "invalid")
    assert "body.reason" in body["fields"]
    assert "reason" in is_error(api("post", path, {"reason": "   "}), 400, "invalid")["fields"]
    assert "body.reason" in is_error(api("post", path, {"reason": "x" * 301}), 422)["fields"]
    appointment.refresh_from_db()
    assert appointment.status == "booked"

    cancelled = api("post", path, {"reason": "Patient is ill"})
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason, appointment.sequence) == (
        "cancelled",
        "Patient is ill",
        1,
    )
    is_error(api("post", path, {"reason": "Again"}), 409, "not_booked")
    is_error(
        api("patch", f"/api/appointments/{appointment.pk}", {"start": at(6, 10).isoformat()}),
        409,
        "not_booked",
    )


# --- toxin charting -------------------------------------------------------------------------------------


def test_toxin_session_create_and_read(api, token, patient, records):
    vial = records["vial"]
    made = api(
        "post",
        f"/api/patients/{patient.pk}/toxin-sessions",
        {"protocol": "glabellar_lines", "vial_id": vial.pk},
    )
    assert made.status_code == 201, made.json()
    got = made.json()
    session = TreatmentSession.objects.get(pk=got["id"])
    assert (session.patient_id, session.protocol, session.product, session.status, session.vial_id) == (
        patient.pk,
        "glabellar_lines",
        "onabotulinumtoxinA",
        "draft",
        vial.pk,
    )
    assert got["vial_id"] == vial.pk and got["total_units"] == 20
    assert len(got["points"]) == session.points.count() == 5
    assert {p["region"] for p in got["points"]} == {"corrugator_left", "corrugator_right", "procerus"}
    assert all(p["administration"] is None for p in got["points"])
    assert not AuditEntry.objects.filter(action="session.view").exists()  # a write answers unaudited

    assert api("get", f"/api/toxin-sessions/{session.pk}").json() == got
    entry = AuditEntry.objects.get(action="session.view")
    assert entry.channel == "api" and entry.patient_id == patient.pk and entry.object_id == str(session.pk)
    is_error(api("get", f"/api/toxin-sessions/{session.pk}", auth=token(user_key=Role.FRONT_DESK)), 403)
    is_error(api("get", "/api/toxin-sessions/999999"), 404, "not_found")


def test_bad_toxin_session_input_names_the_field(api, nurse, patient):
    base = f"/api/patients/{patient.pk}/toxin-sessions"
    body = is_error(api("post", base, {"protocol": "lip_flip"}), 400, "invalid")
    assert "protocol" in body["fields"]
    lot = lot_receive(
        actor=nurse,
        product="abobotulinumtoxinA",
        lot_number="ABO-1",
        expiry=FAR_EXPIRY,
        vial_units=300,
        vials=1,
    )
    abo = vial_open(actor=nurse, vial_id=lot.vials.get().pk, diluent_ml=1.5)
    body = is_error(api("post", base, {"protocol": "glabellar_lines", "vial_id": abo.pk}), 400)
    assert "vial" in body["fields"] and "not interchangeable" in body["fields"]["vial"][0]
    assert (
        "body.vial_id"
        in is_error(api("post", base, {"protocol": "glabellar_lines", "vial_id": "x"}), 422)["fields"]
    )
    assert "body.protocol" in is_error(api("post", base, {}), 422)["fields"]
    is_error(api("post", base, {"protocol": "glabellar_lines"}, auth=None), 401)
    assert not TreatmentSession.objects.exists()


def test_points_add_move_and_remove(api, records):
    session = records["session"]
    base = f"/api/toxin-sessions/{session.pk}/points"
    made = api(
        "post",
        base,
        {
            "view": "face_front",
            "region": "procerus",
            "x": 50.004,
            "y": 41,
            "depth": "intramuscular",
            "units": 0.1,
        },
    )
    assert made.status_code == 201, made.json()
    assert made.json()["units"] == 0.1 and made.json()["x"] == 50.0
    point = InjectionPoint.objects.get(pk=made.json()["id"])
    assert (point.session_id, point.view, point.region, point.x, point.y, point.units) == (
        session.pk,
        "face_front",
        "procerus",
        Decimal("50.00"),
        Decimal("41.00"),
        Decimal("0.100"),
    )

    moved = api("patch", f"{base}/{point.pk}", {"x": 60, "units": 2.5})
    assert moved.status_code == 200, moved.json()
    point.refresh_from_db()
    assert (point.x, point.y, point.units, point.region) == (
        Decimal("60.00"),
        Decimal("41.00"),
        Decimal("2.500"),
        "procerus",
    )
    assert point.history.count() == 2

    first = records["point"]
    assert api("delete", f"{base}/{first.pk}").status_code == 204
    first.refresh_from_db()
    assert first.is_entered_in_error and first.entered_in_error_reason == "removed while charting"
    shown = api("get", f"/api/toxin-sessions/{session.pk}").json()
    assert first.pk not in {p["id"] for p in shown["points"]} and point.pk in {
        p["id"] for p in shown["points"]
    }
    assert len(shown["points"]) == 5 and shown["total_units"] == 4 * 4 + 2.5
    is_error(api("delete", f"{base}/{first.pk}"), 404, "not_found")  # removed already
    is_error(api("patch", f"{base}/{first.pk}", {"units": 1}), 404, "not_found")


def test_bad_point_input_names_the_field(api, nurse, patient, records):
    session, point = records["session"], records["point"]
    base = f"/api/toxin-sessions/{session.pk}/points"
    good = {
        "view": "face_front",
        "region": "procerus",
        "x": 50,
        "y": 40,
        "depth": "intramuscular",
        "units": 2,
    }
    other = session_create(actor=nurse, patient=patient, protocol="glabellar_lines")
    versions = InjectionPoint.history.count()
    body = is_error(api("post", base, {**good, "x": 101, "depth": "deep", "view": "moon"}), 422, "invalid")
    assert {"body.x", "body.depth", "body.view"} <= set(body["fields"])
    for units in (0, -1, 501, True, "2"):
        assert "body.units" in is_error(api("post", base, {**good, "units": units}), 422)["fields"], units
    body = is_error(
        api("post", base, {**good, "units": 0.0001}), 400, "invalid"
    )  # the service's rule: 3 decimals
    assert "units" in body["fields"]
    assert "body.withdrawal" in is_error(api("post", base, {**good, "withdrawal": 1}), 422)["fields"]
    body = is_error(api("patch", f"{base}/{point.pk}", {"units": None}), 422)
    assert "null" in body["message"]
    assert "body.y" in is_error(api("patch", f"{base}/{point.pk}", {"y": -1}), 422)["fields"]
    assert "path.point_id" in is_error(api("delete", f"{base}/first"), 422)["fields"]
    assert "path.session_id" in is_error(api("get", "/api/toxin-sessions/latest"), 422)["fields"]
    # A point of another session is not a point of this one.
    is_error(
        api("patch", f"/api/toxin-sessions/{other.pk}/points/{point.pk}", {"units": 3}), 404, "not_found"
    )
    is_error(api("delete", f"/api/toxin-sessions/{other.pk}/points/{point.pk}"), 404, "not_found")
    assert InjectionPoint.history.count() == versions


def test_set_vial(api, nurse, records):
    session, vial = records["session"], records["vial"]
    path = f"/api/toxin-sessions/{session.pk}/vial"
    assert "body.vial_id" in is_error(api("put", path, {}), 422, "invalid")["fields"]
    assert "vial" in is_error(api("put", path, {"vial_id": 999999}), 400, "invalid")["fields"]
    unopened = lot_receive(
        actor=nurse,
        product="onabotulinumtoxinA",
        lot_number="SHUT-1",
        expiry=FAR_EXPIRY,
        vial_units=100,
        vials=1,
    ).vials.get()
    body = is_error(api("put", path, {"vial_id": unopened.pk}), 400)
    assert "open" in body["fields"]["vial"][0]
    session.refresh_from_db()
    assert session.vial_id is None

    chosen = api("put", path, {"vial_id": vial.pk})
    assert chosen.status_code == 200, chosen.json()
    assert chosen.json()["vial_id"] == vial.pk
    session.refresh_from_db()
    assert session.vial_id == vial.pk
    assert AuditEntry.objects.filter(action="session.vial", channel="api").count() == 1


def test_chart_and_sign_through_the_api(api, patient, receive_and_open):
    """The whole charting flow: start from the protocol, remove one point, add and re-dose others, choose
    the vial, sign. Each point then carries its administration with the lot; signing again is 409."""
    vial = receive_and_open("API-SIGN-7")
    made = api("post", f"/api/patients/{patient.pk}/toxin-sessions", {"protocol": "glabellar_lines"})
    assert made.status_code == 201, made.json()
    sid = made.json()["id"]
    points = made.json()["points"]
    base = f"/api/toxin-sessions/{sid}"

    body = is_error(api("post", f"{base}/sign", {}), 400, "invalid")  # no vial chosen yet
    assert "vial" in body["fields"]
    assert api("delete", f"{base}/points/{points[0]['id']}").status_code == 204
    assert api("patch", f"{base}/points/{points[1]['id']}", {"units": 5}).status_code == 200
    added = api(
        "post",
        f"{base}/points",
        {"view": "face_front", "region": "procerus", "x": 50, "y": 30, "depth": "intramuscular", "units": 2},
    )
    assert added.status_code == 201
    # An integrator finds the vial to draw from through the API, as the charting page lists them.
    usable = api("get", f"/api/vials?state=open&product={made.json()['product']}").json()["items"]
    assert [v["id"] for v in usable] == [vial.pk] and usable[0]["lot_number"] == "API-SIGN-7"
    assert api("put", f"{base}/vial", {"vial_id": usable[0]["id"]}).status_code == 200

    signed = api("post", f"{base}/sign", {})  # no warnings: no acknowledgements needed
    assert signed.status_code == 200, signed.json()
    got = signed.json()
    assert got["status"] == "signed" and got["signed_at"]
    assert got["total_units"] == 4 * 3 + 5 + 2 == 19
    assert len(got["points"]) == 5
    for point in got["points"]:
        administration = point["administration"]
        assert administration["lot_number"] == "API-SIGN-7"
        assert administration["product"] == "onabotulinumtoxinA"
        assert administration["units"] == point["units"]
    assert api("get", base).json() == got

    vial.refresh_from_db()
    assert vial.remaining_units == 200 - 19
    assert Withdrawal.objects.filter(patient=patient, reason="administered").count() == 5
    session = TreatmentSession.objects.get(pk=sid)
    assert session.status == "signed" and session.signed_by.username == "physician_a"
    assert all(p.withdrawal.vial.lot.lot_number == "API-SIGN-7" for p in session.points.current())
    reviews = api("get", f"/api/patients/{patient.pk}/follow-ups").json()["items"]
    assert [f["source"] for f in reviews] == ["protocol:glabellar_lines"] * 2

    again = is_error(api("post", f"{base}/sign", {}), 409, "session_signed")
    assert "signed" in again["message"]
    is_error(api("patch", f"{base}/points/{points[1]['id']}", {"units": 1}), 409, "session_signed")
    is_error(api("put", f"{base}/vial", {"vial_id": vial.pk}), 409, "session_signed")
    vial.refresh_from_db()
    assert vial.remaining_units == 181 and Withdrawal.objects.count() == 5


def test_a_blocked_plan_is_409_and_writes_nothing(api, physician, patient, records):
    condition_add(
        actor=physician,
        patient=patient,
        data={"category": "history", "code": "myasthenia_gravis", "text": "MG"},
    )
    session, vial = records["session"], records["vial"]
    assert api("put", f"/api/toxin-sessions/{session.pk}/vial", {"vial_id": vial.pk}).status_code == 200
    follow_ups = FollowUp.objects.count()
    body = is_error(api("post", f"/api/toxin-sessions/{session.pk}/sign", {}), 409, "plan_blocked")
    assert "Myasthenia" in body["message"]
    vial.refresh_from_db()
    session.refresh_from_db()
    assert vial.remaining_units == 200 and not Withdrawal.objects.exists()
    assert session.status == "draft" and FollowUp.objects.count() == follow_ups


# --- inputs that once answered 500 ----------------------------------------------------------------------


def test_times_out_of_range_and_huge_ids_are_400_not_500(api, patient, records):
    """A year-9999 time overflowed converting to the clinic's zone; a practitioner id beyond 64 bits could
    not be bound by SQLite. Both now name the field, when booking and when rescheduling."""
    far = {"start": "9999-12-31T23:00:00-14:00", "end": "9999-12-31T23:30:00-14:00"}
    path = f"/api/appointments/{records['appointment'].pk}"
    body = is_error(api("patch", path, far), 400, "invalid")
    assert set(body["fields"]) == {"start", "end"} and "1900" in body["fields"]["start"][0]
    assert "start" in is_error(api("patch", path, {"start": "0001-01-01T00:00:00+14:00"}), 400)["fields"]
    assert "practitioner" in is_error(api("patch", path, {"practitioner_id": 2**70}), 400)["fields"]
    booked = api(
        "post", f"/api/patients/{patient.pk}/appointments", {**far, "kind": "lab", "practitioner_id": 2**70}
    )
    assert set(is_error(booked, 400)["fields"]) == {"start", "end", "practitioner"}
    assert Appointment.objects.count() == 1


def test_text_with_nul_characters_is_refused(api, patient):
    """PostgreSQL cannot store NUL in text (a 500 there); every request body refuses it, naming the field."""
    body = is_error(
        api(
            "post",
            f"/api/patients/{patient.pk}/follow-ups",
            {"due_date": NEXT_YEAR.isoformat(), "reason": "a\x00b"},
        ),
        422,
    )
    assert "body.reason" in body["fields"]
    body = is_error(
        api(
            "post",
            f"/api/patients/{patient.pk}/observations",
            {"code": "daily_shedding", "value": 1, "components": {"x": "a\x00"}},
        ),
        422,
    )
    assert "body.components" in body["fields"]
    assert not FollowUp.objects.exists() and not patient.observations.exists()


def test_vials_list_the_clinics_stock_for_those_who_chart(api, token, nurse, receive_and_open):
    opened = receive_and_open("VIALS-1", vials=2)
    sealed = Vial.objects.filter(lot=opened.lot, state="sealed").first()
    listed = api("get", "/api/vials").json()
    assert {v["id"] for v in listed["items"]} >= {opened.pk, sealed.pk}
    row = next(v for v in listed["items"] if v["id"] == opened.pk)
    assert row["state"] == "open" and row["remaining_units"] == float(opened.remaining_units)
    assert row["units_per_0_1_ml"] == float(opened.units_per_0_1_ml) and row["expiry"]
    only_open = api("get", "/api/vials?state=open").json()["items"]
    assert opened.pk in {v["id"] for v in only_open} and sealed.pk not in {v["id"] for v in only_open}
    assert api("get", "/api/vials?product=abobotulinumtoxinA").json()["count"] == 0
    is_error(api("get", "/api/vials?state=half"), 422, "invalid")
    front_desk = token(scopes=("read",), user_key=Role.FRONT_DESK)
    is_error(api("get", "/api/vials", auth=front_desk), 403)
    other_clinic = token(scopes=("read",), user_key="physician_b", clinic_index=1)
    assert api("get", "/api/vials", auth=other_clinic).json()["count"] == 0


def test_a_warned_plan_is_signed_only_with_a_reason_for_each_warning(api, patient, receive_and_open):
    """clinical.md §12.1b R-BoNT-1: a warned plan needs the clinician's acknowledgement with a reason. The
    409 names each warning (`fields`: `acknowledgements.<id>`) so a client can ask for the reasons."""
    vial = receive_and_open("API-ACK-1")
    made = api(
        "post",
        f"/api/patients/{patient.pk}/toxin-sessions",
        {"protocol": "hair_scalp_im", "vial_id": vial.pk},
    )
    sign = f"/api/toxin-sessions/{made.json()['id']}/sign"

    body = is_error(api("post", sign, {}), 409, "warnings_not_acknowledged")
    warned = [key.removeprefix("acknowledgements.") for key in body["fields"]]
    assert "off_label" in warned and all(w in body["message"] for w in warned)
    assert "Off-label" in body["fields"]["acknowledgements.off_label"][0]
    reason = "Off-label use explained; consent signed."
    short = [{"warning": w, "reason": reason if w != "off_label" else "ok"} for w in warned]
    body = is_error(api("post", sign, {"acknowledgements": short}), 409, "warnings_not_acknowledged")
    assert list(body["fields"]) == ["acknowledgements.off_label"]
    twice = [{"warning": "off_label", "reason": reason}] * 2
    assert "acknowledgements" in is_error(api("post", sign, {"acknowledgements": twice}), 400)["fields"]
    no_reason = {"acknowledgements": [{"warning": "off_label"}]}
    assert "body.acknowledgements.0.reason" in is_error(api("post", sign, no_reason), 422)["fields"]
    vial.refresh_from_db()
    assert vial.remaining_units == 200 and not Withdrawal.objects.exists()
    assert TreatmentSession.objects.get().status == "draft"

    signed = api("post", sign, {"acknowledgements": [{"warning": w, "reason": reason} for w in warned]})
    assert signed.status_code == 200, signed.json()
    got = signed.json()
    assert got["status"] == "signed"
    assert [(a["warning"], a["reason"], a["by_name"]) for a in got["acknowledgements"]] == [
        (w, reason, "Physician_A") for w in warned
    ]
    assert "Off-label" in got["acknowledgements"][warned.index("off_label")]["text"]
    assert (
        api("get", f"/api/toxin-sessions/{got['id']}").json()["acknowledgements"] == got["acknowledgements"]
    )
    audit = AuditEntry.objects.get(action="session.sign", channel="api")
    assert audit.detail["acknowledged"] == warned
