"""Demo appointments: the current week of both demo clinics, so the calendar is not empty after `make run`.

Seeded (same seed, same week layout), written in bulk with version history. Past slots are seen or
no-shows, today's earlier ones arrived or seen, later ones booked; a few are cancelled.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from dermatox.accounts.models import Clinic, User
from dermatox.patients.models import Patient
from dermatox.scheduling.hours import at, clinic_tz
from dermatox.scheduling.models import Appointment

KINDS = ["consultation", "treatment", "follow_up", "follow_up", "treatment", "lab"]
REASONS = {
    "consultation": "First visit",
    "treatment": "Treatment session",
    "follow_up": "Review",
    "lab": "Measurements",
}
CANCEL_REASONS = ["Patient called: travelling", "Patient unwell", "Rebooked by phone"]


def demo_appointments(
    *, clinic: Clinic, practitioners: list[User], created_by: User, as_of: dt.date, seed: int
) -> int:
    rng = random.Random(f"{seed}-{clinic.code}")
    patients = list(Patient.objects.filter(clinic=clinic).order_by("mrn").values_list("pk", flat=True)[:40])
    if not patients or not practitioners:
        return 0
    tz = clinic_tz(clinic)
    now = timezone.now()
    monday = as_of - dt.timedelta(days=as_of.weekday())
    rows = []
    for offset in range(6):  # Monday .. Saturday
        day = monday + dt.timedelta(days=offset)
        for index, practitioner in enumerate(practitioners):
            busy_until = at(day, dt.time(9, 0), tz) + dt.timedelta(minutes=30 * (index + rng.randrange(3)))
            per_day = 6 if day == as_of else rng.randrange(2, 5)
            for _ in range(per_day):
                kind = rng.choice(KINDS)
                minutes = 45 if kind == "treatment" else 30
                start = busy_until
                end = start + dt.timedelta(minutes=minutes)
                if end > at(day, dt.time(18, 0), tz):
                    break
                if end <= now:
                    status = rng.choice(["fulfilled"] * 5 + ["no_show"])
                elif start <= now:
                    status = "arrived"
                else:
                    status = "booked"
                cancel_reason = ""
                if status == "booked" and rng.random() < 0.12:
                    status, cancel_reason = "cancelled", rng.choice(CANCEL_REASONS)
                rows.append(
                    Appointment(
                        clinic=clinic,
                        patient_id=rng.choice(patients),
                        practitioner=practitioner,
                        start=start,
                        end=end,
                        kind=kind,
                        status=status,
                        reason=REASONS[kind],
                        cancel_reason=cancel_reason,
                        sequence=1 if status == "cancelled" else 0,
                        created_by=created_by,
                    )
                )
                busy_until = end + dt.timedelta(minutes=30 * rng.randrange(0, 3))
    bulk_create_with_history(rows, Appointment, batch_size=500, default_user=created_by)
    return len(rows)
