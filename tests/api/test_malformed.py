"""Hostile input at every endpoint: no server error, ever (issue 12 §1.5).

The routes are enumerated from the URL configuration, so an endpoint added later is fuzzed too. Each one
gets, with a signed-in physician's session and a physician's API token (read, write, export): deeply nested
JSON, a 12 MB body (413), integers of 40 digits, NUL characters, invalid UTF-8 and the wrong content types,
in bodies, query parameters, path segments and headers. Every request runs in a savepoint rolled back after
it, so each meets the same records. On PostgreSQL a NUL in text is an error of the database: these tests
are what shows it never gets that far.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.assessments.services import observation_record
from dermatox.bulk.models import BulkExportJob
from dermatox.common.context import Actor
from dermatox.intake.services import intake_start
from dermatox.patients.services import condition_add, encounter_create
from tests.api.records import session_follow_up_appointment
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HUGE = "9" * 40
DEEP = 20_000
WRITE_METHODS = ("post", "put", "patch", "delete")
SKIPPED = {"logout/"}  # would end the session the other requests run in


def routes() -> list[str]:
    """Every URL pattern of the project, as a route string ("patients/<uuid:patient_id>/")."""

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return sorted(set(walk(get_resolver().url_patterns)) - SKIPPED)


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
DEFAULTS = {"uuid": str(uuid.uuid4()), "int": "1", "slug": "x", "str": "x", "path": "x"}


def fill(route: str, values: dict, override=None) -> str:
    """The route with its parameters filled in: real records where known; `override(converter, name)` may
    return a hostile value for some of them."""

    def sub(match):
        converter, name = match.group(1) or "str", match.group(2)
        hostile = override(converter, name) if override else None
        return hostile if hostile is not None else str(values.get(name, DEFAULTS.get(converter, "x")))

    return "/" + PARAM.sub(sub, route.lstrip("^").rstrip("$"))


@dataclass
class Target:
    client: Client
    values: dict
    token: str
    failures: list

    def send(self, method: str, path: str, label: str, **kwargs):
        """One request in a savepoint rolled back after it; a 5xx (or an exception) is recorded."""
        kwargs.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        try:
            with transaction.atomic():
                response = getattr(self.client, method)(path, **kwargs)
                transaction.set_rollback(True)
        except Exception as exc:  # the test client re-raises nothing (see below); this is belt and braces
            self.failures.append(f"{method.upper()} {path} [{label}]: {type(exc).__name__}: {exc}"[:300])
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {path} [{label}]: {response.status_code}")
        return response


@pytest.fixture
def target(clinics, staff, physician, nurse, patient, receive_and_open):
    """Records of clinic A that the routes name, a signed-in physician and a physician's token."""
    session, follow_up, appointment = session_follow_up_appointment(
        staff=staff, physician=physician, nurse=nurse, patient=patient, vial_id=receive_and_open("FUZZ-1").pk
    )
    encounter = encounter_create(
        actor=physician, patient=patient, data={"kind": "consultation", "start": timezone.now()}
    )
    condition = condition_add(
        actor=physician, patient=patient, data={"category": "diagnosis", "text": "Acne"}
    )
    observation_record(
        actor=physician, patient=patient, code="daily_shedding", value=90, effective_at=timezone.now()
    )
    intake, intake_token = intake_start(actor=physician, patient=patient)
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinics[0]),
        clinic=clinics[0],
        user=staff[Role.PHYSICIAN],
        name="fuzz",
        role=Role.PHYSICIAN,
        scopes=["read", "write", "export"],
    )
    job = BulkExportJob.objects.create(
        clinic=clinics[0],
        token_id=_token.pk,
        user=staff[Role.PHYSICIAN],
        role=Role.PHYSICIAN,
        level="system",
        types=["Patient"],
        request_url="http://testserver/fhir/$export",
        transaction_time=timezone.now(),
    )
    client = Client(raise_request_exception=False)  # a server error is a 500 response here, as in production
    signed_in = client.post("/login/", {"username": staff[Role.PHYSICIAN].username, "password": PASSWORD})
    assert signed_in.status_code == 302
    client.post("/clinic/", {"clinic": clinics[0].pk})
    values = {
        "patient_id": patient.pk,
        "session_id": session.pk,
        "point_id": session.points.order_by("pk").first().pk,
        "follow_up_id": follow_up.pk,
        "appointment_id": appointment.pk,
        "encounter_id": encounter.pk,
        "intake_id": intake.pk,
        "token": intake_token,
        "vial_id": session.vial_id,
        "pk": condition.pk,
        "kind": "condition",
        "exam": "skin",
        "group": clinics[0].code,
        "type_name": "Patient",
        "resource_id": patient.pk,
        "version_id": "1",
        "job_id": job.pk,
        "snapshot_id": 1,
    }
    yield Target(client, values, secret, [])


def paths(target: Target, override=None) -> list[str]:
    """Every route filled in; the FHIR type routes once per type that takes writes or searches."""
    filled = [fill(route, target.values, override) for route in routes()]
    for type_name in ("Observation", "Condition"):
        filled.append(fill("fhir/<str:type_name>", {**target.values, "type_name": type_name}, override))
    return filled


def deep(levels: int = DEEP) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int = DEEP) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


NUL_FIELDS = {
    "resourceType": "Patient",
    "name": [{"family": "A\u0000", "given": ["\u0000"]}],
    "given_name": "A\u0000B",
    "family_name": "\u0000",
    "text": "\u0000",
    "reason": "\u0000",
    "action": "add",
    "view": "\u0000",
    "hook": "patient-view",
    "hookInstance": "\u0000",
    "context": {"patientId": "\u0000"},
    "parameter": [{"name": "_type", "valueString": "Patient\u0000"}],
}
HUGE_INTS = {
    "resourceType": "Observation",
    "id": int(HUGE),
    "x": int(HUGE),
    "y": int(HUGE),
    "units": int(HUGE),
    "action": "move",
    "vial_id": int(HUGE),
    "valueInteger": int(HUGE),
    "valueQuantity": {"value": int(HUGE)},
    "parameter": [{"name": "_count", "valueInteger": int(HUGE)}],
}

# (label, content type, body)
BODIES = [
    ("deep array", "application/json", deep()),
    ("deep object", "application/json", deep_object()),
    (
        "deep FHIR",
        "application/fhir+json",
        b'{"resourceType":"Patient","extension":' + deep() + b"}",
    ),
    ("deep but parseable (900)", "application/json", deep(900)),
    ("NUL in strings", "application/json", json.dumps(NUL_FIELDS).encode()),
    ("NUL in FHIR", "application/fhir+json", json.dumps(NUL_FIELDS).encode()),
    ("huge integers", "application/json", json.dumps(HUGE_INTS).encode()),
    ("huge integers FHIR", "application/fhir+json", json.dumps(HUGE_INTS).encode()),
    ("float overflow", "application/json", b'{"value": 1e999, "x": -1e999, "id": 1e40}'),
    ("invalid UTF-8", "application/json", b'{"given_name": "\xff\xfe", "\xc3": 1}'),
    ("lone surrogate", "application/json", b'{"given_name": "\\ud800", "text": "\\udfff"}'),
    ("not JSON", "application/json", b"{not json"),
    ("empty JSON", "application/json", b""),
    ("XML", "application/xml", b"<?xml version='1.0'?><Patient><name>x</name></Patient>"),
    ("text", "text/plain", b"hello \x00 world"),
    ("form with NUL", "application/x-www-form-urlencoded", b"given_name=%00&text=a%00b&action=%00&x=%FF"),
    (
        "form with huge ints",
        "application/x-www-form-urlencoded",
        f"id={HUGE}&remove={HUGE}&units={HUGE}".encode(),
    ),
    ("multipart without boundary", "multipart/form-data", b"--x\r\nnonsense"),
]


DOCUMENT_TYPES = ("application/pdf", "text/calendar", "image/")


def reads_bodies(response) -> bool:
    """Whether a route may read what is sent with this method: not when it refuses the method (405) or
    answers a document whatever is sent (a PDF, an .ics), so the other bodies are not sent there: the
    middleware, the only code that sees them, has met one already."""
    return response is not None and not (
        response.status_code == 405 or response["Content-Type"].startswith(DOCUMENT_TYPES)
    )


def test_hostile_bodies_to_every_route_never_give_a_server_error(target):
    for path in paths(target):
        # The web's forms and the map are POST only; the APIs use every method.
        methods = WRITE_METHODS if path.startswith(("/api/", "/fhir/")) else ("post",)
        for method in methods:
            (label, content_type, body), *others = BODIES
            if not reads_bodies(target.send(method, path, label, data=body, content_type=content_type)):
                continue
            for label, content_type, body in others:
                target.send(method, path, label, data=body, content_type=content_type)
    assert not target.failures, "\n".join(target.failures)


def test_a_body_over_the_limit_is_413_everywhere(target, settings):
    """12 MB: refused before anyone reads it, with the error shape of the part of the site it was sent to."""
    body = b'{"given_name": "' + b"a" * (12 * 1024 * 1024) + b'"}'
    for path in paths(target):
        for method in ("post", "put", "patch") if path.startswith(("/api/", "/fhir/")) else ("post",):
            response = target.send(method, path, "12 MB", data=body, content_type="application/json")
            if response is not None and response.status_code != 413:
                target.failures.append(f"{method.upper()} {path} [12 MB]: {response.status_code}, not 413")
    assert not target.failures, "\n".join(target.failures)


def test_the_413_speaks_each_areas_language(target):
    body = b"x" * (12 * 1024 * 1024)
    rest = target.send("post", "/api/patients", "12 MB", data=body, content_type="application/json")
    assert rest.status_code == 413 and rest.json()["code"] == "request_too_large"
    assert "body" in rest.json()["fields"]
    fhir = target.send("post", "/fhir/Patient", "12 MB", data=body, content_type="application/fhir+json")
    assert fhir.status_code == 413 and fhir.json()["resourceType"] == "OperationOutcome"
    assert fhir["Content-Type"].startswith("application/fhir+json")
    cds = target.send(
        "post", "/cds-services/dermatox-patient-view", "12 MB", data=body, content_type="application/json"
    )
    assert cds.status_code == 413 and cds.json()["code"] == "request_too_large"
    page = target.send(
        "post", "/patients/new/", "12 MB", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert page.status_code == 413 and page["Content-Type"].startswith("text/html")
    assert b"too large" in page.content.lower()
    assert not target.failures, "\n".join(target.failures)


def test_deep_json_is_a_400_naming_the_body(target):
    """The four families the probes found: FHIR writes, $export POST, CDS services, the map-point endpoint."""
    point = f"/patients/{target.values['patient_id']}/sessions/{target.values['session_id']}/point/"
    for method, path, content_type in [
        ("post", "/fhir/Patient", "application/fhir+json"),
        ("put", f"/fhir/Patient/{target.values['patient_id']}", "application/fhir+json"),
        ("post", "/fhir/Observation", "application/fhir+json"),
        ("post", "/fhir/$export", "application/fhir+json"),
        ("post", "/cds-services/dermatox-patient-view", "application/json"),
        ("post", "/cds-services/dermatox-order-select", "application/json"),
        ("post", point, "application/json"),
        ("post", "/api/patients", "application/json"),
    ]:
        response = target.send(
            method, path, "deep", data=deep(), content_type=content_type, HTTP_PREFER="respond-async"
        )
        assert response.status_code == 400, (path, response.status_code, response.content[:300])
        assert b"nested deeper than 64" in response.content, (path, response.content[:300])
    assert not target.failures, "\n".join(target.failures)


# --- query parameters, path segments, headers ------------------------------------------------------------

WEB_PARAMS = [
    "page",
    "sort",
    "cursor",
    "snapshot",
    "practitioner",
    "date",
    "q",
    "lot",
    "row",
    "start",
    "lang",
]
PAGING_PARAMS = ["_count", "_offset", "_id", "offset", "limit"]
VALUES = [HUGE, f"-{HUGE}", "1e999", "\x00", "a\x00b", "NaN"]


def fhir_search_params(client) -> dict[str, list[str]]:
    """Each FHIR type's search parameters, from the CapabilityStatement (so new ones are fuzzed too)."""
    statement = client.get("/fhir/metadata").json()
    return {
        r["type"]: [p["name"] for p in r.get("searchParam", [])] + ["_count", "_offset"]
        for r in statement["rest"][0]["resource"]
    }


def test_hostile_query_parameters_never_give_a_server_error(target):
    names = WEB_PARAMS + PAGING_PARAMS
    for path in paths(target):
        # Every parameter at once, each value in turn (documents once: they ignore the query).
        first = target.send("get", path, f"all params = {HUGE}", data=dict.fromkeys(names, HUGE))
        if first is None or first["Content-Type"].startswith(DOCUMENT_TYPES):
            continue
        for value in VALUES[1:]:
            target.send("get", path, f"all params = {value!r}", data=dict.fromkeys(names, value))
        # Raw bytes the client would otherwise encode: invalid UTF-8 and a percent-encoded NUL.
        target.send("get", path, "raw query", QUERY_STRING="page=%FF%FE&_offset=%00&q=%C3")
    for type_name, params in fhir_search_params(target.client).items():
        for name in params:
            for value in VALUES:
                target.send("get", f"/fhir/{type_name}", f"{name}={value!r}", data={name: value})
    assert not target.failures, "\n".join(target.failures)


def test_a_huge_offset_or_id_is_a_400_naming_the_parameter(target):
    for name in ("_offset", "_count"):
        response = target.send("get", "/fhir/Observation", name, data={name: HUGE})
        assert response.status_code == 400, response.content[:300]
        assert response.json()["issue"][0]["expression"] == [name]
    response = target.send("get", "/fhir/Observation", "_id", data={"_id": HUGE})
    assert response.status_code == 200 and response.json()["total"] == 0  # no such record: an empty page
    response = target.send("get", f"/fhir/Observation/{HUGE}", "read")
    assert response.status_code == 404
    for value in ("\x00", "a\x00b"):
        response = target.send("get", "/fhir/Patient", "NUL", data={"name": value})
        assert response.status_code == 400 and "NUL" in response.content.decode()
    assert not target.failures, "\n".join(target.failures)


def test_hostile_path_segments_never_give_a_server_error(target):
    hostile = {
        "int": lambda c, n: HUGE if c == "int" else None,
        "NUL": lambda c, n: "%00" if c in ("str", "slug", "path") else None,
        "bad UTF-8": lambda c, n: "%FF%FE" if c in ("str", "slug", "path") else None,
    }
    for label, override in hostile.items():
        for path in sorted(set(paths(target, override))):
            target.send("get", path, label)
            target.send("post", path, label, data=b"{}", content_type="application/json")
    assert not target.failures, "\n".join(target.failures)


def test_nul_in_headers_never_gives_a_server_error(target):
    """The user agent and the forwarded-for address go into the audit trail: text with no NUL."""
    patient_id = target.values["patient_id"]
    for path in (f"/patients/{patient_id}/", f"/api/patients/{patient_id}", f"/fhir/Patient/{patient_id}"):
        for header in ("HTTP_USER_AGENT", "HTTP_X_FORWARDED_FOR", "HTTP_ACCEPT_LANGUAGE"):
            response = target.send("get", path, header, **{header: "a\x00b"})
            assert response.status_code == 400, (path, header, response.status_code)
    assert not target.failures, "\n".join(target.failures)


# --- generated documents ------------------------------------------------------------------------------

JSON_ENDPOINTS = [
    ("post", "/fhir/Patient", "application/fhir+json"),
    ("post", "/fhir/Observation", "application/fhir+json"),
    ("post", "/fhir/Condition", "application/fhir+json"),
    ("post", "/fhir/$export", "application/fhir+json"),
    ("post", "/cds-services/dermatox-patient-view", "application/json"),
    ("post", "/api/patients", "application/json"),
    ("post", "/api/patients/{patient_id}/observations", "application/json"),
    ("post", "/patients/{patient_id}/sessions/{session_id}/point/", "application/json"),
]
hostile_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ["\x00", "a\x00", "\ud800", "Patient", "add", "move", "patient-view"]
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
)
documents = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceType",
                    "id",
                    "action",
                    "x",
                    "y",
                    "units",
                    "given_name",
                    "name",
                    "value",
                    "subject",
                    "parameter",
                    "hook",
                    "context",
                    "prefetch",
                    "code",
                    "effective_at",
                    "\x00",
                ]
            )
            | hostile_text,
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


def encode(document) -> bytes:
    return json.dumps(document, ensure_ascii=True).encode()  # lone surrogates travel as \\ud800 escapes


def test_generated_json_documents_never_give_a_server_error(target):
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(documents, st.sampled_from(JSON_ENDPOINTS))
    def probe(document, endpoint):
        method, path, content_type = endpoint
        target.send(
            method,
            path.format(**target.values),
            f"generated {encode(document)[:120]!r}",
            data=encode(document),
            content_type=content_type,
            HTTP_PREFER="respond-async",
        )

    probe()
    assert not target.failures, "\n".join(target.failures)
