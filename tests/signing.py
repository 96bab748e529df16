"""Signing a toxin session in tests whose subject is not the plan check: every warning acknowledged.

A warned plan is signed only with a reason for each warning (treatments.services.session_sign); these
helpers give one, so tests about stock, documents or FHIR sign the way a clinician would.
"""

import inspect

import pytest
from django.utils import timezone

from dermatox.clinical.toxin.plan import check_plan
from dermatox.treatments.services import session_plan, session_sign

REASON = "Discussed with the patient; informed consent recorded."

# The plan check of issue 11 §2 (blocks `same_area_same_day`, counts doses of unknown units) comes with the
# branch that also gives check_plan its `lang`. Tests that assert its blocks from what the record feeds it
# run once it is in.
needs_safety_plan_check = pytest.mark.skipif(
    "lang" not in inspect.signature(check_plan).parameters,
    reason="needs the issue-11 plan check (same_area_same_day, doses of unknown units)",
)


def reasons_for(session, reason: str = REASON) -> dict[str, str]:
    """A reason for each warning of the session's plan as it stands now."""
    return {w["id"]: reason for w in session_plan(session, timezone.now())["warnings"]}


def sign(actor, session, reason: str = REASON):
    return session_sign(actor=actor, session=session, acknowledgements=reasons_for(session, reason))
