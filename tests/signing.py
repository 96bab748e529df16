"""Signing a toxin session in tests whose subject is not the plan check: every warning acknowledged.

A warned plan is signed only with a reason for each warning (treatments.services.session_sign); these
helpers give one, so tests about stock, documents or FHIR sign the way a clinician would.
"""

from django.utils import timezone

from dermatox.treatments.services import session_plan, session_sign

REASON = "Discussed with the patient; informed consent recorded."


def reasons_for(session, reason: str = REASON) -> dict[str, str]:
    """A reason for each warning of the session's plan as it stands now."""
    return {w["id"]: reason for w in session_plan(session, timezone.now())["warnings"]}


def sign(actor, session, reason: str = REASON):
    return session_sign(actor=actor, session=session, acknowledgements=reasons_for(session, reason))
