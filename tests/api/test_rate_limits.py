"""Per-token request limits on REST, FHIR and bulk export (429 + Retry-After), and intake-link guessing."""

import re

import pytest
import time_machine
from django.utils import timezone

from tests.api.helpers import is_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen():
    """ratelimit counts in fixed windows of wall-clock time: a frozen clock keeps a test inside one window."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


@pytest.fixture
def three_a_minute(settings):
    settings.DERMATOX_API_TOKEN_RATE = "3/m"


def test_a_rest_token_over_its_limit_gets_429_with_retry_after(api, token, frozen, three_a_minute):
    for _ in range(3):
        assert api("get", "/api/patients").status_code == 200
    response = api("get", "/api/patients")
    body = is_error(response, 429, "rate_limited")
    assert "Retry-After" in body["message"]
    assert 1 <= int(response["Retry-After"]) <= 60
    # Counted per token: another token of the same user is not limited.
    assert api("get", "/api/patients", auth=token()).status_code == 200


def test_writes_count_too_and_a_limited_token_writes_nothing(api, frozen, three_a_minute):
    from dermatox.patients.models import Patient

    for _ in range(3):
        api("get", "/api/patients")
    data = {"given_name": "Ada", "family_name": "Kaya", "sex_at_birth": "female", "birth_date": "1990-01-01"}
    assert api("post", "/api/patients", json=data).status_code == 429
    assert not Patient.objects.filter(given_name="Ada").exists()


def test_a_fhir_token_over_its_limit_gets_an_operation_outcome_429(
    client, fhir_token, frozen, three_a_minute
):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {fhir_token}"}
    for _ in range(3):
        assert client.get("/fhir/Patient", **headers).status_code == 200
    response = client.get("/fhir/Patient", **headers)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response.json()["issue"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_bulk_export_shares_the_token_limit(client, export_token, frozen, three_a_minute):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {export_token}", "HTTP_PREFER": "respond-async"}
    accept = {"HTTP_ACCEPT": "application/fhir+json"}
    for _ in range(3):
        assert client.get("/fhir/metadata").status_code == 200  # not a token request: not counted
        client.get("/fhir/bulk-status/00000000-0000-0000-0000-000000000000", **headers, **accept)
    response = client.get("/fhir/bulk-status/00000000-0000-0000-0000-000000000000", **headers, **accept)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_the_limit_opens_again_in_the_next_window(api, three_a_minute):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            last = api("get", "/api/patients")
        assert last.status_code == 429
        wait = int(last["Retry-After"])
    with time_machine.travel(start + timezone.timedelta(seconds=wait + 1), tick=False):
        assert api("get", "/api/patients").status_code == 200


@pytest.fixture
def fhir_token(token):
    return token()["Bearer ".__len__() :]


@pytest.fixture
def export_token(token):
    return token(scopes=("read", "export"))["Bearer ".__len__() :]


# --- intake links -------------------------------------------------------------------------------------------


def test_guessing_intake_links_from_one_address_gets_429(client, settings, frozen, physician, patient):
    settings.DERMATOX_INTAKE_GUESS_RATE = "3/15m"
    guesser = {"REMOTE_ADDR": "198.51.100.20"}
    for n in range(3):
        assert client.get(f"/intake/guess-{n}/", **guesser).status_code == 404
    response = client.get("/intake/guess-4/", **guesser)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    # Once over, even a real link is refused from that address (the guess is never looked up)...
    from dermatox.intake import services

    _intake, real = services.intake_start(actor=physician, patient=patient)
    assert client.get(f"/intake/{real}/", **guesser).status_code == 429
    # ...while the clinic's tablet, at another address, opens it.
    page = client.get(f"/intake/{real}/", REMOTE_ADDR="198.51.100.21")
    assert page.status_code == 200


def test_a_valid_link_used_repeatedly_is_not_counted_as_guessing(
    client, settings, frozen, physician, patient
):
    settings.DERMATOX_INTAKE_GUESS_RATE = "3/15m"
    from dermatox.intake import services

    _intake, real = services.intake_start(actor=physician, patient=patient)
    for _ in range(6):
        assert client.get(f"/intake/{real}/", REMOTE_ADDR="198.51.100.22").status_code == 200


def test_the_guess_page_names_no_internal_detail(client, settings, frozen):
    settings.DERMATOX_INTAKE_GUESS_RATE = "1/15m"
    client.get("/intake/x/")
    page = client.get("/intake/y/").content.decode()
    assert "Too many" in page and not re.search(r"ratelimit|Traceback", page)
