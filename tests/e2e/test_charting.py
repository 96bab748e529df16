"""Charting toxin points on the maps in Chromium: mouse, keyboard, then signing."""

import pytest
from playwright.sync_api import Page, expect

from dermatox.accounts.roles import Role
from dermatox.inventory.services import lot_receive, vial_open
from dermatox.treatments.models import TreatmentSession
from tests.dates import FAR_EXPIRY
from tests.e2e.test_browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_chart_and_sign_a_hair_session(page: Page, live_server, staff, actor_for, patient):
    nurse = actor_for(staff[Role.NURSE])
    lot = lot_receive(
        actor=nurse,
        product="onabotulinumtoxinA",
        lot_number="E2E-1",
        expiry=FAR_EXPIRY,
        vial_units=200,
        vials=1,
    )
    vial_open(actor=nurse, vial_id=lot.vials.get().pk, diluent_ml=4)
    sign_in(page, live_server.url, staff[Role.NURSE].username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="+ Toxin session").click()
    page.get_by_label("Protocol").select_option("hair_scalp_im")
    page.get_by_role("button", name="Start charting").click()
    expect(page.locator("g.pt")).to_have_count(30)
    page.get_by_role("button", name="Use this vial").click()
    expect(page.get_by_text("Off-label use (hair loss)")).to_be_visible()

    back = page.locator('svg[data-view="scalp_back"]')
    box = back.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.85)  # a click adds a point
    expect(page.locator("g.pt")).to_have_count(31)

    first = page.locator("g.pt").first
    before = first.get_attribute("data-x")
    first.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves a point
    page.wait_for_load_state()
    moved = page.locator(f'g.pt[data-id="{first.get_attribute("data-id")}"]')
    expect(moved).to_have_attribute("data-x", f"{float(before) + 1:.2f}")
    page.screenshot(path=str(pytest.screenshot_dir / "session-hair-scalp.png"), full_page=True)

    # A warned plan is signed only with a reason beside each warning (clinical.md §12.1b R-BoNT-1).
    page.get_by_role("button", name="Sign session and deduct from the vial").click()
    expect(page.get_by_text("Not signed: each warning needs a reason.")).to_be_visible()
    reasons = page.get_by_label("Reason for signing despite this warning")
    expect(reasons.first).to_have_attribute("aria-invalid", "true")
    for box in reasons.all():
        box.fill("Off-label use explained; consent signed.")
    page.get_by_role("button", name="Sign session and deduct from the vial").click()
    expect(page.get_by_text("Session signed")).to_be_visible()
    expect(page.get_by_text("Off-label use explained; consent signed.").first).to_be_visible()
    assert TreatmentSession.objects.get().status == "signed"


def test_sebum_forehead_session_on_the_face_map(page: Page, live_server, staff, patient):
    sign_in(page, live_server.url, staff[Role.NURSE].username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/sessions/new/")
    page.get_by_label("Protocol").select_option("sebum_forehead_id")
    page.get_by_role("button", name="Start charting").click()
    expect(page.locator('svg[data-view="face_front"] g.pt')).to_have_count(20)
    page.get_by_label("One dose for the selected points (all if none selected), U").fill("0.6")
    page.get_by_role("button", name="Save points").click()
    expect(page.locator("g.pt text").first).to_have_text("0.6")
    page.screenshot(path=str(pytest.screenshot_dir / "session-sebum-forehead.png"), full_page=True)


def test_withdraw_a_signed_session_and_record_its_units_as_waste(
    page: Page, live_server, staff, actor_for, patient
):
    """A session signed on the wrong patient: marked entered in error from its page, the page says so, no
    sign or edit controls are left, and the units are recorded as waste once."""
    from dermatox.inventory.models import Vial, Withdrawal
    from dermatox.treatments.services import session_create
    from tests.signing import sign

    nurse = actor_for(staff[Role.NURSE])
    lot = lot_receive(
        actor=nurse,
        product="onabotulinumtoxinA",
        lot_number="E2E-W",
        expiry=FAR_EXPIRY,
        vial_units=100,
        vials=1,
    )
    vial = vial_open(actor=nurse, vial_id=lot.vials.get().pk, diluent_ml=2.5)
    session = sign(
        nurse, session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    )
    sign_in(page, live_server.url, staff[Role.NURSE].username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/sessions/{session.pk}/")
    page.get_by_role("link", name="Mark this session as entered in error…").click()
    expect(page.get_by_text("its doses are withdrawn with it")).to_be_visible()
    page.get_by_label("Why is this record wrong?").fill("Charted on the wrong patient")
    page.get_by_role("button", name="Save").click()
    banner = page.locator("#withdrawn")
    expect(banner).to_contain_text("This session was marked as entered in error")
    expect(banner).to_contain_text("Charted on the wrong patient")
    expect(page.get_by_text("Entered in error", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign session and deduct from the vial")).to_have_count(0)
    expect(page.get_by_role("link", name="Mark this session as entered in error…")).to_have_count(0)
    expect(banner).to_contain_text("The 20 U taken from vial")
    page.screenshot(path=str(pytest.screenshot_dir / "session-withdrawn.png"), full_page=True)
    page.get_by_role("button", name="Drawn up but not given: record them as waste").click()
    expect(page.get_by_text("Stock corrected.")).to_be_visible()
    expect(banner).to_contain_text("Stock: 20 U — Recorded as waste.")
    expect(page.get_by_role("button", name="Drawn up but not given: record them as waste")).to_have_count(0)
    assert Withdrawal.objects.get(reason="wasted").units == 20
    assert Vial.objects.get(pk=vial.pk).remaining_units == 80
