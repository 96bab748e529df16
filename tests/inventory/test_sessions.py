"""Toxin sessions: protocol points on the maps, signing deducts the vial in one transaction, records each
point as an administration with its lot, schedules the protocol's reviews; a blocked plan writes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.inventory.models import Vial, Withdrawal
from dermatox.inventory.selectors import lot_recall
from dermatox.inventory.services import lot_receive, vial_administer, vial_open
from dermatox.patients.services import condition_add, patient_create, record_mark_entered_in_error
from dermatox.treatments import services as ts
from dermatox.treatments.models import FollowUp, TreatmentSession
from dermatox.treatments.services import (
    adverse_event_record,
    point_remove,
    point_save,
    session_create,
    session_plan,
    session_sign,
)
from tests.dates import FAR_EXPIRY
from tests.signing import reasons_for, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("HAIR1")  # 5 U/0.1 mL, the protocol's dilution


@pytest.fixture
def two_vials(receive_and_open):
    """Lot RV-1: two vials, the first opened, so that one of the lot is still sealed."""
    return receive_and_open("RV-1", vials=2)


def test_protocol_points_are_laid_out_on_the_maps(nurse, patient, vial):
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    points = list(session.points.all())
    assert len(points) == 30 and {p.view for p in points} == {
        "scalp_top",
        "scalp_left",
        "scalp_right",
        "scalp_back",
    }
    assert all(0 <= p.x <= 100 and 0 <= p.y <= 100 for p in points)


def test_signing_deducts_records_lots_and_schedules_reviews(nurse, patient, vial):
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    session = sign(nurse, session)
    vial.refresh_from_db()
    assert vial.remaining_units == 50  # 200 - 150
    assert Withdrawal.objects.filter(patient=patient, reason="administered").count() == 30
    assert all(p.withdrawal.vial.lot.lot_number == "HAIR1" for p in session.points.all())
    due = sorted(
        FollowUp.objects.filter(patient=patient, source="protocol:hair_scalp_im").values_list(
            "due_date", flat=True
        )
    )
    signed_on = timezone.localdate(session.signed_at)  # the clinic's day, not UTC's
    assert [(d - signed_on).days for d in due] == [84, 168]  # §3.1 review at 12 and 24 weeks
    assert [line.mrn for line in lot_recall(actor=nurse, lot_number="HAIR1")] == [patient.mrn]
    with pytest.raises(Conflict, match="signed"):
        point_save(actor=nurse, session=session, data={"units": 1})


def test_a_blocked_plan_writes_nothing(nurse, patient, vial, physician):
    condition_add(
        actor=physician,
        patient=patient,
        data={"category": "history", "code": "myasthenia_gravis", "text": "MG"},
    )
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    with pytest.raises(Conflict, match="Myasthenia"):
        session_sign(actor=nurse, session=session)
    vial.refresh_from_db()
    assert vial.remaining_units == 200 and not Withdrawal.objects.exists() and not FollowUp.objects.exists()


def test_charted_doses_start_the_12_week_interval_but_the_same_visit_does_not(nurse, patient, vial):
    """§8.3: no sooner than every 12 weeks. Two areas treated at one visit are one treatment."""
    from django.utils import timezone

    glabellar = session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    sign(nurse, glabellar)
    same_visit = session_create(actor=nurse, patient=patient, protocol="forehead_lines", vial_id=vial.pk)
    plan = session_plan(same_visit, timezone.now())
    # Another area's indication at the same visit: neither a retreatment nor the same area twice (§12.1b).
    assert {"retreatment_interval", "same_area_same_day"}.isdisjoint({b["id"] for b in plan["blocks"]})
    vial_administer(
        actor=nurse, vial_id=vial.pk, patient=patient, doses=[20], at=timezone.now() - dt.timedelta(days=30)
    )
    plan = session_plan(same_visit, timezone.now())
    assert "retreatment_interval" in {b["id"] for b in plan["blocks"]}


def test_points_can_be_moved_redosed_and_removed(nurse, patient, vial):
    session = session_create(actor=nurse, patient=patient, protocol="sebum_forehead_id", vial_id=None)
    point = session.points.first()
    moved = point_save(actor=nurse, session=session, point=point, data={"x": 10, "y": 12, "units": "0.8"})
    assert moved.history.count() >= 1
    point_remove(actor=nurse, session=session, point=point)
    assert session.points.current().count() == 19
    added = point_save(
        actor=nurse,
        session=session,
        data={
            "view": "face_front",
            "region": "forehead",
            "x": 50,
            "y": 15,
            "depth": "intradermal",
            "units": 0.5,
        },
    )
    assert added.pk
    with pytest.raises(InvalidInput) as info:
        point_save(
            actor=nurse,
            session=session,
            data={"view": "moon", "region": "x", "x": 1, "y": 1, "depth": "deep", "units": 0},
        )
    assert {"view", "depth", "units"} <= set(info.value.fields)


def test_a_vial_of_another_product_is_refused(nurse, patient):
    lot = lot_receive(
        actor=nurse,
        product="abobotulinumtoxinA",
        lot_number="D1",
        expiry=FAR_EXPIRY,
        vial_units=300,
        vials=1,
    )
    abo = vial_open(actor=nurse, vial_id=lot.vials.get().pk, diluent_ml=1.5)
    with pytest.raises(InvalidInput, match="vial"):
        session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=abo.pk)
    assert Vial.objects.get(pk=abo.pk).remaining_units == 300


def test_adverse_event_links_to_the_session(nurse, patient, vial, physician):
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    session = sign(nurse, session)
    event = adverse_event_record(
        actor=physician,
        patient=patient,
        data={"session": session, "kind": "headache", "severity": "mild", "onset": dt.date.today()},
    )
    assert event.session == session and event.recorded_by == physician.user


def test_a_session_marked_entered_in_error_is_never_signed(nurse, physician, patient, vial):
    """A draft abandoned as entered in error must not take units from the vial if an old page signs it."""
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    record_mark_entered_in_error(actor=physician, record=session, reason="charted for the wrong patient")
    with pytest.raises(Conflict) as err:
        session_sign(actor=nurse, session=session)
    assert err.value.code == "session_entered_in_error"
    with pytest.raises(Conflict):
        point_save(actor=nurse, session=session, data={"units": 1})
    vial.refresh_from_db()
    assert vial.remaining_units == 200 and not Withdrawal.objects.filter(patient=patient).exists()


def test_a_point_stays_on_the_protocols_maps_and_in_a_region_of_its_map(nurse, patient, receive_and_open):
    """A glabellar (face) session takes no scalp point, and a point's region is one of its map's: the
    region is what the per-region doses and the records say was injected."""
    vial = receive_and_open("MAPS-1")
    session = session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    point = {
        "view": "scalp_top",
        "region": "frontalis",
        "x": 50,
        "y": 20,
        "depth": "intramuscular",
        "units": 2,
    }
    with pytest.raises(InvalidInput) as err:
        point_save(actor=nurse, session=session, data=point)
    assert set(err.value.fields) == {"view"} and "face_front" in err.value.fields["view"][0]
    with pytest.raises(InvalidInput) as err:
        point_save(
            actor=nurse, session=session, data={**point, "view": "face_front", "region": "occipitalis"}
        )
    assert set(err.value.fields) == {"region"} and "procerus" in err.value.fields["region"][0]
    saved = point_save(
        actor=nurse, session=session, data={**point, "view": "face_front", "region": "procerus"}
    )
    assert (saved.view, saved.region) == ("face_front", "procerus")


def test_more_units_than_the_vial_holds_is_refused_by_the_page_and_by_signing_alike(
    nurse, patient, receive_and_open, client, login, staff
):
    """The plan check only warns `exceeds_vial` (a plan may be drawn from several vials); a session draws
    from its one vial, so Sign is not offered and signing refuses with the same reason."""
    from dermatox.treatments.actions import SessionSign
    from dermatox.treatments.selectors import session_points
    from tests.signing import reasons_for

    vial = receive_and_open("SMALL", vial_units=100, diluent_ml=2)
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)  # 150 U
    plan = session_plan(session, timezone.now())
    assert "exceeds_vial" in {w["id"] for w in plan["warnings"]}
    check = SessionSign(nurse, session).check(plan, session_points(session))
    assert not check and check.code == "vial_insufficient" and "100 U left" in check.reason
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=session, acknowledgements=reasons_for(session))
    assert refused.value.code == "vial_insufficient" and refused.value.message == check.reason
    vial.refresh_from_db()
    assert vial.remaining_units == 100 and not Withdrawal.objects.exists() and not FollowUp.objects.exists()
    login(staff[Role.NURSE])
    page = client.get(f"/patients/{patient.pk}/sessions/{session.pk}/").content.decode()
    assert check.reason in page.replace("&#x27;", "'")
    assert 'type="submit" disabled>Sign session' in page


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
def test_vials_of_other_clinics_sealed_vials_and_other_patients_sessions_are_refused(
    nurse, patient, two_vials, staff, actor_for
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
