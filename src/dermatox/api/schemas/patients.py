"""Patients: the record's identity and contact fields."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Field, Schema
from pydantic import model_validator

from dermatox.api.schemas.base import In, Page, _no_nulls

Sex = Literal["female", "male", "intersex", "unknown"]
LanguageCode = Literal["en", "tr"]


class IdentifierOut(Schema):
    system: str
    value: str


class PatientOut(Schema):
    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    sex_at_birth: str
    birth_date: dt.date
    phone: str
    email: str
    address: str
    preferred_language: str
    identifiers: list[IdentifierOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientIn(In):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    sex_at_birth: Sex
    birth_date: dt.date
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=300)
    preferred_language: LanguageCode = "tr"


class PatientPatch(In):
    """Only the fields sent are changed; a field may not be sent as null."""

    given_name: str | None = Field(None, min_length=1, max_length=100)
    family_name: str | None = Field(None, min_length=1, max_length=100)
    sex_at_birth: Sex | None = None
    birth_date: dt.date | None = None
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    address: str | None = Field(None, max_length=300)
    preferred_language: LanguageCode | None = None

    @model_validator(mode="after")
    def _no_nulls(self):
        return _no_nulls(self)


class PatientPage(Page):
    items: list[PatientOut]
