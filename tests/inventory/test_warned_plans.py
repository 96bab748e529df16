"""A warned plan is signed only when the signer gives a reason for each warning (clinical.md §12.1b
R-BoNT-1: "A 'warned' plan must need an explicit clinician acknowledgement with a reason before it can be
signed"); the reasons are stored with the session, kept in its history and named in the audit."""

import pytest
from django.utils import timezone

from dermatox.audit.models import AuditEntry
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.inventory.models import Withdrawal
from dermatox.treatments.models import FollowUp, TreatmentSession
from dermatox.treatments.services import session_create, session_plan, session_sign

pytestmark = pytest.mark.django_db
REASON = "Off-label use explained; the patient signed the consent form."


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("ACK-1")


@pytest.fixture
def hair_session(nurse, patient, vial):
    """A scalp session for hair loss: off-label for every product (clinical.md §3.1, §12.8c), so warned."""
    return session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)


def warning_ids(session) -> list[str]:
    return [w["id"] for w in session_plan(session, timezone.now())["warnings"]]


def assert_nothing_written(session, vial):
    vial.refresh_from_db()
    session.refresh_from_db()
    assert vial.remaining_units == 200 and not Withdrawal.objects.exists()
    assert session.status == "draft" and session.acknowledgements == [] and session.signed_at is None
    assert not FollowUp.objects.exists()
    assert not AuditEntry.objects.filter(action="session.sign").exists()


def test_a_warned_plan_without_reasons_is_refused_and_writes_nothing(nurse, hair_session, vial):
    warned = warning_ids(hair_session)
    assert "off_label" in warned
    versions = TreatmentSession.history.filter(id=hair_session.pk).count()
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=hair_session)
    assert refused.value.code == "warnings_not_acknowledged"
    assert set(refused.value.fields) == {f"acknowledgements.{w}" for w in warned}
    assert all(w in refused.value.message for w in warned)
    assert "Off-label" in refused.value.fields["acknowledgements.off_label"][0]
    assert_nothing_written(hair_session, vial)
    assert TreatmentSession.history.filter(id=hair_session.pk).count() == versions


@pytest.mark.parametrize(
    "reason",
    ["", "  ", "ok", "  ab  ", "x" * 301, None, 42],
    ids=["empty", "blank", "two-chars", "two-chars-padded", "301-chars", "none", "number"],
)
def test_a_reason_must_be_3_to_300_characters(nurse, hair_session, vial, reason):
    reasons = {w: REASON for w in warning_ids(hair_session)} | {"off_label": reason}
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=hair_session, acknowledgements=reasons)
    assert set(refused.value.fields) == {"acknowledgements.off_label"}
    assert_nothing_written(hair_session, vial)


def test_a_reason_for_another_id_acknowledges_nothing(nurse, hair_session, vial):
    """Reasons keyed by ids that are not warnings of this plan are ignored: they never stand in for one."""
    reasons = {w: REASON for w in warning_ids(hair_session) if w != "off_label"}
    reasons |= {"offlabel": REASON, "same_area_same_day": REASON}
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=hair_session, acknowledgements=reasons)
    assert set(refused.value.fields) == {"acknowledgements.off_label"}
    assert_nothing_written(hair_session, vial)


def test_acknowledgements_must_map_ids_to_reasons(nurse, hair_session, vial):
    with pytest.raises(InvalidInput) as bad:
        session_sign(actor=nurse, session=hair_session, acknowledgements=["off_label", REASON])
    assert "acknowledgements" in bad.value.fields
    assert_nothing_written(hair_session, vial)


def test_with_a_reason_for_each_warning_it_is_signed_stored_kept_and_audited(nurse, hair_session, vial):
    warned = warning_ids(hair_session)
    reasons = {w: f"  {REASON}  " for w in warned} | {"not_a_warning": REASON}
    session = session_sign(actor=nurse, session=hair_session, acknowledgements=reasons)
    session.refresh_from_db()
    assert session.status == "signed"
    vial.refresh_from_db()
    assert vial.remaining_units == 50 and Withdrawal.objects.count() == 30  # 30 points x 5 U
    stored = {a["warning"]: a for a in session.acknowledgements}
    assert list(stored) == warned  # each warning once, in the plan's order; the stray id is not stored
    off_label = stored["off_label"]
    plan_warning = next(w for w in session.plan_check["warnings"] if w["id"] == "off_label")
    assert off_label["text"] == plan_warning["text"] and "Off-label" in off_label["text"]
    assert off_label["reason"] == REASON  # trimmed
    assert off_label["by"] == nurse.user.pk and off_label["by_name"] == str(nurse.user)
    assert off_label["at"] == session.signed_at.isoformat()
    latest = TreatmentSession.history.filter(id=session.pk).latest("history_date")
    assert latest.status == "signed" and latest.acknowledgements == session.acknowledgements
    audit = AuditEntry.objects.get(action="session.sign", object_id=str(session.pk))
    assert audit.detail["acknowledged"] == warned
    assert REASON not in str(audit.detail)  # clinical text stays on the record, not in the audit trail


def test_a_plan_without_warnings_needs_no_acknowledgement(nurse, patient, vial):
    """Glabellar lines at the label dose (20 U onabotulinumtoxinA, clinical.md §12.1): nothing to acknowledge."""
    session = session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    assert warning_ids(session) == []
    session = session_sign(actor=nurse, session=session)
    assert session.status == "signed" and session.acknowledgements == []
    assert AuditEntry.objects.get(action="session.sign").detail["acknowledged"] == []


def test_a_blocked_plan_is_refused_as_blocked_whatever_is_acknowledged(nurse, physician, hair_session, vial):
    """Acknowledging warnings never lets a block through (clinical.md §8.3: myasthenia gravis)."""
    from dermatox.patients.services import condition_add

    condition_add(
        actor=physician,
        patient=hair_session.patient,
        data={"category": "history", "code": "myasthenia_gravis", "text": "MG"},
    )
    reasons = {w: REASON for w in warning_ids(hair_session)}
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=hair_session, acknowledgements=reasons)
    assert refused.value.code == "plan_blocked"
    assert_nothing_written(hair_session, vial)
