"""One appointment as an iCalendar (RFC 5545) event: what a patient's calendar needs and nothing clinical.

UID is stable per appointment, SEQUENCE goes up with every reschedule or cancellation, a cancelled
appointment is STATUS:CANCELLED, times are UTC.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from dermatox.scheduling.models import Appointment

PRODID = "-//Dermatox//Scheduling//EN"


def appointment_summary(appointment: Appointment) -> str:
    return _("Appointment at %(clinic)s") % {"clinic": appointment.clinic.name}


def appointment_ics(appointment: Appointment, *, now: dt.datetime | None = None) -> bytes:
    """The invite, in the active language (the patient's, when it goes out by email)."""
    clinic = appointment.clinic
    cancelled = appointment.status == Appointment.Status.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.uid}@dermatox")
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", (now or timezone.now()).astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(dt.UTC))
    event.add("dtend", appointment.end.astimezone(dt.UTC))
    event.add("summary", appointment_summary(appointment))
    event.add("location", clinic.name)
    if clinic.address or clinic.phone:
        event.add("description", "\n".join(x for x in (clinic.name, clinic.address, clinic.phone) if x))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if address:
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(clinic.name)
        event["organizer"] = organizer
    calendar.add_component(event)
    return calendar.to_ical()


def ics_filename(appointment: Appointment) -> str:
    return f"appointment-{appointment.start.astimezone(dt.UTC):%Y%m%d-%H%M}-{appointment.pk}.ics"
