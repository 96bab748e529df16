"""What every area's schemas share: the one error shape, request bodies (`In`) and pages (`Page`)."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from dermatox.error_codes import all_codes


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


def _no_nulls(patch: Schema, allowed: tuple[str, ...] = ()):
    nulls = sorted(k for k in patch.model_fields_set if getattr(patch, k) is None and k not in allowed)
    if nulls:
        raise ValueError(f"may not be null: {', '.join(nulls)}")
    return patch


class Page(Schema):
    count: int = Field(description="how many records match, over all pages")
    next: str | None = Field(description="URL of the next page, or null on the last")
    previous: str | None = Field(description="URL of the previous page, or null on the first")
