"""The first usable UI, driven in Debian's Chromium the way staff use it."""

import re

import pytest
from playwright.sync_api import Page, expect

from dermatox.accounts.roles import Role
from dermatox.patients.models import Patient
from tests.conftest import PASSWORD
from tests.dates import NEXT_YEAR
from tests.web.fixtures import full_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_search_and_open_a_patient(page: Page, live_server, staff, physician, patient):
    full_record(physician, patient)
    sign_in(page, live_server.url, staff[Role.NURSE].username)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    page.get_by_label("Name").fill("sahin")  # live search, no button press, no diacritics
    expect(page.locator("#patient-rows tr")).to_have_count(1)
    page.get_by_role("link", name=re.compile("Şahin")).click()
    expect(page.get_by_role("heading", name=re.compile("İpek"))).to_be_visible()
    expect(page.get_by_text("Secret clinical note")).to_be_visible()
    expect(page.get_by_text("Allergy: Lidocaine")).to_be_visible()
    page.screenshot(path=str(pytest.screenshot_dir / "e2e-patient.png"), full_page=True)


def test_new_patient_shows_field_errors_then_saves(page: Page, live_server, staff):
    sign_in(page, live_server.url, staff[Role.FRONT_DESK].username)
    page.get_by_role("link", name="+ New patient").click()
    page.get_by_label("Given name").fill("Deniz")
    page.get_by_label("Date of birth").fill(NEXT_YEAR.isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Family name: This field is required.")).to_be_visible()
    expect(page.get_by_text("Date of birth: Date of birth must not be in the future.")).to_be_visible()
    expect(page.get_by_label("Given name")).to_have_value("Deniz")  # nothing typed is lost
    page.get_by_label("Family name").fill("<b>Yıldız</b>")
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_label("Date of birth").fill("1994-06-15")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile(r"Patient AAA-000001 created"))).to_be_visible()
    expect(page.locator("h1")).to_contain_text("<b>Yıldız</b>")  # markup shown as text, not run
    assert Patient.objects.get().family_name == "<b>Yıldız</b>"


def test_record_a_measurement_from_the_patient_page(page: Page, live_server, staff, patient):
    sign_in(page, live_server.url, staff[Role.NURSE].username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="+ Measurement").click()
    page.get_by_label("Measurement").select_option("gags")
    page.get_by_label("Value").fill("45")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Value: must be <= 44")).to_be_visible()
    page.get_by_label("Value").fill("22")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    # The score also labels the outcome plot's SVG once it renders: look in the timeline.
    expect(page.locator("#timeline").get_by_text("Global Acne Grading System score")).to_be_visible()


def test_manager_reads_the_audit_trail(page: Page, live_server, staff, patient):
    sign_in(page, live_server.url, staff[Role.NURSE].username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, staff[Role.MANAGER].username)
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("cell", name="patient.view").first).to_be_visible()
    page.get_by_label("User").fill("nurse_a")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr").first).to_contain_text("nurse_a")
