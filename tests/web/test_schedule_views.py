"""Schedule pages: who may see and book, field messages, cross-clinic 404s, .ics, one-click recall booking,
and page queries that do not grow with the number of appointments."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.scheduling import services as sched
from dermatox.scheduling.models import Appointment
from tests.scheduling import helpers
from tests.scheduling.helpers import at, book, days, follow_up

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
clock = helpers.clock
mailed_patient = helpers.mailed_patient


def test_front_desk_books_from_an_empty_slot(login, staff, physician, patient, client):
    login(staff[Role.FRONT_DESK])
    page = client.get("/schedule/?date=2026-03-10").content.decode()
    assert "Physician_A" in page and "Nurse_A" in page
    slot = f"/schedule/book/?start=2026-03-10T09:30&amp;practitioner={physician.user.pk}"
    assert slot in page
    form = client.get(
        f"/schedule/book/?patient={patient.pk}&start=2026-03-10T09:30&practitioner={physician.user.pk}"
    )
    assert form.status_code == 200 and 'value="2026-03-10T09:30"' in form.content.decode()
    response = client.post(
        "/schedule/book/",
        {
            "patient": patient.pk,
            "practitioner": physician.user.pk,
            "kind": "treatment",
            "start": "2026-03-10T09:30",
            "duration": 45,
            "reason": "Toxin session",
        },
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/schedule/appointments/{appointment.pk}/"
    assert (appointment.start, appointment.duration_minutes, appointment.created_by) == (
        at(days(1), 9, 30),
        45,
        staff[Role.FRONT_DESK],
    )
    day = client.get("/schedule/?date=2026-03-10").content.decode()
    assert "İpek Şahin" in day and "Treatment session" in day and "Booked" in day
    week = client.get("/schedule/week/?date=2026-03-12").content.decode()
    assert "İpek Şahin" in week and "Mon 9 Mar" in week


def test_booking_form_explains_each_problem_next_to_its_field(login, staff, physician, patient, client):
    book(physician, patient, at(days(1), 10))
    login(staff[Role.FRONT_DESK])
    base = {"patient": patient.pk, "practitioner": physician.user.pk, "kind": "consultation", "reason": ""}
    cases = [
        ({"start": "2026-03-01T10:00", "duration": 30}, "Start: must not be in the past"),
        ({"start": "2026-03-10T10:15", "duration": 30}, "Start: Physician_A already has an appointment"),
        ({"start": "2026-03-10T12:00", "duration": 2}, "Duration (minutes):"),
        ({"start": "not a date", "duration": 30}, "Start:"),
        (
            {"start": "2026-03-10T12:00", "duration": 30, "practitioner": staff[Role.MANAGER].pk},
            "Practitioner:",
        ),
    ]
    for change, message in cases:
        response = client.post("/schedule/book/", {**base, **change})
        assert response.status_code == 200
        assert message in response.content.decode(), message
    assert Appointment.objects.count() == 1


def test_patient_search_on_the_booking_page(login, staff, patient, client):
    login(staff[Role.FRONT_DESK])
    page = client.get("/schedule/book/?q=ipek&start=2026-03-10T09:30").content.decode()
    assert f"/schedule/book/?patient={patient.pk}&amp;start=2026-03-10T09%3A30" in page
    page = client.get(f"/schedule/book/?q={patient.mrn}").content.decode()
    assert patient.mrn in page
    assert AuditEntry.objects.filter(action="patient.search").count() == 2


def test_appointment_page_moves_cancels_and_marks(login, staff, physician, patient, client):
    appointment = book(physician, patient, at(days(0), 10))
    login(staff[Role.NURSE])
    url = f"/schedule/appointments/{appointment.pk}/"
    page = client.get(url).content.decode()
    assert "İpek Şahin" in page and "Calendar file (.ics)" in page and 'value="arrived"' in page
    response = client.post(
        url,
        {
            "action": "reschedule",
            "practitioner": physician.user.pk,
            "start": "2026-03-09T11:00",
            "duration": 20,
        },
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == at(days(0), 11) and appointment.sequence == 1
    page = client.post(url, {"action": "cancel", "reason": ""}).content.decode()
    assert "Reason for cancelling:" in page
    client.post(url, {"action": "status", "status": "arrived"})
    appointment.refresh_from_db()
    assert appointment.status == "arrived"
    page = client.get(url).content.decode()
    assert 'value="fulfilled"' in page and 'name="action" value="cancel"' not in page


def test_ics_download_is_an_audited_export(login, staff, physician, patient, client):
    appointment = book(physician, patient, at(days(1), 10))
    login(staff[Role.MANAGER])
    response = client.get(f"/schedule/appointments/{appointment.pk}/ics/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in response.content and "attachment" in response["Content-Disposition"]
    assert AuditEntry.objects.filter(action="appointment.export_ics", patient_id=patient.pk).exists()


def test_manager_views_but_cannot_book_and_sysadmin_sees_nothing(login, staff, physician, patient, client):
    appointment = book(physician, patient, at(days(1), 10))
    item = follow_up(patient, days(2))
    login(staff[Role.MANAGER])
    page = client.get("/schedule/?date=2026-03-10").content.decode()
    assert "İpek Şahin" in page and "/schedule/book/?start=" not in page
    assert (
        client.get("/recall/").status_code == 200
        and "follow-up-book" not in client.get("/recall/").content.decode()
    )
    assert client.get("/schedule/book/").status_code == 403
    assert (
        client.post(
            f"/schedule/appointments/{appointment.pk}/", {"action": "cancel", "reason": "x"}
        ).status_code
        == 403
    )
    assert client.post(f"/recall/{item.pk}/book/").status_code == 403
    login(staff[Role.SYSADMIN])
    for url in ("/schedule/", "/schedule/week/", "/recall/", f"/schedule/appointments/{appointment.pk}/"):
        assert client.get(url).status_code == 403, url
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_another_clinic_gets_404_for_appointments_invites_and_follow_ups(
    login, staff, physician, patient, client
):
    appointment = book(physician, patient, at(days(1), 10))
    item = follow_up(patient, days(2))
    login(staff["physician_b"])
    for url in (f"/schedule/appointments/{appointment.pk}/", f"/schedule/appointments/{appointment.pk}/ics/"):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/schedule/appointments/{appointment.pk}/", {"action": "cancel", "reason": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"/recall/{item.pk}/book/").status_code == 404
    assert client.get(f"/schedule/book/?patient={patient.pk}").status_code == 404
    assert "İpek" not in client.get("/schedule/?date=2026-03-10").content.decode()
    assert "İpek" not in client.get("/recall/").content.decode()
    appointment.refresh_from_db()
    item.refresh_from_db()
    assert appointment.status == "booked" and item.status == "open"


def test_recall_page_books_in_one_click(login, staff, physician, nurse, patient, client):
    item = follow_up(patient, days(-3), reason="Review 2 weeks after glabellar toxin")
    login(staff[Role.FRONT_DESK])
    page = client.get("/recall/").content.decode()
    assert "Overdue" in page and "Review after a treatment session" in page and "3 days" in page
    # The clinical reason is not for front desk (tests/web/test_clinical_content_by_role.py).
    assert "glabellar" not in page
    response = client.post(f"/recall/{item.pk}/book/", {"practitioner": nurse.user.pk})
    appointment = Appointment.objects.get()
    assert response["Location"] == f"/schedule/appointments/{appointment.pk}/"
    assert (appointment.start, appointment.practitioner, appointment.follow_up_id) == (
        at(days(0), 9),
        nurse.user,
        item.pk,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Move it below" in page and 'name="action" value="reschedule"' in page
    recall = client.get("/recall/").content.decode()
    assert f"/schedule/appointments/{appointment.pk}/" in recall  # shown under Booked
    again = client.post(f"/recall/{item.pk}/book/")
    assert again.status_code == 302 and Appointment.objects.count() == 1


def test_patient_page_lists_upcoming_appointments(login, staff, physician, patient, client):
    book(physician, patient, at(days(2), 10))
    login(staff[Role.FRONT_DESK])
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'id="appointments-card"' in page and f"/schedule/book/?patient={patient.pk}" in page
    assert "Wed 2026-03-11 10:00" in page


def test_turkish_pages_keep_the_grid_geometry_in_css_numbers(login, staff, physician, patient, client):
    book(physician, patient, at(days(1), 9))
    user = staff[Role.PHYSICIAN]
    user.language = "tr"
    user.save()
    login(user)
    page = client.get("/schedule/?date=2026-03-10").content.decode()
    assert "top: 14.286%" in page and "14,286" not in page  # in the nonce'd <style> (no style attributes)
    assert "Salı" in page  # Tuesday, from Django's Turkish formats


def test_pages_make_the_same_queries_for_3_or_50_appointments(
    login, staff, physician, nurse, patient, client
):
    login(staff[Role.FRONT_DESK])
    counts: dict[str, list[int]] = {"day": [], "week": [], "recall": []}
    for day, n in ((days(1), 3), (days(8), 50)):
        actor = physician if n == 3 else nurse
        items = []
        for i in range(n):
            book(actor, patient, at(day, 7) + dt.timedelta(minutes=15 * i), minutes=15)
            items.append(follow_up(patient, day + dt.timedelta(days=(7 * i) % 20)))
        # Rows due this week, upcoming and booked in both rounds (an empty group skips its page's query).
        for item in items[-(n // 3) :]:
            sched.follow_up_book(actor=physician, follow_up=item)
        for name, url in (
            ("day", f"/schedule/?date={day}"),
            ("week", f"/schedule/week/?date={day}"),
            ("recall", "/recall/"),
        ):
            client.get(url)  # warm the session
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[name].append(len(queries))
    print(f"queries with 3 and 50 appointments: {counts}")
    for name, (few, lots) in counts.items():
        assert few == lots, (name, counts)
        # 18: one per request for the second-factor check (middleware); recall: its four groups count their totals
        assert lots <= {"recall": 22}.get(name, 18), (name, counts)


def test_recall_page_pages_each_group_and_keeps_the_other_parameters(login, staff, physician, nurse, patient):
    from dermatox.scheduling.selectors import RECALL_PAGE_SIZE

    for i in range(RECALL_PAGE_SIZE + 2):
        follow_up(patient, days(-70 + i))
    client = login(staff[Role.FRONT_DESK])
    first = client.get(f"/recall/?practitioner={nurse.user.pk}").content.decode()
    assert f">{RECALL_PAGE_SIZE + 2}</span>" in first  # the group's total, not the rows shown
    assert "Page 1 of 2" in first and f"practitioner={nurse.user.pk}&amp;overdue_page=2" in first
    second = client.get(f"/recall/?practitioner={nurse.user.pk}&overdue_page=2").content.decode()
    assert "Page 2 of 2" in second and "overdue_page=1" in second and "overdue_page=3" not in second
    assert second.count('action="/recall/') == 2  # the two rows of the last page
    assert client.get("/recall/?overdue_page=abc").status_code == 200


def test_recall_page_of_a_group_over_the_count_cap_in_turkish(login, staff, patient, monkeypatch):
    import dermatox.scheduling.selectors.recall as selectors

    monkeypatch.setattr(selectors, "RECALL_COUNT_CAP", 1000)
    monkeypatch.setattr(selectors, "RECALL_PAGE_SIZE", 400)
    for i in range(1001):
        follow_up(patient, days(-1500 + i))
    staff[Role.FRONT_DESK].language = "tr"
    staff[Role.FRONT_DESK].save()
    client = login(staff[Role.FRONT_DESK])
    page = client.get("/recall/").content.decode()
    assert ">1.000 üzeri</span>" in page  # the heading's count, in Turkish digits
    assert "Sayfa 1<" in page and "Sayfa 1 /" not in page and "overdue_page=2" in page
    last = client.get("/recall/?overdue_page=3").content.decode()
    assert "Sayfa 3 / 3" in last and "overdue_page=4" not in last
