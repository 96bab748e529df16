"""Sign-in lockout with a limit per kind of key (django-axes handler).

django-axes counts failed sign-ins under each combination in AXES_LOCKOUT_PARAMETERS but compares all of them
with the one AXES_FAILURE_LIMIT. We want three limits (settings.DERMATOX_SIGN_IN_LIMITS):
- one account from one address: a few typos;
- one account from any address: an attacker who rotates addresses still gets only this many guesses;
- one address over any accounts: password spraying from one machine.
`get_failures` reports each count scaled to AXES_FAILURE_LIMIT, so axes' own comparison (failures >= limit)
locks exactly when one of the three counts reaches its own limit; everything else stays axes' code.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


class SignInLimitsHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        limits = [limit for _fields, limit in settings.DERMATOX_SIGN_IN_LIMITS]
        scale = get_failure_limit(request, credentials)
        worst = 0
        for attempts, limit in zip(self.get_user_attempts(request, credentials), limits, strict=True):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            # Reaches `scale` exactly when failures reach `limit` (integers: f*s//l >= s  <=>  f >= l).
            worst = max(worst, failures * scale // limit)
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful sign-in clears that account's failures only. axes would also clear every failure from
        the address, so an attacker could spray accounts and wipe the per-address count by signing in to
        an account of their own."""
        deleted, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return deleted


def lockout_response(request, original_response=None, credentials: dict | None = None):
    """axes' lockout page (429), plus `Retry-After`: the cool-off, counted from the last failure."""
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(int(get_cool_off(request).total_seconds()))
    return response
