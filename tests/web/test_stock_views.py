import pytest

from dermatox.accounts.roles import Role
from dermatox.inventory.models import InventoryPolicy, Lot, Vial
from tests.dates import FAR_EXPIRY

pytestmark = pytest.mark.django_db


def test_receive_reconstitute_and_discard_from_the_stock_page(login, staff, client):
    login(staff[Role.NURSE])
    response = client.post(
        "/stock/",
        {
            "product": "onabotulinumtoxinA",
            "lot_number": "ST-1",
            "expiry": FAR_EXPIRY.isoformat(),
            "vial_units": 100,
            "vials": 2,
        },
    )
    assert response.status_code == 302
    vial = Vial.objects.filter(lot__lot_number="ST-1").first()
    client.post(f"/stock/vials/{vial.pk}/", {"action": "open", "diluent_ml": "2.5"})
    vial.refresh_from_db()
    assert vial.state == "open" and vial.units_per_0_1_ml == 4
    page = client.get("/stock/").content.decode()
    assert "ST-1" in page and "4 U/0.1 mL" in page
    client.post(f"/stock/vials/{vial.pk}/", {"action": "discard", "reason": "Dropped"})
    vial.refresh_from_db()
    assert vial.state == "discarded"


def test_bad_delivery_keeps_input_and_names_the_field(login, staff, client):
    login(staff[Role.NURSE])
    page = client.post(
        "/stock/",
        {
            "product": "onabotulinumtoxinA",
            "lot_number": "ST-2",
            "expiry": FAR_EXPIRY.isoformat(),
            "vial_units": 150,
            "vials": 1,
        },
    ).content.decode()
    assert "onabotulinumtoxinA comes in vials of 50, 100, 200 U" in page and 'value="ST-2"' in page
    assert not Lot.objects.exists()


def test_only_managers_set_the_beyond_use_policy_within_four_weeks(login, staff, client):
    login(staff[Role.NURSE])
    assert client.post("/stock/policy/", {"beyond_use_hours": 48}).status_code == 403
    login(staff[Role.MANAGER])
    client.post("/stock/policy/", {"beyond_use_hours": 700})
    assert not InventoryPolicy.objects.exists()  # over 4 weeks (672 h): refused
    client.post("/stock/policy/", {"beyond_use_hours": 672})
    assert InventoryPolicy.objects.get().beyond_use_hours == 672


def test_recall_page_for_a_lot_without_patients(login, staff, client):
    login(staff[Role.NURSE])
    assert "No patient received lot X-9." in client.get("/stock/recall/?lot=X-9").content.decode()
    assert client.get("/stock/").status_code == 200
    login(staff[Role.FRONT_DESK])
    assert client.get("/stock/").status_code == 403
