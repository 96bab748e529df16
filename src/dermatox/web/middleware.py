from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation

from dermatox.accounts.selectors import membership_get, memberships_for
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.common.http import client_ip


def actor_for(request: HttpRequest) -> Actor | None:
    user = request.user
    if not user.is_authenticated:
        return None
    clinic_id = request.session.get("clinic_id")
    membership = membership_get(user, clinic_id) if clinic_id else None
    if membership is None and clinic_id is None:
        only = list(memberships_for(user)[:2])
        if len(only) == 1:
            membership = only[0]
            request.session["clinic_id"] = membership.clinic_id
    return Actor(
        user=user,
        clinic=membership.clinic if membership else None,
        role=membership.role if membership else None,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )


class ClinicContextMiddleware:
    """Puts `request.actor` (user, current clinic, role, address) on every request, and maps our
    exceptions once: NotFound is a 404 (never a 403, so another clinic's records do not leak)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = actor_for(request)
        if request.actor is not None:
            # Each user works in their own language (User.language), whatever the browser says.
            translation.activate(request.user.language)
            request.LANGUAGE_CODE = request.user.language
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        if isinstance(exception, PermissionDenied):
            return render(request, "web/forbidden.html", {"message": exception.message}, status=403)
        return None


class SecondFactorMiddleware:
    """What a signed-in user must do before anything else, in this order:
    1. give the second factor (enrolled users always; users a clinic requires it of set it up first);
    2. choose a new password, after an administrator reset it.
    Until then only that page, sign-out and the language switch answer; everything else redirects there.
    The APIs are token-only (accounts.tokens) and never pass through here."""

    EXEMPT_PREFIXES = ("/static/", "/api/", "/fhir/", "/cds-services")
    ALWAYS_OPEN = frozenset({"login", "logout", "user-language"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and not request.path_info.startswith(self.EXEMPT_PREFIXES):
            step = pending_step(request)
            if step is not None:
                try:
                    here = resolve(request.path_info).url_name
                except Resolver404:
                    here = None
                if here != step and here not in self.ALWAYS_OPEN:
                    return _redirect(request, step)
        return self.get_response(request)


def pending_step(request: HttpRequest) -> str | None:
    """The URL name of the page the signed-in user must go through first, or None."""
    from dermatox.accounts import second_factor

    user = request.user
    if not user.is_verified():
        state = second_factor.status(user)
        if state.enrolled:
            return "login-verify"
        if state.required:
            return "second-factor-setup"
    if user.must_change_password:
        return "password-change"
    return None


def _redirect(request: HttpRequest, step: str) -> HttpResponse:
    target = reverse(step)
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False):  # an HTMX swap would put the page inside the page: navigate
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)
