"""Explicit request and response shapes of the REST API: only the columns a client may see or set.

Input schemas forbid unknown fields, so nobody can set `clinic`, `recorded_by` or `entered_in_error_*`
through the API (the services refuse them as well)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, ConfigDict, field_validator, model_validator

from dermatox.clinical.toxin.layout import VIEWS
from dermatox.clinical.toxin.protocols import DEPTHS
from dermatox.error_codes import all_codes
from dermatox.patients.models import Consent


class Error(Schema):
    """The one error shape: a sentence, a machine-readable code and messages per field."""

    message: str
    code: str = Field(
        description="what went wrong, for a program: one of the listed codes (dermatox.error_codes)",
        json_schema_extra={"enum": all_codes()},
    )
    fields: dict[str, list[str]] = Field(default_factory=dict)


def _no_nul(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    return value


class In(Schema):
    """A request body: unknown fields are refused, and so is text holding NUL characters (PostgreSQL cannot
    store them; the UI's forms refuse them too)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value):
        return _no_nul(value)


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


def _no_nulls(patch: Schema, allowed: tuple[str, ...] = ()):
    nulls = sorted(k for k in patch.model_fields_set if getattr(patch, k) is None and k not in allowed)
    if nulls:
        raise ValueError(f"may not be null: {', '.join(nulls)}")
    return patch


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


class ConsentIn(In):
    """One decision on one kind of consent (a signed document is attached in the UI, not here)."""

    kind: Literal[tuple(Consent.Kind.values)]
    decision: Literal[tuple(Consent.Decision.values)]
    signed_at: AwareDatetime = Field(description="when signed, with a UTC offset; not in the future")
    signer_name: str = Field(
        min_length=1, max_length=150, description="who signed (the patient or a guardian)"
    )
    scope: str = Field("", max_length=200, description="what the consent covers, e.g. the treatment")


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


class VialOut(Schema):
    id: int
    product: str = Field(description="toxin product id; its units are its own, never converted")
    lot_number: str
    expiry: dt.date
    state: str = Field(description="sealed, open (reconstituted), empty or discarded")
    vial_units: int
    remaining_units: float
    units_per_0_1_ml: float | None = Field(description="strength after reconstitution (open vials)")
    opened_at: dt.datetime | None
    beyond_use_at: dt.datetime | None


class AcknowledgementOut(Schema):
    warning: str = Field(description="the plan check's warning id, e.g. `off_label`")
    text: str = Field(description="the warning as the plan check gave it when the session was signed")
    reason: str = Field(description="why the signer went ahead despite it")
    by_name: str = Field(description="who acknowledged it (the signer)")
    at: dt.datetime


class EnteredInErrorOut(Schema):
    at: dt.datetime
    by_name: str
    reason: str
    stock_correction: Literal["", "returned", "wasted"] = Field(
        description="`returned`: the units went back into the vial; `wasted`: recorded as waste; empty: "
        "not corrected yet (units are never returned automatically)"
    )


class EnteredInErrorIn(In):
    reason: str = Field(min_length=1, max_length=500, description="why the record is wrong")


class StockCorrectionIn(In):
    correction: Literal["returned", "wasted"]


class ToxinSessionOut(Schema):
    id: int
    protocol: str
    product: str
    status: str
    vial_id: int | None = Field(description="the open vial the doses come from; required to sign")
    note: str
    created_at: dt.datetime
    signed_at: dt.datetime | None
    total_units: float
    points: list[InjectionPointOut]
    acknowledgements: list[AcknowledgementOut] = Field(
        description="the plan's warnings the signer acknowledged, each with a reason (signed sessions)"
    )
    entered_in_error: EnteredInErrorOut | None = Field(
        description="set when the session was marked entered in error: its administrations were withdrawn "
        "with it and count nowhere; `stock_correction` says what was done with their units"
    )


class ToxinSessionIn(In):
    protocol: str = Field(
        min_length=1, max_length=60, description="a toxin protocol id, e.g. `glabellar_lines`"
    )
    vial_id: int | None = Field(None, description="an open vial of the protocol's product; may be set later")


# Where a point is and what is given there; the ranges are the ones the service checks. Numbers are strict:
# `true` or `"2"` is not a dose.
MapView = Literal[VIEWS]
Depth = Literal[DEPTHS]
Percent = Annotated[
    float, Field(ge=0, le=100, strict=True, description="percent of the view, 2 decimals kept")
]
Units = Annotated[
    float,
    Field(
        gt=0, le=500, strict=True, description="units of the session's product (never converted), 3 decimals"
    ),
]
Region = Annotated[str, Field(min_length=1, max_length=60, description="the region, e.g. `procerus`")]


class InjectionPointIn(In):
    view: MapView
    region: Region
    x: Percent
    y: Percent
    depth: Depth
    units: Units


class InjectionPointPatch(In):
    """Only the fields sent are changed (a new version of the point); a field may not be sent as null."""

    view: MapView | None = None
    region: Region | None = None
    x: Percent | None = None
    y: Percent | None = None
    depth: Depth | None = None
    units: Units | None = None

    @model_validator(mode="after")
    def _no_nulls(self):
        return _no_nulls(self)


class VialIn(In):
    vial_id: int = Field(description="an open vial of the session's product")


class AcknowledgementIn(In):
    warning: str = Field(
        min_length=1, max_length=60, description="a warning id of the session's plan check, e.g. `off_label`"
    )
    reason: str = Field(
        max_length=1000,
        description="why the plan is signed despite the warning: 3 to 300 characters once trimmed",
    )


class SessionSignIn(In):
    acknowledgements: list[AcknowledgementIn] = Field(
        default_factory=list,
        max_length=50,
        description="one reason per warning of the plan check; a warned plan is signed only when each of "
        "its warnings has one (409 `warnings_not_acknowledged` otherwise). Ids that are not warnings of "
        "the plan are ignored.",
    )


class FollowUpOut(Schema):
    id: int
    due_date: dt.date
    status: str
    visit: str = Field(description="the kind of visit to book, in the reader's language (names no treatment)")
    reason: str | None = Field(
        description="clinical: why the patient is to come back; null for roles that do not see clinical "
        "records (front desk, manager)"
    )
    source: str | None = Field(
        description="where it came from (`protocol:<id>`, `pathway:<id>`, empty: by hand); null as `reason`"
    )
    created_at: dt.datetime


class FollowUpIn(In):
    due_date: dt.date = Field(description="not more than a year in the past")
    reason: str = Field(min_length=1, max_length=200)


class FollowUpStatusIn(In):
    # Not "booked": that status belongs to booking an appointment for it (POST …/appointments does).
    # Set by hand, the follow-up would leave the recall list with no appointment to show for it.
    status: Literal["open", "done", "cancelled"]


# --- appointments --------------------------------------------------------------------------------------

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


class VialPage(Page):
    items: list[VialOut]


class ToxinSessionPage(Page):
    items: list[ToxinSessionOut]


class FollowUpPage(Page):
    items: list[FollowUpOut]


class AppointmentPage(Page):
    items: list[AppointmentOut]
