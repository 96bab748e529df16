"""Cases from review: each fails if its safeguard is removed."""

import json
import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.clinical.toxin.plan import check_plan
from dermatox.common.errors import Conflict, InvalidInput, PermissionDenied
from dermatox.inventory.models import Vial, Withdrawal
from dermatox.inventory.selectors import lot_recall
from dermatox.inventory.services import lot_receive, vial_administer, vial_open
from dermatox.patients.services import patient_create
from dermatox.treatments import services as ts
from dermatox.treatments.models import FollowUp, TreatmentSession
from tests.dates import FAR_EXPIRY
from tests.signing import reasons_for, sign


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("RV-1", vials=2)


@pytest.mark.django_db
def test_a_copy_loaded_before_signing_cannot_change_the_signed_session(nurse, patient, vial):
    session = ts.session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    stale = TreatmentSession.objects.get(pk=session.pk)
    sign(nurse, session)
    with pytest.raises(Conflict):
        ts.point_save(
            actor=nurse,
            session=stale,
            data={
                "view": "face_front",
                "region": "procerus",
                "x": 5,
                "y": 5,
                "depth": "intramuscular",
                "units": 4,
            },
        )
    with pytest.raises(Conflict):
        ts.session_note(actor=nurse, session=stale, note="late")
    with pytest.raises(Conflict):
        ts.session_sign(actor=nurse, session=stale)
    assert TreatmentSession.objects.get(pk=session.pk).status == "signed"
    assert Withdrawal.objects.count() == 5


@pytest.mark.django_db
def test_signing_is_all_or_nothing(nurse, patient, vial, monkeypatch):
    session = ts.session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)

    def fail(*args, **kwargs):
        raise RuntimeError("follow-up store down")

    reasons = reasons_for(session)
    monkeypatch.setattr(FollowUp, "save", fail)
    with pytest.raises(RuntimeError):
        ts.session_sign(actor=nurse, session=session, acknowledgements=reasons)
    assert Vial.objects.get(pk=vial.pk).remaining_units == 200 and not Withdrawal.objects.exists()
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"


@pytest.mark.django_db
def test_lot_recall_is_clinical_information(staff, actor_for, nurse, login, client):
    with pytest.raises(PermissionDenied):
        lot_recall(actor=actor_for(staff[Role.FRONT_DESK]), lot_number="RV-1")
    login(staff[Role.MANAGER])
    assert client.get("/stock/recall/?lot=RV-1").status_code == 403


@pytest.mark.django_db
def test_recall_audit_names_the_patients(nurse, patient, vial):
    vial_administer(actor=nurse, vial_id=vial.pk, patient=patient, doses=[4])
    lot_recall(actor=nurse, lot_number="RV-1")
    assert AuditEntry.objects.filter(action="lot.recall").latest("seq").detail["patient_ids"] == [
        str(patient.pk)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("diluent", ["0.0001", "100000", "abc", "-1"])
def test_implausible_saline_volumes_are_refused(nurse, diluent):
    lot = lot_receive(
        actor=nurse,
        product="onabotulinumtoxinA",
        lot_number="RV-2",
        expiry=FAR_EXPIRY,
        vial_units=100,
        vials=1,
    )
    with pytest.raises(InvalidInput):
        vial_open(actor=nurse, vial_id=lot.vials.get().pk, diluent_ml=diluent)
    assert Vial.objects.get(lot=lot).state == "sealed"


@pytest.mark.django_db
def test_vials_of_other_clinics_sealed_vials_and_other_patients_sessions_are_refused(
    nurse, patient, vial, staff, actor_for
):
    other = actor_for(staff["physician_b"])
    lot_b = lot_receive(
        actor=other,
        product="onabotulinumtoxinA",
        lot_number="B-1",
        expiry=FAR_EXPIRY,
        vial_units=100,
        vials=1,
    )
    foreign = vial_open(actor=other, vial_id=lot_b.vials.get().pk, diluent_ml=2.5)
    sealed = Vial.objects.filter(lot__lot_number="RV-1", state="sealed").get()
    for vial_id in (foreign.pk, sealed.pk, "abc"):
        with pytest.raises(InvalidInput):
            ts.session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial_id)
    someone = patient_create(
        actor=nurse,
        data={"given_name": "O", "family_name": "P", "sex_at_birth": "male", "birth_date": "1980-01-01"},
    )
    theirs = ts.session_create(actor=nurse, patient=someone, protocol="glabellar_lines")
    with pytest.raises(InvalidInput, match="session"):
        ts.adverse_event_record(
            actor=nurse,
            patient=patient,
            data={"session": theirs, "kind": "headache", "severity": "mild", "onset": timezone.localdate()},
        )


@pytest.mark.django_db
def test_points_are_audited_against_the_patient(nurse, patient):
    session = ts.session_create(actor=nurse, patient=patient, protocol="glabellar_lines")
    ts.point_save(actor=nurse, session=session, point=session.points.first(), data={"x": 10, "y": 10})
    assert AuditEntry.objects.filter(action="session.point").latest("seq").patient_id == patient.pk


def test_beyond_use_is_checked_to_the_minute_when_the_time_is_known():
    plan = {
        "as_of": "2026-11-21",
        "at": "2026-11-21T15:00:00+00:00",
        "patient": {"sex": "male", "birth_date": "1980-01-01"},
        "product": "onabotulinumtoxinA",
        "protocol": "glabellar_lines",
        "vial": {
            "vial_units": 100,
            "diluent_ml": 2.5,
            "beyond_use": "2026-11-21T08:00:00+00:00",
            "remaining_units": 10,
        },
    }
    result = check_plan(plan)
    assert "vial_beyond_use" in {b["id"] for b in result["blocks"]}
    assert "exceeds_vial" in {w["id"] for w in result["warnings"]}  # 20 U planned, 10 U left


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"conversion": {"ratio": float("nan"), "acknowledged": True}}, "conversion.ratio"),
        ({"conversion": {"ratio": 10**400, "acknowledged": True}}, "conversion.ratio"),
        ({"indication": ["hair"]}, "indication: unknown indication"),
        ({"vial": {"vial_units": 10**400, "diluent_ml": 2}}, "vial.vial_units"),
    ],
)
def test_odd_plan_numbers_are_refused_not_crashed_on(change, problem):
    from dermatox.clinical.pathways import CaseError

    plan = {
        "as_of": "2026-11-21",
        "patient": {"sex": "male", "birth_date": "1980-01-01"},
        "product": "onabotulinumtoxinA",
        "protocol": "glabellar_lines",
        "vial": {"vial_units": 100, "diluent_ml": 2.5},
        **change,
    }
    with pytest.raises(CaseError) as info:
        check_plan(plan)
    assert any(problem in p for p in info.value.problems), info.value.problems


@pytest.mark.django_db
def test_map_endpoint_rejects_bad_bodies_and_saves_real_changes(login, staff, patient, vial, client):
    login(staff[Role.NURSE])
    client.post(f"/patients/{patient.pk}/sessions/new/", {"protocol": "glabellar_lines"})
    session = TreatmentSession.objects.get()
    url = f"/patients/{patient.pk}/sessions/{session.pk}/point/"
    point = session.points.first()

    def post(body):
        return client.post(
            url, body if isinstance(body, str) else json.dumps(body), content_type="application/json"
        )

    for body in (
        "[]",
        "null",
        "{not json",
        {"action": "add", "view": "face_front", "x": 1e308, "y": 1},
        {"action": "add", "view": "axillae", "x": 5, "y": 5},
        {"action": "dose", "id": point.pk, "delta": "1e999"},
        {"action": "move", "id": 1.9, "x": 5, "y": 5},
        {"action": "fly"},
    ):
        assert post(body).status_code == 400, body
    assert post({"action": "move", "id": point.pk, "x": 72.5, "y": 40}).status_code == 204
    point.refresh_from_db()
    assert (float(point.x), float(point.y), point.region) == (72.5, 40.0, "orbicularis_oculi_right")
    assert post({"action": "dose", "id": point.pk, "delta": 0.5}).status_code == 204
    point.refresh_from_db()
    assert float(point.units) == 4.5
    assert post({"action": "remove", "id": point.pk}).status_code == 204
    assert not session.points.current().filter(pk=point.pk).exists()
    login(staff[Role.FRONT_DESK])
    assert client.get(f"/patients/{patient.pk}/sessions/{session.pk}/").status_code == 403


@pytest.mark.django_db
def test_points_form_keeps_valid_changes_only_with_the_rest(login, staff, patient, client):
    login(staff[Role.NURSE])
    client.post(f"/patients/{patient.pk}/sessions/new/", {"protocol": "glabellar_lines"})
    session = TreatmentSession.objects.get()
    first, second = session.points.current().order_by("pk")[:2]
    client.post(
        f"/patients/{patient.pk}/sessions/{session.pk}/points/",
        {f"units_{first.pk}": "6", f"units_{second.pk}": "-2"},
    )
    first.refresh_from_db()
    assert float(first.units) == 4  # the valid change was not kept alone


@pytest.mark.django_db(transaction=True)
def test_parallel_sessions_never_overdraw_the_vial(nurse, patient, vial):
    """The signing path (vial_administer) under the same concurrency as single deductions."""
    outcomes = []

    def administer():
        close_old_connections()
        try:
            vial_administer(actor=nurse, vial_id=vial.pk, patient=patient, doses=[5, 5, 5, 5, 5])
            outcomes.append("ok")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=administer) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 8 and Vial.objects.get(pk=vial.pk).remaining_units == 0
    assert sum(w.units for w in Withdrawal.objects.all()) == 200


@pytest.mark.django_db
def test_points_vials_and_administrations_have_a_first_version(nurse, patient, vial):
    session = ts.session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    session = sign(nurse, session)
    point = session.points.first()
    assert (
        point.history.filter(history_type="+").exists()
        and point.history.filter(withdrawal__isnull=False).exists()
    )
    assert Vial.history.filter(id=vial.pk, history_type="+").exists()
    assert Withdrawal.history.filter(history_type="+").count() == 5
