"""Appointments."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, model_validator

from dermatox.api.schemas.base import In, Page, _no_nulls

VisitKind = Literal["consultation", "treatment", "follow_up", "lab"]


class AppointmentOut(Schema):
    id: int
    uid: uuid.UUID
    start: dt.datetime
    end: dt.datetime
    kind: str
    status: str
    reason: str = Field(
        description="reason for visit; for one booked from a follow-up, roles that do not see clinical "
        "records get the kind of visit instead"
    )
    practitioner_id: int | None
    practitioner_name: str
    follow_up_id: int | None


class AppointmentIn(In):
    start: AwareDatetime = Field(description="with a UTC offset")
    end: AwareDatetime = Field(description="with a UTC offset")
    kind: VisitKind
    practitioner_id: int | None = Field(None, description="a physician or nurse of the clinic")
    reason: str = Field("", max_length=200)


class AppointmentPatch(In):
    """Move a booked appointment and/or give it to another practitioner: only the fields sent change.
    `start` and `end` may not be null; `practitioner_id: null` leaves it without a practitioner."""

    start: AwareDatetime | None = Field(None, description="with a UTC offset")
    end: AwareDatetime | None = Field(None, description="with a UTC offset")
    practitioner_id: int | None = Field(None, description="a physician or nurse of the clinic, or null")

    @model_validator(mode="after")
    def _no_nulls(self):
        return _no_nulls(self, allowed=("practitioner_id",))


class CancelIn(In):
    reason: str = Field(min_length=1, max_length=300, description="why; kept on the appointment")


class AppointmentPage(Page):
    items: list[AppointmentOut]
