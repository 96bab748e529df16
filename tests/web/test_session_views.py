import json

import pytest

from dermatox.accounts.roles import Role
from dermatox.inventory.models import Vial
from dermatox.treatments.models import TreatmentSession
from tests.signing import reasons_for


def reasons(session) -> dict[str, str]:
    """The sign form as a clinician fills it: a reason in the box beside each warning."""
    session.refresh_from_db()  # the vial was chosen through the page
    return {f"ack_{rule}": reason for rule, reason in reasons_for(session).items()}


pytestmark = pytest.mark.django_db


@pytest.fixture
def vial(receive_and_open):
    return receive_and_open("WEB1")


def test_chart_a_hair_session_from_start_to_signature(login, staff, patient, vial, client):
    login(staff[Role.NURSE])
    response = client.post(f"/patients/{patient.pk}/sessions/new/", {"protocol": "hair_scalp_im"})
    session = TreatmentSession.objects.get()
    url = f"/patients/{patient.pk}/sessions/{session.pk}/"
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert page.count('class="pt"') == 30 and "Scalp, from above" in page
    client.post(url + "vial/", {"vial": vial.pk})
    point = session.points.first()
    moved = client.post(
        url + "point/",
        json.dumps({"action": "move", "id": point.pk, "x": 33.3, "y": 44.4}),
        content_type="application/json",
    )
    assert moved.status_code == 204
    added = client.post(
        url + "point/",
        json.dumps({"action": "add", "view": "scalp_back", "x": 50, "y": 60}),
        content_type="application/json",
    )
    assert added.status_code == 204 and session.points.current().count() == 31
    bad = client.post(
        url + "point/",
        json.dumps({"action": "add", "view": "scalp_back", "x": "left"}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    page = client.get(url).content.decode()
    assert "Plan check" in page and "Off-label use (hair loss)" in page
    client.post(url + "sign/", reasons(session))
    session.refresh_from_db()
    assert session.status == "signed" and Vial.objects.get(pk=vial.pk).remaining_units == 45  # 200 - 31 x 5
    assert "Signed by" in client.get(url).content.decode()


def test_points_table_doses_selected_points_edits_depth_removes_and_is_all_or_nothing(
    login, staff, patient, client
):
    login(staff[Role.NURSE])
    client.post(f"/patients/{patient.pk}/sessions/new/", {"protocol": "sebum_forehead_id"})
    session = TreatmentSession.objects.get()
    url = f"/patients/{patient.pk}/sessions/{session.pk}/points/"
    first, second = session.points.current().order_by("pk")[:2]
    client.post(url, {"dose": "0.75", "selected": [first.pk, second.pk], "note": "Oily T-zone"})
    assert [float(p.units) for p in session.points.current().order_by("pk")][:3] == [0.75, 0.75, 0.5]
    client.post(url, {"dose": "0.8"})  # none selected: every point
    assert {float(p.units) for p in session.points.current()} == {0.8}
    client.post(url, {f"depth_{first.pk}": "subcutaneous", f"units_{first.pk}": "1.2"})
    first.refresh_from_db()
    assert first.depth == "subcutaneous" and float(first.units) == 1.2
    client.post(url, {"dose": "-1"})  # refused: nothing changes
    assert sorted({float(p.units) for p in session.points.current()}) == [0.8, 1.2]
    client.post(url, {"remove": first.pk})
    assert session.points.current().count() == 19
    session.refresh_from_db()
    assert session.note == "Oily T-zone"


def test_front_desk_cannot_open_sessions(login, staff, patient, client):
    login(staff[Role.FRONT_DESK])
    assert client.get(f"/patients/{patient.pk}/sessions/new/").status_code == 403


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
