"""Explicit request and response shapes of the REST API: only the columns a client may see or set.

Input schemas forbid unknown fields, so nobody can set `clinic`, `recorded_by` or `entered_in_error_*`
through the API (the services refuse them as well)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, ConfigDict, model_validator


class Error(Schema):
    """The one error shape: a sentence, a machine-readable code and messages per field."""

    message: str
    code: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


class In(Schema):
    model_config = ConfigDict(extra="forbid")


# --- patients -----------------------------------------------------------------------------------------

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
        nulls = sorted(k for k in self.model_fields_set if getattr(self, k) is None)
        if nulls:
            raise ValueError(f"may not be null: {', '.join(nulls)}")
        return self


# --- history ------------------------------------------------------------------------------------------


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


class ConsentOut(Schema):
    id: int
    kind: str
    decision: str
    scope: str
    signed_at: dt.datetime
    signer_name: str
    has_document: bool


# --- observations -------------------------------------------------------------------------------------


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


# --- toxin sessions, follow-ups -------------------------------------------------------------------------


class AdministrationOut(Schema):
    """What was given at a point when the session was signed: units taken from a vial of a lot."""

    units: float
    at: dt.datetime
    product: str
    lot_number: str
    lot_expiry: dt.date


class InjectionPointOut(Schema):
    id: int
    view: str
    region: str
    x: float
    y: float
    depth: str
    units: float
    administration: AdministrationOut | None


class ToxinSessionOut(Schema):
    id: int
    protocol: str
    product: str
    status: str
    note: str
    created_at: dt.datetime
    signed_at: dt.datetime | None
    total_units: float
    points: list[InjectionPointOut]


class FollowUpOut(Schema):
    id: int
    due_date: dt.date
    reason: str
    status: str
    source: str
    created_at: dt.datetime


# --- appointments --------------------------------------------------------------------------------------

VisitKind = Literal["consultation", "treatment", "follow_up", "lab"]


class AppointmentOut(Schema):
    id: int
    uid: uuid.UUID
    start: dt.datetime
    end: dt.datetime
    kind: str
    status: str
    reason: str
    practitioner_id: int | None
    practitioner_name: str
    follow_up_id: int | None


class AppointmentIn(In):
    start: AwareDatetime = Field(description="with a UTC offset")
    end: AwareDatetime = Field(description="with a UTC offset")
    kind: VisitKind
    practitioner_id: int | None = Field(None, description="a physician or nurse of the clinic")
    reason: str = Field("", max_length=200)


# --- pages ----------------------------------------------------------------------------------------------


class Page(Schema):
    count: int = Field(description="how many records match, over all pages")
    next: str | None = Field(description="URL of the next page, or null on the last")
    previous: str | None = Field(description="URL of the previous page, or null on the first")


class PatientPage(Page):
    items: list[PatientOut]


class ConditionPage(Page):
    items: list[ConditionOut]


class MedicationPage(Page):
    items: list[MedicationOut]


class AllergyPage(Page):
    items: list[AllergyOut]


class ObservationPage(Page):
    items: list[ObservationOut]


class ConsentPage(Page):
    items: list[ConsentOut]


class ToxinSessionPage(Page):
    items: list[ToxinSessionOut]


class FollowUpPage(Page):
    items: list[FollowUpOut]


class AppointmentPage(Page):
    items: list[AppointmentOut]
