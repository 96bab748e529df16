"""The OpenAPI document is the contract: schemathesis generates requests for every read operation from it
and runs them against the WSGI app with a valid read token. No 5xx, and every response (status, content type,
body) must be one the document declares. About half the generated patient ids are swapped for a real
patient of the token's clinic, so the 200 bodies are checked too, not only the 404s."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dermatox.accounts.tokens import api_token_create
from dermatox.assessments.services import observation_record
from dermatox.common.context import Actor
from dermatox.patients.services import allergy_add, condition_add

application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(method="GET")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 15
TALLY = {"cases": 0, "failures": 0}
OPERATIONS: set[str] = set()
STATUSES: Counter[int] = Counter()
REPORTED: list[bool] = []


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    if REPORTED or not TALLY["cases"]:  # schemathesis' items may tear a module fixture down twice
        return
    REPORTED.append(True)
    line = (
        f"schemathesis: {len(OPERATIONS)} read operations, {TALLY['cases']} cases, "
        f"{TALLY['failures']} failures; statuses {dict(sorted(STATUSES.items()))}"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{line}")


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django's WSGI handler closes the database connection after each request; the test's transaction
    lives on it. The test client does the same as this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def record(clinics, physician, patient):
    """A patient of clinic A with some history and a read-only token of clinic A."""
    condition_add(actor=physician, patient=patient, data={"category": "diagnosis", "text": "Acne"})
    allergy_add(actor=physician, patient=patient, data={"substance": "Latex"})
    observation_record(
        actor=physician,
        patient=patient,
        code="daily_shedding",
        value=100,
        effective_at=timezone.now() - dt.timedelta(days=1),
    )
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinics[0]),
        clinic=clinics[0],
        user=physician.user,
        name="contract",
        role="physician",
        scopes=["read"],
    )
    return patient, secret


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_read_operations_conform_to_the_document(case, record):
    patient, secret = record
    TALLY["cases"] += 1
    OPERATIONS.add(case.operation.label)
    value = case.path_parameters.get("patient_id") if case.path_parameters else None
    if value is not None:
        try:
            if uuid.UUID(str(value)).int % 2 == 0:
                case.path_parameters["patient_id"] = str(patient.pk)
        except ValueError:
            pass
    try:
        response = case.call(headers={"Authorization": f"Bearer {secret}"})
        STATUSES[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
    except BaseException:
        TALLY["failures"] += 1
        raise


def test_every_operation_documents_the_error_shape(client):
    spec = client.get("/api/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert len(operations) >= 17
    for operation in operations:
        for status in ("400", "401", "403", "404", "409", "422"):
            ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", (operation["operationId"], status)
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"message", "code", "fields"}
    assert spec["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
