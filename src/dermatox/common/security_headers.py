"""Headers every dynamic response carries: Permissions-Policy, and `Cache-Control: no-store`.

Nearly every page, PDF, calendar file, REST and FHIR answer and bulk file holds patient data, and the rest
(sign-in page, API docs) gains nothing from being cached, so no answer of the application is stored by the
browser or a proxy: no list of "pages that carry patient data" to keep up to date. Static files never get
here (WhiteNoise answers them earlier in MIDDLEWARE) and keep their long-lived caching.
"""

from __future__ import annotations

from django.conf import settings


def permissions_policy(features: dict[str, list[str]]) -> str:
    """`{"camera": [], "fullscreen": ["self"]}` -> `camera=(), fullscreen=(self)`."""
    return ", ".join(f"{name}=({' '.join(allowed)})" for name, allowed in features.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = permissions_policy(getattr(settings, "DERMATOX_PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        # Replaces whatever a view or library set (e.g. ninja's or Django's max-age): never stored.
        response["Cache-Control"] = "no-store"
        if self.permissions_policy:
            response.setdefault("Permissions-Policy", self.permissions_policy)
        return response
