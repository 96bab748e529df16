from django.http import Http404, HttpRequest
from django.shortcuts import render
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
