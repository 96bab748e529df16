"""The first look at every request, before sessions, CSRF or any view reads it: refuse what no endpoint
can take, in the language of the part of the site it was sent to (REST error, FHIR OperationOutcome, CDS
error, or a page), so that none of it becomes a server error.

- 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, judged by its Content-Length before it is read;
- 400 for a NUL character in the path, a query parameter, a header or a form field (PostgreSQL cannot
  store NUL in text; the audit trail keeps the user agent and address), naming where it was.

JSON bodies are bounded by the one reader every JSON endpoint uses (common/json_body.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = _too_large(request) or _nul_anywhere(request)
        return refused or self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, RequestDataTooBig):  # a body Django measured itself (e.g. no length sent)
            return _refuse(request, 413, "body", None)
        return None


def _too_large(request: HttpRequest) -> HttpResponse | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # Django reads such a body as empty
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _refuse(request, 413, "body", None) if limit is not None and length > limit else None


def _nul_anywhere(request: HttpRequest) -> HttpResponse | None:
    if "\x00" in request.path_info:
        return _refuse(request, 400, "path", "\x00")
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return _refuse(request, 400, name.replace("\x00", "?"), "\x00")
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            return _refuse(request, 400, key[5:].replace("_", "-").title(), "\x00")
    if request.method == "POST" and request.content_type in FORM_TYPES:
        try:
            fields = request.POST.lists()
        except Exception:  # a malformed multipart body (no boundary, cut short)
            return _refuse(request, 400, "body", "form")
        for name, values in fields:
            if "\x00" in name or any("\x00" in v for v in values):
                return _refuse(request, 400, name.replace("\x00", "?"), "\x00")
    return None


def _refuse(request: HttpRequest, status: int, where: str, problem: str | None) -> HttpResponse:
    """The refusal in the shape of the area: `problem` None for too large, "\\x00" for NUL, "form"."""
    with translation.override("en"):  # the machine-facing messages are English, as the APIs' others
        api_message = _message(status, problem)
    path = request.path_info
    if path.startswith("/api/"):
        code = "request_too_large" if status == 413 else "bad_request"
        return JsonResponse(
            {"message": f"{where}: {api_message}", "code": code, "fields": {where: [api_message]}},
            status=status,
        )
    if path.startswith("/fhir/"):
        from dermatox.api.fhir_views import outcome

        return outcome(status, "too-costly" if status == 413 else "invalid", [(where, api_message)])
    if path.startswith("/cds-services"):
        code = "request_too_large" if status == 413 else "invalid_request"
        return JsonResponse({"message": f"{where}: {api_message}", "code": code}, status=status)
    with translation.override(translation.get_language_from_request(request)):
        html = render_to_string(
            "input_refused.html",
            {
                "title": _("Request too large") if status == 413 else _("Request refused"),
                "message": _message(status, problem),
                "LANGUAGE_CODE": translation.get_language(),
            },
        )
    return HttpResponse(html, status=status)


def _message(status: int, problem: str | None) -> str:
    if status == 413:
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return _("the request is too large (at most %(size)s MB)") % {"size": f"{megabytes:g}"}
    if problem == "form":
        return _("the form could not be read")
    return _("must not contain NUL characters")
