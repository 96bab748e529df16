"""Medical history: conditions (history and diagnoses), medications, allergies."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from dermatox.api.schemas.base import In, Page


class ConditionOut(Schema):
    id: int
    category: str
    code: str
    text: str
    icd10: str
    snomed: str
    clinical_status: str
    onset_date: dt.date | None
    recorded_at: dt.datetime


class ConditionIn(In):
    category: Literal["history", "diagnosis"]
    text: str = Field(min_length=1, max_length=200)
    code: str = Field("", max_length=64)
    icd10: str = Field("", max_length=10)
    snomed: str = Field("", max_length=20)
    clinical_status: Literal["active", "resolved"] = "active"
    onset_date: dt.date | None = None


class MedicationOut(Schema):
    id: int
    code: str
    name: str
    dose: str
    status: str
    start_date: dt.date | None
    end_date: dt.date | None
    recorded_at: dt.datetime


class MedicationIn(In):
    name: str = Field(min_length=1, max_length=200)
    code: str = Field("", max_length=64)
    dose: str = Field("", max_length=200)
    status: Literal["active", "stopped"] = "active"
    start_date: dt.date | None = None
    end_date: dt.date | None = None


class AllergyOut(Schema):
    id: int
    code: str
    substance: str
    reaction: str
    criticality: str
    recorded_at: dt.datetime


class AllergyIn(In):
    substance: str = Field(min_length=1, max_length=200)
    code: str = Field("", max_length=64)
    reaction: str = Field("", max_length=200)
    criticality: Literal["low", "high", "unknown"] = "unknown"


class ConditionPage(Page):
    items: list[ConditionOut]


class MedicationPage(Page):
    items: list[MedicationOut]


class AllergyPage(Page):
    items: list[AllergyOut]
