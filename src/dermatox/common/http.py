from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind one reverse proxy of your own set DERMATOX_TRUST_X_FORWARDED_FOR=1:
    the last X-Forwarded-For entry is the one that proxy appended (earlier entries are whatever the
    client sent, so they are never trusted). Without the setting the header is ignored."""
    from django.conf import settings

    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:45]
    return (request.META.get("REMOTE_ADDR") or None) and request.META["REMOTE_ADDR"][:45]
