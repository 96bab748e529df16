"""The clinic's day, end to end in Chromium, in English and in Turkish: front desk registers and books a new
patient, the patient fills in the intake on the tablet, a nurse confirms it, the physician examines, enters
labs and signs the assessment, the injector charts and signs a session, the review appears in the recall
worklist, and the plan PDF downloads with the patient's name and the recommendations.

Labels are looked up through Django's own translations, so the Turkish run clicks the Turkish UI."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from dermatox.accounts.roles import Role
from dermatox.assessments.models import AssessmentSnapshot
from dermatox.clinical.reference import by_id
from dermatox.intake.models import IntakeForm
from dermatox.patients.models import Patient
from dermatox.scheduling.models import Appointment
from dermatox.treatments.models import TreatmentSession
from tests.conftest import PASSWORD
from tests.e2e import csp
from tests.pdf import pdf_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str) -> None:
    # Leave the previous user's page first: a response still in flight (a form's redirect) would otherwise
    # set that user's session cookie again after the cookies are cleared (seen once on a busy CI machine).
    page.wait_for_load_state("load")
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation(timeout=60_000):  # generous: CI machines are small and may be busy
        page.locator(".login-card button[type=submit]").click()
    expect(page.locator(".who")).to_contain_text(username.title(), timeout=30_000)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(pytest.screenshot_dir / f"{name}.png"), full_page=True)


def pick(page: Page, name: str, value: str) -> None:
    """Choose an option of a radio group drawn as buttons or pictures (the input itself is hidden)."""
    page.locator(f'label:has(input[name="{name}"][value="{value}"])').click()


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_a_new_patient_from_booking_to_printed_plan(
    page: Page, live_server, staff, receive_and_open, lang, browser, csp_violations
):
    base = live_server.url
    with translation.override(lang):
        t = translation.gettext
        receive_and_open("J-100", vial_units=200, diluent_ml=4)
        for user in staff.values():
            user.language = "en"
            user.save()

        # Front desk: picks the language on the top bar, registers the patient, books the first visit.
        sign_in(page, base, staff[Role.FRONT_DESK].username)
        if lang == "tr":
            page.locator("form.lang-switch button[value=tr]").click()
            expect(page.locator("html")).to_have_attribute("lang", "tr")
        page.get_by_role("link", name=t("Patients"), exact=True).click()
        page.goto(f"{base}/patients/new/")
        page.locator("#id_given_name").fill("Kerem")
        page.locator("#id_family_name").fill("Aydın")
        page.locator("#id_sex_at_birth").select_option("male")
        page.locator("#id_birth_date").fill("1990-05-17")
        page.locator("#id_email").fill("kerem@example.org")
        page.locator("#id_preferred_language").select_option(lang)
        page.locator("main button[type=submit]").click()
        patient = Patient.objects.get(family_name="Aydın")
        expect(page).to_have_url(re.compile(f"/patients/{patient.pk}/$"))
        page.get_by_role("link", name=t("Book appointment")).click()
        start = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0)
        page.locator("#id_start").fill(start.strftime("%Y-%m-%dT%H:%M"))
        page.locator("#id_practitioner").select_option(str(staff[Role.PHYSICIAN].pk))
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator(".messages")).to_be_visible()
        assert Appointment.objects.filter(patient=patient, status="booked").count() == 1
        page.goto(f"{base}/patients/{patient.pk}/")
        page.get_by_role("button", name=t("Start intake on the tablet")).click()
        link = page.locator("#open-intake").get_attribute("href")
        shot(page, f"journey-{lang}-1-intake-link")

        # The patient, on the tablet: no staff session, the patient's language.
        tablet_context = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
        csp.watch(tablet_context, into=csp_violations)  # checked with the staff pages' at the end (conftest)
        tablet = tablet_context.new_page()
        tablet.goto(link)
        expect(tablet.locator("html")).to_have_attribute("lang", lang)
        expect(tablet.get_by_role("heading", name=t("Health questionnaire"))).to_be_visible()
        tablet.get_by_role("button", name=t("Send to the clinic")).click()  # nothing answered yet
        expect(tablet.locator("#error-summary")).to_be_visible()
        questions = tablet.eval_on_selector_all(
            "input[type=radio][name^=q_]", "els => [...new Set(els.map(e => e.name))]"
        )
        for name in questions:
            pick(tablet, name, "no")
        pick(tablet, "toxin_before", "no")
        pick(tablet, "hair_concern", "yes")
        tablet.locator("#f-daily_shedding").fill("150")
        pick(tablet, "hair_thinning", "yes")
        pick(tablet, "hair_trigger", "no")
        pick(tablet, "skin_concern", "no")
        pick(tablet, "consent_treatment", "granted")
        pick(tablet, "consent_photography", "granted")
        pick(tablet, "consent_photo_teaching_marketing", "refused")
        tablet.locator("#f-signer_name").fill("Kerem Aydın")
        canvas = tablet.locator("canvas[data-sign-into]")
        canvas.scroll_into_view_if_needed()
        pad = canvas.bounding_box()
        tablet.mouse.move(pad["x"] + 30, pad["y"] + pad["height"] * 0.7)
        tablet.mouse.down()
        for step in range(1, 12):
            tablet.mouse.move(pad["x"] + 30 + step * 25, pad["y"] + pad["height"] * (0.3 + 0.4 * (step % 2)))
        tablet.mouse.up()
        shot(tablet, f"journey-{lang}-2-tablet-intake")
        tablet.get_by_role("button", name=t("Send to the clinic")).click()
        expect(tablet.get_by_role("heading", name=t("Thank you"))).to_be_visible()
        tablet_context.close()
        assert IntakeForm.objects.get(patient=patient).status == "submitted"

        # Nurse: reviews and confirms the intake into the record.
        staff[Role.NURSE].language = lang
        staff[Role.NURSE].save()
        sign_in(page, base, staff[Role.NURSE].username)
        page.goto(f"{base}/patients/{patient.pk}/")
        page.locator("#intake-card").get_by_role("link", name=t("Review")).click()
        shot(page, f"journey-{lang}-3-intake-review")
        page.get_by_role("button", name=t("Confirm into the record")).click()
        expect(page.locator(".messages")).to_be_visible()
        assert patient.consents.count() == 3 and patient.observations.filter(code="daily_shedding").exists()

        # Physician: hair examination with the Norwood picture, labs with their flag, signs the assessment.
        staff[Role.PHYSICIAN].language = lang
        staff[Role.PHYSICIAN].save()
        sign_in(page, base, staff[Role.PHYSICIAN].username)
        page.goto(f"{base}/patients/{patient.pk}/")
        page.get_by_role("link", name=t("Hair exam")).click()
        page.locator("#f-pull_test_hairs").fill("4")
        pick(page, "norwood", "III-vertex")
        pick(page, "scalp_gaps", "no")
        pick(page, "hyperandrogenism_signs", "no")
        page.locator("#f-diagnosis").select_option("androgenetic_alopecia")
        shot(page, f"journey-{lang}-4-hair-exam")
        page.get_by_role("button", name=t("Save examination")).click()
        expect(page).to_have_url(re.compile("/assessment/$"))
        page.goto(f"{base}/patients/{patient.pk}/labs/")
        page.locator("#f-lab_1_test").select_option("ferritin")
        page.locator("#f-lab_1_value").fill("14")
        expect(page.locator('#lab-flag-1 [data-flag="low"]')).to_be_visible()  # shown as typed
        page.locator("#f-lab_2_test").select_option("vitamin_d_25oh")
        page.locator("#f-lab_2_unit").fill("nmol/L")
        page.locator("#f-lab_2_value").fill("80")
        expect(page.locator('#lab-flag-2 [data-flag="normal"]')).to_be_visible()
        shot(page, f"journey-{lang}-5-labs")
        page.get_by_role("button", name=t("Save results")).click()
        expect(page).to_have_url(re.compile("/assessment/$"))
        shot(page, f"journey-{lang}-6-assessment")
        page.get_by_role("button", name=t("Sign and save this assessment")).click()
        snapshot = AssessmentSnapshot.objects.get(patient=patient)
        expect(page).to_have_url(re.compile(f"/assessment/{snapshot.pk}/$"))

        # Injector: charts the protocol's points on the scalp map and signs the session.
        sign_in(page, base, staff[Role.NURSE].username)
        page.goto(f"{base}/patients/{patient.pk}/")
        page.get_by_role("link", name="+ " + t("Toxin session")).click()
        page.locator("#protocol").select_option("hair_scalp_im")
        page.get_by_role("button", name=t("Start charting")).click()
        expect(page.locator("g.pt")).to_have_count(30)
        page.get_by_role("button", name=t("Use this vial")).click()
        shot(page, f"journey-{lang}-7-session")
        for box in page.get_by_label(t("Reason for signing despite this warning")).all():
            box.fill("Off-label use explained; consent signed.")
        page.get_by_role("button", name=t("Sign session and deduct from the vial")).click()
        expect(page.locator(".messages")).to_contain_text(
            t("Session signed: units deducted from the vial, reviews scheduled.")
        )
        assert TreatmentSession.objects.get(patient=patient).status == "signed"

        # The review appears in the recall worklist, with one click to book it.
        sign_in(page, base, staff[Role.FRONT_DESK].username)
        page.get_by_role("link", name=t("Recall"), exact=True).click()
        row = page.locator("tr", has_text="Kerem Aydın").first
        expect(row).to_be_visible()
        shot(page, f"journey-{lang}-8-recall")

        # The plan PDF, in the patient's language, with the name and the recommendations.
        sign_in(page, base, staff[Role.PHYSICIAN].username)
        page.goto(f"{base}/patients/{patient.pk}/assessment/{snapshot.pk}/")
        with page.expect_download() as download:
            page.get_by_role("link", name=t("Treatment plan (PDF)")).click()
        text = pdf_text(Path(download.value.path()).read_bytes())
        assert "Kerem Aydın" in text
        treatments = by_id("treatments.toml")
        shown = [
            r
            for r in snapshot.result["recommendations"]
            if r["status"] in ("recommended", "option", "not_yet")
        ]
        assert shown
        flat = " ".join(text.split())
        for rec in shown:
            name = treatments[rec["treatment"]]["display_tr" if lang == "tr" else "display"]
            assert " ".join(name.split()) in flat, name
        assert t("Treatment plan") in flat
