"""The HTTP side of FHIR's RESTful interactions that is not about any resource: content negotiation (406),
request body types (415), version tags (ETag `W/"<versionId>"`, If-Match, If-None-Match) and the
conditional read (Last-Modified, If-Modified-Since, 304). Pure functions of the request; the views decide."""

from __future__ import annotations

import datetime as dt
import re

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date, parse_http_date_safe

FHIR_JSON = "application/fhir+json"
JSON_TYPES = (FHIR_JSON, "application/json", "application/json+fhir")  # the last: DSTU2 clients
FORMAT_JSON = ("json", "fhir+json", *JSON_TYPES)
FORM = "application/x-www-form-urlencoded"


def not_acceptable(request: HttpRequest, params=None) -> str | None:
    """Why we cannot answer in a format the client takes (None: we can). `_format` overrides Accept (FHIR
    http.html); we speak JSON only, so XML, Turtle and anything else asked for is a 406."""
    formats = (params if params is not None else request.GET).getlist("_format")
    for value in formats:
        if value.split(";")[0].strip().lower() not in FORMAT_JSON:
            return f"_format: only JSON is supported ({FHIR_JSON}), not {value[:40]!r}"
    if formats:
        return None
    accept = request.headers.get("Accept", "").strip()
    if not accept:
        return None
    for item in accept.split(","):
        media, *options = (part.strip() for part in item.split(";"))
        quality = next((o[2:] for o in options if o.lower().startswith("q=")), "1")
        try:
            if float(quality) <= 0:
                continue
        except ValueError:
            continue
        media = media.lower()
        if media in ("*/*", "application/*") or media in JSON_TYPES:
            return None
    return f"Accept: only JSON is supported ({FHIR_JSON}), not {accept[:60]!r}"


def unsupported_body(request: HttpRequest, accepted=JSON_TYPES) -> str | None:
    """Why the body's Content-Type is not one we read (None: it is)."""
    content_type = (request.content_type or "").lower()
    if content_type in accepted:
        return None
    return (
        f"Content-Type must be {' or '.join(accepted[:2])}, not {content_type[:60]!r}"
        if content_type
        else f"Content-Type is required ({accepted[0]})"
    )


def etag(version) -> str:
    return f'W/"{version}"'


_TAG = re.compile(r'\s*(?:W/)?"([^"]*)"\s*(?:,|$)')


def parse_tags(header: str) -> list[str] | None:
    """The opaque values of an If-Match / If-None-Match list (`W/"2"`, `"2"`, `W/"1", W/"2"`): ["*"] for
    `*`, None when it is not an entity-tag list at all."""
    header = header.strip()
    if header == "*":
        return ["*"]
    tags, at = [], 0
    while at < len(header):
        match = _TAG.match(header, at)
        if not match:
            return None
        tags.append(match.group(1))
        at = match.end()
    return tags or None


def _seconds(value: dt.datetime) -> int:
    return int(value.timestamp())


def not_modified(request: HttpRequest, version: str, updated: dt.datetime | None) -> bool:
    """The conditional read (RFC 9110 §13.2.2): If-None-Match when sent (weak comparison), else
    If-Modified-Since (to the second). A header that cannot be read is ignored, as HTTP says."""
    none_match = request.headers.get("If-None-Match")
    if none_match is not None:
        tags = parse_tags(none_match) or []
        return "*" in tags or version in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and updated is not None and _seconds(updated) <= since


def validators(version: str, updated: dt.datetime | None) -> dict[str, str]:
    headers = {"ETag": etag(version)}
    if updated is not None:
        headers["Last-Modified"] = http_date(_seconds(updated))
    return headers


def response_304(headers: dict[str, str]) -> HttpResponse:
    response = HttpResponse(status=304)
    del response["Content-Type"]
    for key, value in headers.items():
        response[key] = value
    return response
