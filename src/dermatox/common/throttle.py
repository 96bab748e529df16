"""Request limits through django-ratelimit, counted in the cache every server process shares
(settings.RATELIMIT_USE_CACHE): a limit is per token or per address, not per gunicorn worker.

Each limit is a rate string in settings ("600/m", "10/15m"); ratelimit counts in fixed windows, and the time
left in the window is the Retry-After the client is told.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from dermatox.common.errors import TooManyRequests


def _usage(request: HttpRequest, *, group: str, key: str, rate_setting: str, count: bool) -> dict | None:
    return get_usage(
        request,
        group=group,
        key=lambda _group, _request: key,
        rate=getattr(settings, rate_setting),
        increment=count,
    )


def throttle(request: HttpRequest, *, group: str, key: str, rate_setting: str, message: str) -> None:
    """Count this request under (group, key); raise TooManyRequests once the rate is exceeded."""
    usage = _usage(request, group=group, key=key, rate_setting=rate_setting, count=True)
    if usage and usage["should_limit"]:
        raise TooManyRequests(message, retry_after=usage["time_left"])


def check_throttle(request: HttpRequest, *, group: str, key: str, rate_setting: str, message: str) -> None:
    """Raise TooManyRequests if (group, key) is already over its rate, without counting this request:
    for limits that count only failures (see `count_failure`)."""
    usage = _usage(request, group=group, key=key, rate_setting=rate_setting, count=False)
    if usage and usage["count"] >= usage["limit"]:
        raise TooManyRequests(message, retry_after=usage["time_left"])


def count_failure(request: HttpRequest, *, group: str, key: str, rate_setting: str) -> None:
    _usage(request, group=group, key=key, rate_setting=rate_setting, count=True)


def token_throttle(request: HttpRequest, token_id: int) -> None:
    """REST, FHIR and bulk export: at most settings.DERMATOX_API_TOKEN_RATE requests per token."""
    throttle(
        request,
        group="api-token",
        key=str(token_id),
        rate_setting="DERMATOX_API_TOKEN_RATE",
        message="Too many requests with this API token: wait, then retry (see Retry-After)",
    )
