"""Vials and lots: receiving, reconstitution, deduction that never goes below zero (also under real
concurrency, on SQLite and PostgreSQL), expiry and beyond-use, waste, and lot recall."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.inventory.models import InventoryPolicy, Vial, Withdrawal
from dermatox.inventory.selectors import lot_recall
from dermatox.inventory.services import lot_receive, vial_administer, vial_deduct, vial_discard, vial_open
from dermatox.patients.services import patient_create
from tests.dates import FAR_EXPIRY

NEXT_YEAR = FAR_EXPIRY


@pytest.fixture
def open_vial(receive_and_open):
    return receive_and_open("C1234", vials=2, vial_units=100, diluent_ml="2.5")


@pytest.fixture
def vial(receive_and_open):
    """Lot RV-1: two vials of 200 U, the first opened (4 mL: 5 U/0.1 mL)."""
    return receive_and_open("RV-1", vials=2)


@pytest.mark.django_db
def test_receive_creates_sealed_vials(nurse):
    lot = lot_receive(
        actor=nurse, product="abobotulinumtoxinA", lot_number="D99", expiry=NEXT_YEAR, vial_units=300, vials=3
    )
    assert lot.vials.count() == 3 and {v.state for v in lot.vials.all()} == {"sealed"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"product": "botox"}, "product"),
        ({"vial_units": 150}, "vial_units"),  # §8.1: Botox 50/100/200
        ({"expiry": dt.date(2020, 1, 1)}, "expiry"),
        ({"vials": 0}, "vials"),
        ({"lot_number": "  "}, "lot_number"),
    ],
)
def test_bad_deliveries_are_refused(nurse, kwargs, field):
    data = {
        "product": "onabotulinumtoxinA",
        "lot_number": "L1",
        "expiry": NEXT_YEAR,
        "vial_units": 100,
        "vials": 1,
        **kwargs,
    }
    with pytest.raises(InvalidInput) as info:
        lot_receive(actor=nurse, **data)
    assert field in info.value.fields


@pytest.mark.django_db
def test_open_sets_concentration_and_label_beyond_use(open_vial):
    assert open_vial.state == "open" and open_vial.units_per_0_1_ml == Decimal(4)
    assert open_vial.beyond_use_at - open_vial.opened_at == dt.timedelta(hours=24)  # §8.1 label: 24 h


@pytest.mark.django_db
def test_clinic_policy_allows_up_to_four_weeks(nurse):
    """§8.2: ASDS consensus (Alam 2015): >= 4 weeks refrigerated; more than that is refused."""
    policy = InventoryPolicy(clinic=nurse.clinic, beyond_use_hours=4 * 7 * 24)
    policy.full_clean()
    policy.save()
    lot = lot_receive(
        actor=nurse, product="onabotulinumtoxinA", lot_number="P1", expiry=NEXT_YEAR, vial_units=100, vials=1
    )
    vial = vial_open(actor=nurse, vial_id=lot.vials.get().pk, diluent_ml=2)
    assert vial.beyond_use_at - vial.opened_at == dt.timedelta(weeks=4)
    with pytest.raises(ValidationError):
        InventoryPolicy(clinic=nurse.clinic, beyond_use_hours=4 * 7 * 24 + 1).full_clean(exclude=["clinic"])


@pytest.mark.django_db
def test_deduct_and_run_dry(nurse, open_vial, patient):
    vial_deduct(actor=nurse, vial_id=open_vial.pk, units=60, patient=patient)
    with pytest.raises(Conflict, match="40 U left"):
        vial_deduct(actor=nurse, vial_id=open_vial.pk, units=45, patient=patient)
    vial_deduct(actor=nurse, vial_id=open_vial.pk, units=40, patient=patient)
    open_vial.refresh_from_db()
    assert open_vial.remaining_units == 0 and open_vial.state == "empty"


@pytest.mark.django_db
def test_never_after_beyond_use_or_expiry(nurse, open_vial, patient):
    later = open_vial.beyond_use_at + dt.timedelta(minutes=1)
    with pytest.raises(Conflict, match="usable until"):
        vial_deduct(actor=nurse, vial_id=open_vial.pk, units=5, patient=patient, at=later)
    with pytest.raises(Conflict, match="expired"):
        vial_deduct(
            actor=nurse,
            vial_id=open_vial.pk,
            units=5,
            patient=patient,
            at=timezone.make_aware(dt.datetime.combine(NEXT_YEAR + dt.timedelta(days=2), dt.time(9))),
        )


@pytest.mark.django_db
def test_sealed_vials_other_clinics_and_front_desk_are_refused(nurse, open_vial, staff, actor_for, patient):
    sealed = Vial.objects.filter(state="sealed").get()
    with pytest.raises(Conflict, match="open"):
        vial_deduct(actor=nurse, vial_id=sealed.pk, units=5, patient=patient)
    with pytest.raises(NotFound):
        vial_deduct(actor=actor_for(staff["physician_b"]), vial_id=open_vial.pk, units=5)
    with pytest.raises(PermissionDenied):
        vial_deduct(actor=actor_for(staff[Role.FRONT_DESK]), vial_id=open_vial.pk, units=5)
    with pytest.raises(InvalidInput):
        vial_deduct(actor=nurse, vial_id=open_vial.pk, units=-5)


@pytest.mark.django_db
def test_the_database_itself_refuses_negative_units(open_vial):
    with pytest.raises(IntegrityError), transaction.atomic():
        Vial.objects.filter(pk=open_vial.pk).update(remaining_units=-1)


@pytest.mark.django_db
def test_discard_records_the_waste(nurse, open_vial, patient):
    vial_deduct(actor=nurse, vial_id=open_vial.pk, units=30, patient=patient)
    vial_discard(actor=nurse, vial_id=open_vial.pk, reason="Beyond use")
    waste = Withdrawal.objects.get(reason="wasted")
    assert waste.units == 70


@pytest.mark.django_db(transaction=True)
def test_parallel_deductions_never_overdraw_the_vial(nurse, open_vial):
    """30 nurses take 5 U each from one 100 U vial at the same moment: exactly 20 succeed."""
    outcomes = []

    def chart():
        close_old_connections()
        try:
            vial_deduct(actor=nurse, vial_id=open_vial.pk, units=5)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=chart) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    open_vial.refresh_from_db()
    taken = sum(w.units for w in Withdrawal.objects.filter(vial=open_vial))
    print(
        f"{connection.vendor}: 30 parallel deductions of 5 U: {outcomes.count('ok')} ok, {outcomes.count('refused')} refused, "
        f"{open_vial.remaining_units} U left"
    )
    assert outcomes.count("ok") == 20 and outcomes.count("refused") == 10
    assert open_vial.remaining_units == 0 and taken == 100


@pytest.mark.django_db
def test_lot_recall_lists_the_patients_who_received_it(nurse, open_vial, patient, staff, actor_for):
    other = patient_create(
        actor=nurse,
        data={"given_name": "Kaan", "family_name": "Ak", "sex_at_birth": "male", "birth_date": "1985-02-02"},
    )
    vial_deduct(actor=nurse, vial_id=open_vial.pk, units=20, patient=patient)
    vial_deduct(actor=nurse, vial_id=open_vial.pk, units=4, patient=patient)
    vial_deduct(actor=nurse, vial_id=open_vial.pk, units=20, patient=other)
    lines = lot_recall(actor=nurse, lot_number="C1234")
    assert [(line.mrn, line.units, line.administrations) for line in lines] == [
        ("AAA-000002", "20", 1),
        ("AAA-000001", "24", 2),
    ]
    assert lot_recall(actor=actor_for(staff["physician_b"]), lot_number="C1234") == []


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
