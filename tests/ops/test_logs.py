"""Structured logs: JSON lines with a request id, and no patient data in them."""

import json
import logging
import sys

import pytest

from dermatox.ops.logs import JsonFormatter, scrub

pytestmark = pytest.mark.django_db


def _lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_the_access_log_names_the_route_never_the_patient(login, physician, patient, caplog):
    client = login(physician.user)
    caplog.set_level(logging.INFO, logger="dermatox.access")
    response = client.get(f"/patients/{patient.pk}/?q=Şahin")
    assert response.status_code == 200
    [line] = [entry for entry in _lines(caplog) if entry["logger"] == "dermatox.access"]
    assert line["route"] == "patients/<uuid:patient_id>/"
    assert line["status"] == 200 and line["method"] == "GET" and line["ms"] >= 0
    assert line["user_id"] == physician.user.pk and line["clinic_id"] == physician.clinic.pk
    assert line["request_id"] == response["X-Request-ID"]
    text = json.dumps(line, ensure_ascii=False)
    assert str(patient.pk) not in text and "Şahin" not in text and "12345678901" not in text


def test_a_proxy_request_id_is_kept_when_sane_and_replaced_when_not(client):
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="lb-0123456789abcdef")["X-Request-ID"]
        == "lb-0123456789abcdef"
    )
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level": "ERROR"}')["X-Request-ID"]
    assert forged != 'x"\n{"level": "ERROR"}' and len(forged) == 32


def test_messages_are_scrubbed_of_ids_addresses_and_numbers():
    line = scrub(
        "GET /patients/8c1f3e2a-8f1e-4b7e-9a51-0c2b7a3f9d10/?name=İpek ipek@example.com national id 12345678901"
    )
    assert "8c1f3e2a" not in line and "ipek@example.com" not in line and "12345678901" not in line
    assert "İpek" not in line  # the query string goes whole


def test_an_error_with_its_traceback_is_one_scrubbed_json_line():
    logger = logging.getLogger("dermatox.test")
    try:
        raise ValueError("no patient 12345678901 for ipek@example.com")
    except ValueError:
        record = logger.makeRecord(
            "dermatox.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and "ValueError" in entry["exception"]
    assert "12345678901" not in line and "ipek@example.com" not in line
