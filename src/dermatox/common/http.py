from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind a reverse proxy set DERMATOX_TRUST_X_FORWARDED_FOR=1 so the
    proxy's X-Forwarded-For is used; otherwise it is ignored because a client can forge it."""
    from django.conf import settings

    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45]
    return (request.META.get("REMOTE_ADDR") or None) and request.META["REMOTE_ADDR"][:45]
