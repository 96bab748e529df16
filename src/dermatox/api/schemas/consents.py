"""Consent decisions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime

from dermatox.api.schemas.base import In, Page
from dermatox.patients.models import Consent


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


class ConsentPage(Page):
    items: list[ConsentOut]
