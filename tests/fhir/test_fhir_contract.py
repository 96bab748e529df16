"""Contract test of the FHIR read and search interactions with schemathesis: generated requests (ids,
search parameters, _count/_offset of every kind) against the WSGI app with a valid read token. No 5xx, and
every status and body is one the description declares (a resource of the type, a Bundle, or an
OperationOutcome for 400/401/403/404)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dermatox.accounts.tokens import api_token_create
from dermatox.common.context import Actor
from tests.web.fixtures import full_record

application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/fhir/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
TALLY: Counter = Counter()
STATUSES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    if TALLY["cases"] and not TALLY["reported"]:
        TALLY["reported"] += 1
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(
                f"\nschemathesis (FHIR): {TALLY['cases']} cases, {TALLY['failures']} failures; "
                f"statuses {dict(sorted(STATUSES.items()))}"
            )


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django's WSGI handler closes the connection after each request; the test's transaction is on it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def secret(clinics, physician, patient):
    ids = full_record(physician, patient)
    _token, value = api_token_create(
        actor=Actor.system(clinic=clinics[0]),
        clinic=clinics[0],
        user=physician.user,
        name="contract",
        role="physician",
        scopes=["read"],
    )
    return value, patient, ids


def physician_id(patient) -> int:
    """A member of the patient's clinic (the contract's token is a physician's)."""
    return patient.clinic.memberships.order_by("pk").values_list("user_id", flat=True).first()


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_fhir_reads_and_searches_conform(case, secret):
    value, patient, ids = secret
    TALLY["cases"] += 1
    if case.path_parameters and TALLY["cases"] % 2 == 0:  # half the reads hit a real record
        kind = case.operation.path.split("/")[2]
        real = {
            "Patient": str(patient.pk),
            "Condition": str(ids["condition"]),
            "Observation": str(ids["observation"]),
            "Group": patient.clinic.code,
            "Organization": str(patient.clinic_id),
            "Location": str(patient.clinic_id),
            "Practitioner": str(physician_id(patient)),
        }
        case.path_parameters["id"] = real.get(kind, case.path_parameters["id"])
    try:
        response = case.call(headers={"Authorization": f"Bearer {value}"})
        STATUSES[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
    except BaseException:
        TALLY["failures"] += 1
        raise


def test_the_description_covers_every_resource_type(client):
    from dermatox.fhir.selectors import SPECS

    doc = client.get("/fhir/openapi.json").json()
    for type_name in SPECS:
        assert f"/fhir/{type_name}" in doc["paths"] and f"/fhir/{type_name}/{{id}}" in doc["paths"]


@pytest.mark.django_db
def test_control_characters_in_parameter_names_are_a_400_not_a_500(client, secret):
    """Found by schemathesis: an unknown parameter named "\\x0b" was echoed into the OperationOutcome, which
    the R4B model refused (FHIR strings allow no control characters)."""
    value, _patient, _ids = secret
    response = client.get(
        "/fhir/Patient?%0B=1&%C2%A0x=2&_lastUpdated=%C2%A1", HTTP_AUTHORIZATION=f"Bearer {value}"
    )
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
