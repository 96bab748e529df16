"""Toxin sessions, their injection points and administrations, the vials they draw from, follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import model_validator

from dermatox.api.schemas.base import In, Page, _no_nulls
from dermatox.clinical.toxin import points as point_rules
from dermatox.clinical.toxin.layout import VIEWS
from dermatox.clinical.toxin.protocols import DEPTHS


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
# The bounds are the point rules' (clinical/toxin/points.py), which the service applies to every writer.
Percent = Annotated[
    float,
    Field(
        ge=point_rules.PERCENT_MIN,
        le=point_rules.PERCENT_MAX,
        strict=True,
        description="percent of the view, 2 decimals kept",
    ),
]
Units = Annotated[
    float,
    Field(
        gt=0,
        le=point_rules.UNITS_MAX,
        strict=True,
        description="units of the session's product (never converted), 3 decimals",
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


class VialPage(Page):
    items: list[VialOut]


class ToxinSessionPage(Page):
    items: list[ToxinSessionOut]


class FollowUpPage(Page):
    items: list[FollowUpOut]
