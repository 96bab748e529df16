"""Observations: measurements with their UCUM units."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import AwareDatetime

from dermatox.api.schemas.base import In, Page


class ObservationOut(Schema):
    id: int
    code: str
    loinc: str
    value_number: float | None = Field(description="numeric value, in `unit` (never converted)")
    value_code: str = Field(description="coded value, for coded measurements")
    unit: str = Field(description="UCUM unit")
    components: dict
    method: str
    body_site: str
    device: str
    note: str
    effective_at: dt.datetime
    encounter_id: int | None
    recorded_at: dt.datetime


class ObservationIn(In):
    code: str = Field(min_length=1, max_length=64, description="a Dermatox measurement id")
    value: float | str = Field(description="a number, or one of the type's codes")
    unit: str | None = Field(None, max_length=32, description="UCUM; must be the type's unit when given")
    effective_at: AwareDatetime | None = Field(
        None, description="when measured, with a UTC offset; now when left out"
    )
    components: dict[str, float | str] | None = None
    method: str = Field("", max_length=100)
    body_site: str = Field("", max_length=64)
    device: str = Field("", max_length=100)
    note: str = Field("", max_length=500)


class ObservationPage(Page):
    items: list[ObservationOut]
