"""The patient's whole toxin history, as the case builder gives it to the pathways and the plan check:
doses charted here (per day, product and protocol, with the protocol's area) and doses given elsewhere as
reported at intake, including those with an unknown product or unknown units (clinical.md §12.1b R-BoNT-4:
"Record every BoNT dose with product, date and units"; a dose with a known date starts the interval)."""

import datetime as dt

import pytest
from django.utils import timezone

from dermatox.chart.case_builder import build_case
from dermatox.clinical.pathways import assess
from dermatox.common.errors import Conflict
from dermatox.inventory.models import Withdrawal
from dermatox.inventory.services import vial_administer
from dermatox.patients.services import patient_create
from dermatox.treatments.services import (
    external_toxin_dose_record,
    session_create,
    session_plan,
    session_sign,
)
from tests.signing import reasons_for, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def man(physician):
    """A man of 40: scalp toxin is studied in adult men (clinical.md §12.8c), so the pathway and the plan
    check both speak about it."""
    return patient_create(
        actor=physician,
        data={
            "given_name": "Emre",
            "family_name": "Kaya",
            "sex_at_birth": "male",
            "birth_date": (timezone.localdate() - dt.timedelta(days=40 * 366)).isoformat(),
            "preferred_language": "tr",
        },
    )


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("HIST-1")


def elsewhere(actor, patient, days_ago: int, **data):
    given_on = timezone.localdate() - dt.timedelta(days=days_ago)
    external_toxin_dose_record(
        actor=actor, patient=patient, data={"given_on": given_on, "area": "scalp", **data}
    )
    return given_on


def history(patient) -> list[dict]:
    return build_case(patient, timezone.localdate()).case["history"]["toxin_history"]


def test_a_dose_elsewhere_without_units_or_product_is_in_the_history_with_its_area(physician, man):
    given_on = elsewhere(physician, man, 30, product="unknown")
    elsewhere(physician, man, 40, product="abobotulinumtoxinA", units=None, area="other")
    built = build_case(man, timezone.localdate())
    doses = built.case["history"]["toxin_history"]
    assert doses == [
        {
            "date": (given_on - dt.timedelta(days=10)).isoformat(),
            "product": "abobotulinumtoxinA",
            "indication": "given elsewhere (other)",  # "other" is no area the plan check knows: none given
        },
        {
            "date": given_on.isoformat(),
            "product": "unknown",
            "indication": "given elsewhere (scalp)",
            "area": "scalp",
        },
    ]
    notes = " ".join(built.missing)
    not_before = given_on + dt.timedelta(days=84)
    assert "product and units unknown" in notes and "units unknown" in notes
    assert f"no toxin before {not_before}" in notes


def test_a_dose_elsewhere_with_the_date_but_not_the_units_starts_the_12_weeks_at_signing(
    physician, nurse, man, vial
):
    """The clinic's bug: reported at intake with its date only, it did not start the interval at signing
    while the Assessment page showed the right not-before date (clinical.md §8.3, §12.1b R-BoNT-4)."""
    given_on = elsewhere(physician, man, 30, product="unknown")
    not_before = (given_on + dt.timedelta(days=84)).isoformat()
    assessment = assess(build_case(man, timezone.localdate()).case)
    assert assessment["safety"]["toxin_not_before"] == not_before
    session = session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=vial.pk)
    plan = session_plan(session, timezone.now())
    assert "retreatment_interval" in {b["id"] for b in plan["blocks"]}
    assert plan["not_before"] == not_before  # the session page and the Assessment page agree
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=session, acknowledgements=reasons_for(session))
    assert refused.value.code == "plan_blocked"
    vial.refresh_from_db()
    assert vial.remaining_units == 200 and not Withdrawal.objects.exists()


def test_a_known_product_without_units_also_starts_the_interval(physician, nurse, man, vial):
    """onabotulinumtoxinA elsewhere, units not known: still a retreatment, and the text says the units are
    unknown (issue 11 §2); it cannot count toward the 400 U per 3 months (§12.1b) and must not break it."""
    elsewhere(physician, man, 20, product="onabotulinumtoxinA")
    assert "units" not in history(man)[0]
    session = session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=vial.pk)
    plan = session_plan(session, timezone.now())
    blocked = {b["id"]: b for b in plan["blocks"]}
    assert "retreatment_interval" in blocked and blocked["retreatment_interval"]["params"]["units_unknown"]


def test_charted_doses_are_per_day_product_and_protocol_with_the_protocols_area(nurse, man, vial):
    earlier = timezone.now() - dt.timedelta(days=200)
    vial_administer(actor=nurse, vial_id=vial.pk, patient=man, doses=[10], at=earlier)  # no session
    sign(nurse, session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=vial.pk))
    sign(nurse, session_create(actor=nurse, patient=man, protocol="glabellar_lines", vial_id=vial.pk))
    today = timezone.localdate().isoformat()
    assert history(man) == [
        {
            "date": timezone.localdate(earlier).isoformat(),
            "product": "onabotulinumtoxinA",
            "units": 10.0,
            "indication": "charted in Dermatox",  # no protocol: no area
        },
        {
            "date": today,
            "product": "onabotulinumtoxinA",
            "units": 20.0,  # 5 x 4 U
            "indication": "glabellar_lines",
            "area": "face",
        },
        {
            "date": today,
            "product": "onabotulinumtoxinA",
            "units": 150.0,
            "indication": "hair",
            "area": "scalp",
        },
    ]


def test_a_dose_elsewhere_today_is_in_the_history_as_today_in_its_area(physician, man):
    """Seen at intake this morning: given elsewhere today, to the scalp."""
    elsewhere(physician, man, 0, product="abobotulinumtoxinA", units=100)
    assert history(man) == [
        {
            "date": timezone.localdate().isoformat(),
            "product": "abobotulinumtoxinA",
            "units": 100.0,
            "indication": "given elsewhere (scalp)",
            "area": "scalp",
        }
    ]


def test_a_second_full_scalp_session_the_same_day_is_blocked(nurse, man, receive_and_open):
    """The clinic's bug: a second full scalp session on the same patient the same day signed (issue 11 §2;
    clinical.md §12.1b R-BoNT-4)."""
    first = receive_and_open("SAME-DAY-1")
    sign(nurse, session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=first.pk))
    second = receive_and_open("SAME-DAY-2")
    again = session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=second.pk)
    plan = session_plan(again, timezone.now())
    assert "same_area_same_day" in {b["id"] for b in plan["blocks"]}
    with pytest.raises(Conflict) as refused:
        session_sign(actor=nurse, session=again, acknowledgements=reasons_for(again))
    assert refused.value.code == "plan_blocked"
    second.refresh_from_db()
    assert second.remaining_units == 200


def test_a_scalp_dose_elsewhere_today_blocks_a_scalp_session(physician, nurse, man, vial):
    """Another (abo) product to the same area the same day: both same-day blocks (§12.1b R-BoNT-4)."""
    elsewhere(physician, man, 0, product="abobotulinumtoxinA", units=100)
    session = session_create(actor=nurse, patient=man, protocol="hair_scalp_im", vial_id=vial.pk)
    blocks = {b["id"] for b in session_plan(session, timezone.now())["blocks"]}
    assert {"same_area_same_day", "other_product_same_day"} <= blocks
