"""Structured logs: one JSON object a line, each with the request id, and no patient data.

Why the scrubbing: an exception message or a third-party log line can quote a URL, an e-mail address or
a national id. The access log records the route pattern (`patients/<uuid:patient_id>/`), never the path,
and no query string; every message is scrubbed of ids, e-mail addresses and long digit runs before it is
written. The request id comes from `X-Request-ID` when a proxy set a sane one, else it is made here, and it
is returned in the response so a user's report can be matched to the log."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.conf import settings

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dermatox_request_id", default=None
)

_SCRUB = [
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<id>"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (re.compile(r"\?[^\s\"']*"), "?<query>"),
    (re.compile(r"\d{6,}"), "<number>"),
]
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "message": scrub(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if (
                key not in _STANDARD
                and key not in entry
                and isinstance(value, (int, float, bool, type(None)))
            ):
                entry[key] = value
            elif key not in _STANDARD and key not in entry and isinstance(value, str):
                entry[key] = scrub(value)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a developer's terminal (DERMATOX_LOG_FORMAT=text): the same scrubbing, one readable line."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


access_log = logging.getLogger("dermatox.access")


class RequestIdMiddleware:
    """First in MIDDLEWARE: gives the request its id, and writes one access line when it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = offered if _SAFE_REQUEST_ID.match(offered) else uuid.uuid4().hex
        token = request_id_var.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            if getattr(settings, "DERMATOX_ACCESS_LOG", True):
                self._log(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _log(request, status: int, started: float) -> None:
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        actor = getattr(request, "actor", None)
        access_log.info(
            "%s %s %s",
            request.method,
            match.route if match else "<unmatched>",
            status,
            extra={
                "method": request.method,
                "route": match.route if match else None,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "clinic_id": actor.clinic.pk if actor is not None and actor.clinic is not None else None,
            },
        )


def logging_config(level: str, fmt: str, access: bool) -> dict:
    """The LOGGING setting: JSON lines on stderr (production, containers), or scrubbed text."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "dermatox.ops.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "dermatox.ops.logs.JsonFormatter"},
            "text": {"()": "dermatox.ops.logs.TextFormatter", "format": "%(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "text" if fmt == "text" else "json",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "dermatox.access": {"level": "INFO" if access else "WARNING"},
            # Django's own request log repeats the path (patient ids); ours says the route instead.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
