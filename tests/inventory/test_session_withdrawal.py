"""Withdrawing (marking entered in error) a toxin session: a signed one takes its administrations, vial
withdrawals and open reviews with it; the doses stop counting toward the 12-week interval and the label
maximum (clinical.md §8.3, §12.1); lot recall still lists them, marked; units are never returned to the vial
automatically — a stock correction records, once, whether they went back or were wasted."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.chart.case_builder import build_case
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.inventory.models import Vial, Withdrawal
from dermatox.inventory.selectors import lot_recall
from dermatox.inventory.services import vial_discard
from dermatox.patients.services import record_mark_entered_in_error
from dermatox.treatments.actions import SessionStockCorrection, SessionWithdraw
from dermatox.treatments.models import FollowUp, InjectionPoint, TreatmentSession
from dermatox.treatments.services import point_save, session_create, session_plan, session_sign
from tests.signing import reasons_for, sign

pytestmark = pytest.mark.django_db
WHY = "Charted on the wrong patient"


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("WD-1")


@pytest.fixture
def signed(nurse, patient, vial):
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    return sign(nurse, session)


def withdraw(actor, session, reason=WHY):
    return SessionWithdraw(actor, session).execute(reason=reason)


def test_withdrawing_a_signed_session_withdraws_its_administrations_and_open_reviews(nurse, signed, vial):
    reviews = list(FollowUp.objects.filter(session=signed))
    assert len(reviews) == 2  # 12 and 24 weeks (§3.1), linked to the session that scheduled them
    session = withdraw(nurse, signed)
    points = list(InjectionPoint.objects.filter(session=session, withdrawal__isnull=False))
    assert len(points) == 30
    for record in [*points, *(p.withdrawal for p in points), *FollowUp.objects.filter(session=session)]:
        assert record.entered_in_error_at == session.entered_in_error_at
        assert record.entered_in_error_by_id == nurse.user.pk
        assert record.entered_in_error_reason == WHY
    vial.refresh_from_db()
    assert vial.remaining_units == 50  # never returned automatically
    entry = AuditEntry.objects.filter(action="session.administrations_withdrawn").get()
    assert entry.detail["administrations"] == 30 and entry.detail["units"] == "150"
    assert sorted(entry.detail["follow_ups"]) == sorted(r.pk for r in reviews)


def test_a_done_review_is_left_alone_and_a_booked_one_withdrawn(nurse, signed):
    first, second = FollowUp.objects.filter(session=signed).order_by("due_date")
    FollowUp.objects.filter(pk=first.pk).update(status=FollowUp.Status.DONE)
    FollowUp.objects.filter(pk=second.pk).update(status=FollowUp.Status.BOOKED)
    withdraw(nurse, signed)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.entered_in_error_at is None and second.entered_in_error_at is not None


def test_signing_audits_the_reviews_it_schedules(nurse, signed):
    created = AuditEntry.objects.filter(action="follow_up.create")
    assert created.count() == 2 and {e.detail["session"] for e in created} == {signed.pk}
    sign_entry = AuditEntry.objects.get(action="session.sign")
    assert len(sign_entry.detail["withdrawals"]) == 30


def test_withdrawn_doses_no_longer_start_the_interval_or_count_toward_the_maximum(
    nurse, patient, signed, vial
):
    """§8.3 (12 weeks) and §12.1 (label maximum) are about doses given: a charting mistake gave none."""
    assert build_case(patient, timezone.localdate()).case["history"]["toxin_history"]
    second = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    blocked = {b["id"] for b in session_plan(second, timezone.now())["blocks"]}
    assert blocked  # the same area the same day, within 12 weeks
    withdraw(nurse, signed)
    history = build_case(patient, timezone.localdate()).case.get("history", {})
    assert not history.get("toxin_history")
    assert not session_plan(second, timezone.now())["blocks"]


def test_lot_recall_still_lists_withdrawn_doses_marked(nurse, patient, signed):
    withdraw(nurse, signed)
    (line,) = lot_recall(actor=nurse, lot_number="WD-1")
    assert line.mrn == patient.mrn and line.administrations == 30 and line.entered_in_error == 30


def test_a_withdrawn_session_cannot_be_changed_or_signed(nurse, signed, patient, vial):
    draft = session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    withdraw(nurse, draft)
    with pytest.raises(Conflict) as refused:
        point_save(actor=nurse, session=draft, data={"units": 1})
    assert refused.value.code == "session_entered_in_error"
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=draft, acknowledgements={})
    assert refused.value.code == "session_entered_in_error"
    again = SessionWithdraw(nurse, TreatmentSession.objects.get(pk=draft.pk)).check()
    assert not again and again.code == "session_entered_in_error"
    with pytest.raises(Conflict):
        withdraw(nurse, draft)


def test_a_draft_keeps_its_points_and_has_nothing_to_correct(nurse, patient, vial):
    draft = session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    withdraw(nurse, draft)
    assert InjectionPoint.objects.current().filter(session=draft).count() == 5
    check = SessionStockCorrection(nurse, TreatmentSession.objects.get(pk=draft.pk)).check()
    assert not check and check.code == "no_correction"


def test_return_puts_the_units_back_once(nurse, signed, vial):
    session = withdraw(nurse, signed)
    SessionStockCorrection(nurse, session).execute(kind="returned")
    vial.refresh_from_db()
    assert vial.remaining_units == 200 and vial.state == Vial.State.OPEN
    session.refresh_from_db()
    assert session.stock_correction == "returned"
    with pytest.raises(Conflict) as refused:
        SessionStockCorrection(nurse, session).execute(kind="wasted")
    assert refused.value.code == "stock_already_corrected"
    vial.refresh_from_db()
    assert vial.remaining_units == 200
    assert AuditEntry.objects.filter(action="vial.returned", detail__session=session.pk).count() == 1


def test_an_emptied_vial_opens_again_when_its_units_come_back(nurse, patient, receive_and_open):
    vial = receive_and_open("WD-2", vial_units=100, diluent_ml=2)  # 5 U/0.1 mL
    session = session_create(actor=nurse, patient=patient, protocol="axillary_hyperhidrosis", vial_id=vial.pk)
    session = sign(nurse, session)
    vial.refresh_from_db()
    assert vial.state == Vial.State.EMPTY
    SessionStockCorrection(nurse, withdraw(nurse, session)).execute(kind="returned")
    vial.refresh_from_db()
    assert vial.state == Vial.State.OPEN and vial.remaining_units == 100


def test_waste_records_the_units_without_taking_them_again(nurse, signed, vial):
    session = withdraw(nurse, signed)
    SessionStockCorrection(nurse, session).execute(kind="wasted")
    vial.refresh_from_db()
    assert vial.remaining_units == 50
    waste = Withdrawal.objects.get(reason="wasted", vial=vial)
    assert waste.units == 150 and waste.patient_id is None
    # The vial's current withdrawals and what is left add up to what it held again.
    taken = sum(w.units for w in Withdrawal.objects.current().filter(vial=vial))
    assert taken + vial.remaining_units == vial.vial_units


def test_a_discarded_vial_takes_nothing_back_and_offers_waste(nurse, signed, vial):
    vial_discard(actor=nurse, vial_id=vial.pk, reason="End of day")
    session = withdraw(nurse, signed)
    check = SessionStockCorrection(nurse, session).check("returned")
    assert not check and check.code == "vial_return_refused" and "waste" in check.reason
    with pytest.raises(Conflict):
        SessionStockCorrection(nurse, session).execute(kind="returned")
    SessionStockCorrection(nurse, session).execute(kind="wasted")  # still possible


def test_an_unknown_correction_names_the_field(nurse, signed):
    session = withdraw(nurse, signed)
    with pytest.raises(InvalidInput) as refused:
        SessionStockCorrection(nurse, session).execute(kind="lost")
    assert "correction" in refused.value.fields


def test_who_may_withdraw(signed, actor_for, staff, clinics):
    front_desk = actor_for(staff[Role.FRONT_DESK])
    check = SessionWithdraw(front_desk, signed).check()
    assert not check and check.code == "permission_denied"
    with pytest.raises(PermissionDenied):
        withdraw(front_desk, signed)
    other = actor_for(staff["physician_b"])
    assert not SessionWithdraw(other, signed).check()
    with pytest.raises((PermissionDenied, NotFound)):
        withdraw(other, signed)
    assert TreatmentSession.objects.get(pk=signed.pk).entered_in_error_at is None


def test_the_generic_correction_path_withdraws_with_the_cascade(nurse, signed):
    """The chart's "entered in error" page goes through record_mark_entered_in_error."""
    record_mark_entered_in_error(actor=nurse, record=signed, reason=WHY)
    assert not InjectionPoint.objects.current().filter(session=signed, withdrawal__isnull=False).exists()
    assert not Withdrawal.objects.current().filter(patient=signed.patient, reason="administered").exists()


def test_the_database_refuses_a_signed_session_without_signer_time_or_vial(signed):
    for field in ("signed_by", "signed_at", "vial"):
        with pytest.raises(IntegrityError), transaction.atomic():
            TreatmentSession.objects.filter(pk=signed.pk).update(**{field: None})


def test_the_database_refuses_a_stock_correction_before_withdrawal(signed):
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentSession.objects.filter(pk=signed.pk).update(stock_correction="wasted")


def test_reasons_for_warnings_still_work_after_a_withdrawn_session(nurse, patient, signed, vial):
    """Signing again the same day after withdrawing the mistaken session is a normal signing."""
    withdraw(nurse, signed)
    again = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    SessionStockCorrection(nurse, TreatmentSession.objects.get(pk=signed.pk)).execute(kind="returned")
    again = session_sign(actor=nurse, session=again, acknowledgements=reasons_for(again))
    assert again.status == "signed"


# --- found by review: the ways a clinic (or a browser) breaks it ---------------------------------------


def test_a_reason_of_control_characters_only_is_no_reason(nurse, signed):
    with pytest.raises(InvalidInput) as refused:
        withdraw(nurse, signed, reason="\x01\x02\u202e ")
    assert "reason" in refused.value.fields
    assert TreatmentSession.objects.get(pk=signed.pk).entered_in_error_at is None


def test_the_correction_page_submitted_twice_lands_on_the_session(client, login, staff, patient, signed):
    login(staff[Role.NURSE])
    url = f"/patients/{patient.pk}/error/session/{signed.pk}/"
    first = client.post(url, {"reason": WHY})
    second = client.post(url, {"reason": WHY})  # back button, double click, another tab
    session_page = f"/patients/{patient.pk}/sessions/{signed.pk}/"
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == session_page
    assert client.get(url).status_code == 302  # nothing to mark any more
    assert AuditEntry.objects.filter(action="session.administrations_withdrawn").count() == 1


def test_a_booked_review_is_withdrawn_and_cancelling_its_appointment_does_not_reopen_it(
    nurse, signed, actor_for, staff, client, login, patient
):
    from dermatox.scheduling.services import appointment_cancel, follow_up_book

    front_desk = actor_for(staff[Role.FRONT_DESK])
    review = FollowUp.objects.filter(session=signed).order_by("due_date").first()
    appointment = follow_up_book(actor=front_desk, follow_up=review, practitioner=staff[Role.PHYSICIAN])
    withdraw(nurse, signed)
    review.refresh_from_db()
    assert review.entered_in_error_at is not None
    login(staff[Role.NURSE])
    page = client.get(f"/patients/{patient.pk}/sessions/{signed.pk}/").content.decode()
    assert f"/schedule/appointments/{appointment.pk}/" in page  # listed for front desk to cancel
    appointment_cancel(actor=front_desk, appointment=appointment, reason="Session was charted in error")
    review.refresh_from_db()
    assert review.status == FollowUp.Status.BOOKED and review.entered_in_error_at is not None
    assert not FollowUp.objects.current().filter(session=signed).exists()


def test_the_chart_points_to_a_withdrawn_session_until_its_units_are_corrected(
    client, login, staff, patient, nurse, signed
):
    login(staff[Role.NURSE])
    link = f"/patients/{patient.pk}/sessions/{signed.pk}/"
    assert link in client.get(f"/patients/{patient.pk}/").content.decode()
    session = withdraw(nurse, signed)
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert link in page and "say what happened to its units" in page
    SessionStockCorrection(nurse, session).execute(kind="wasted")
    assert link not in client.get(f"/patients/{patient.pk}/").content.decode()


def test_outcomes_show_a_patients_sessions_to_whoever_read_the_patient(signed, patient, actor_for, staff):
    """The outcomes read takes the patient already read in scope (an emergency grant included): it must not
    narrow the sessions to the reader's own clinic."""
    from dermatox.chart.outcomes import patient_outcomes

    sister = actor_for(staff["physician_b"])
    assert len(patient_outcomes(actor=sister, patient=patient).sessions) == 1


def test_sessions_signed_before_the_link_get_their_reviews_and_withdrawal(nurse, signed):
    """Migration 0010: reviews made before FollowUp.session linked by patient, protocol, signer and time;
    a session already marked entered in error (the old way, without the cascade) gets it."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "dermatox.treatments.migrations.0010_link_reviews_and_withdraw_old_sessions"
    )
    FollowUp.objects.filter(session=signed).update(session=None)
    TreatmentSession.objects.filter(pk=signed.pk).update(
        entered_in_error_at=timezone.now(), entered_in_error_by=nurse.user, entered_in_error_reason=WHY
    )
    migration.forwards(apps, None)
    assert FollowUp.objects.filter(session=signed).count() == 2
    assert not FollowUp.objects.current().filter(session=signed).exists()
    assert not InjectionPoint.objects.current().filter(session=signed, withdrawal__isnull=False).exists()
    assert not Withdrawal.objects.current().filter(patient=signed.patient, reason="administered").exists()
