"""The whole UI under the Content-Security-Policy: every main page loads with no violation (the autouse
fixture in conftest.py fails the test on any), and the htmx interactions still work."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dermatox.accounts.roles import Role
from dermatox.assessments.services import observation_record
from tests.e2e.test_journey import sign_in
from tests.scheduling.helpers import book
from tests.web.fixtures import full_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_main_pages_load_without_csp_violations(
    page: Page, live_server, staff, physician, nurse, patient
):
    base = live_server.url
    full_record(physician, patient)
    now = timezone.now()
    for days_ago, value in ((60, 180), (1, 120)):
        observation_record(
            actor=nurse,
            patient=patient,
            code="daily_shedding",
            value=value,
            effective_at=now - timezone.timedelta(days=days_ago),
        )
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    while tomorrow.weekday() == 6:  # the clinic is closed on Sundays
        tomorrow += timezone.timedelta(days=1)
    start = timezone.make_aware(timezone.datetime.combine(tomorrow, timezone.datetime.min.time())).replace(
        hour=10
    )
    book(physician, patient, start)

    sign_in(page, base, staff[Role.PHYSICIAN].username)
    # htmx: the live search filters as one types.
    page.goto(f"{base}/patients/")
    page.locator("input[name=q]").fill("sahin")
    expect(page.locator("#patient-rows tr")).to_have_count(1)
    # htmx: the outcome plots load into the patient page (inline SVG, no blocked styles).
    page.goto(f"{base}/patients/{patient.pk}/")
    expect(page.locator("#outcomes figure svg").first).to_be_visible()
    # htmx: the lab flag appears as a value is typed.
    page.goto(f"{base}/patients/{patient.pk}/labs/")
    page.locator("#f-lab_1_test").select_option("ferritin")
    page.locator("#f-lab_1_value").fill("14")
    expect(page.locator('#lab-flag-1 [data-flag="low"]')).to_be_visible()
    # The calendar: geometry from the nonce'd style element, so blocks are placed (not stacked at the top).
    page.goto(f"{base}/schedule/week/?date={tomorrow.isoformat()}")
    block = page.locator(".cal-block").first
    expect(block).to_be_visible()
    assert float(block.evaluate("b => parseFloat(getComputedStyle(b).top)")) > 0
    page.screenshot(path=str(pytest.screenshot_dir / "csp-calendar-week.png"), full_page=True)
    for path in (
        f"/schedule/?date={tomorrow.isoformat()}",
        f"/schedule/book/?patient={patient.pk}",
        "/recall/",
        "/stock/",
        "/outcomes/",
        "/evidence/",
        f"/patients/{patient.pk}/timeline/",
        f"/patients/{patient.pk}/versions/",
        f"/patients/{patient.pk}/assessment/",
        f"/patients/{patient.pk}/sessions/new/",
        f"/patients/{patient.pk}/examination/hair/",
    ):
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
    # The intake link page: its select-on-click is a static script now, not onclick="".
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("button", name="Start intake on the tablet").click()
    link = page.locator("input[data-select-on-click]")
    link.click()
    assert page.evaluate("() => window.getSelection().toString() || document.activeElement.selectionEnd") != 0
    # The kiosk page itself.
    page.goto(page.locator("#open-intake").get_attribute("href"))
    expect(page.locator("body.kiosk h1").first).to_be_visible()  # in the patient's language (tr)


def test_the_api_docs_render_from_local_assets(page: Page, live_server):
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else external.append(r.url))
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Dermatox API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert [u for u in external if not u.startswith("data:")] == []


def test_a_manager_sees_the_audit_trail(page: Page, live_server, staff, patient):
    sign_in(page, live_server.url, staff[Role.MANAGER].username)
    page.goto(f"{live_server.url}/audit/")
    expect(page.get_by_role("button", name="Filter")).to_be_visible()
    assert re.search(r"no-store", page.goto(f"{live_server.url}/audit/").headers["cache-control"])
