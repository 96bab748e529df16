"""A Bulk Data export as the SMART reference client (smart-on-fhir/bulk-data-client, default config:
`lenient: true`) makes it, for system, Patient and Group level: it reads the CapabilityStatement, kicks off
with `accept: application/fhir+json` and `prefer: respond-async, handling=lenient` (GET with the parameters
in the query; POST with a Parameters body, one entry per `_type` and per `patient` as a valueReference,
whenever patients are named), polls the status URL with `accept: application/json` until it answers 200,
reads the manifest, downloads every file with the bearer token (`requiresAccessToken`) and checks each line's
resourceType and the count, then DELETEs the status URL. The worker's run stands between the polls.

Run with `-s` to see the requests and their statuses."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from dermatox.patients.services import patient_create
from tests.fhir.conftest import ago

pytestmark = pytest.mark.django_db
USER_AGENT = "SMART-On-FHIR Bulk Data Client / 2.2.0"


class ReferenceClient:
    """The reference client's requests, header for header; `log` keeps each request and its status."""

    def __init__(self, client, secret: str):
        self.client, self.secret, self.log = client, secret, []

    def _send(self, method: str, url: str, headers: dict, **kwargs):
        path = urlsplit(url)
        target = path.path + (f"?{path.query}" if path.query else "")
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        response = getattr(self.client, method.lower())(target, **kwargs, **meta)
        self.log.append(f"{method} {target} -> {response.status_code}")
        return response

    def _auth(self) -> dict:
        return {"authorization": f"Bearer {self.secret}", "user-agent": USER_AGENT}

    def kick_off(self, path: str, *, query: str = "", parameters: list[dict] | None = None):
        self._send("GET", "/fhir/metadata", {"user-agent": USER_AGENT})  # getCapabilityStatement
        headers = {
            **self._auth(),
            "accept": "application/fhir+json",
            "prefer": "respond-async, handling=lenient",
        }
        if parameters is not None:  # `post || patient`: the `json` option, so application/json
            body = json.dumps({"resourceType": "Parameters", "parameter": parameters})
            return self._send("POST", path, headers, data=body, content_type="application/json")
        return self._send("GET", f"{path}?{query}" if query else path, headers)

    def wait_for_export(self, status_url: str, worker) -> dict:
        headers = {**self._auth(), "accept": "application/json"}
        response = self._send("GET", status_url, headers)
        assert response.status_code == 202 and response["X-Progress"] and response["Retry-After"]
        worker(status_url.rsplit("/", 1)[-1])  # the worker picks the job up
        response = self._send("GET", status_url, headers)
        assert response.status_code == 200, response.content
        return response.json()

    def download(self, manifest: dict) -> dict[str, list[dict]]:
        headers = {"accept-encoding": "gzip, deflate, br, identity", "user-agent": USER_AGENT}
        if manifest["requiresAccessToken"]:
            headers["authorization"] = f"Bearer {self.secret}"
        files = {}
        for entry in manifest["output"] + manifest["error"]:
            response = self._send("GET", entry["url"], headers)
            assert response.status_code == 200
            lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines() if line]
            assert len(lines) == entry["count"]  # ndjsonValidateFHIRResourceCount
            assert {r["resourceType"] for r in lines} == {entry["type"]}  # ndjsonValidateFHIRResourceType
            files[entry["type"]] = lines
        return files

    def cancel(self, status_url: str):
        return self._send("DELETE", status_url, {**self._auth()})

    def run(self, path: str, **kick_off) -> tuple[dict, dict[str, list[dict]]]:
        response = self.kick_off(path, **kick_off)
        assert response.status_code == 202, response.content
        status_url = response["Content-Location"]
        manifest = self.wait_for_export(status_url, lambda job_id: export_run(job_id))
        files = self.download(manifest)
        assert self.cancel(status_url).status_code == 202
        assert (
            self._send("GET", status_url, {**self._auth(), "accept": "application/json"}).status_code == 404
        )
        return manifest, files


def about(resource: dict) -> str:
    """The patient a resource is about (the Patient's own id)."""
    if resource["resourceType"] == "Patient":
        return resource["id"]
    return (resource.get("subject") or resource.get("patient"))["reference"].removeprefix("Patient/")


@pytest.fixture
def clinic_of_three(physician, patient, staff, actor_for):
    """Three patients of the token's clinic with an observation each, and one of another clinic."""
    people = [patient]
    for family in ("Kaya", "Demir"):
        people.append(
            patient_create(
                actor=physician,
                data={
                    "given_name": "Ali",
                    "family_name": family,
                    "sex_at_birth": "male",
                    "birth_date": "1980-05-06",
                },
            )
        )
    for who in people:
        observation_record(actor=physician, patient=who, code="daily_shedding", value=90, effective_at=ago(2))
    other = patient_create(
        actor=actor_for(staff["physician_b"]),
        data={
            "given_name": "Bea",
            "family_name": "Other",
            "sex_at_birth": "female",
            "birth_date": "1990-01-01",
        },
    )
    return people, other


@pytest.fixture
def exporter(token):
    return token(role="physician", scopes=("read", "export"))


def test_the_reference_client_flow_at_every_level(client, exporter, clinics, clinic_of_three, capsys):
    people, other = clinic_of_three
    ids = {str(p.pk) for p in people}
    bulk = ReferenceClient(client, exporter)
    runs = {
        "system": bulk.run("/fhir/$export", query="_type=Patient,Observation,Condition"),
        "Patient": bulk.run(
            "/fhir/Patient/$export",
            parameters=[
                {"name": "_type", "valueString": "Patient"},
                {"name": "_type", "valueString": "Observation"},
                {"name": "patient", "valueReference": {"reference": f"Patient/{people[0].pk}"}},
                {"name": "patient", "valueReference": {"reference": f"Patient/{people[2].pk}"}},
            ],
        ),
        "Group": bulk.run(
            f"/fhir/Group/{clinics[0].code}/$export",
            parameters=[
                {"name": "_type", "valueString": "Patient,Observation"},
                {"name": "patient", "valueReference": {"reference": f"Patient/{people[1].pk}"}},
                {"name": "_elements", "valueString": "id,subject"},  # lenient: set aside, reported
            ],
        ),
        "Group, every member": bulk.run(f"/fhir/Group/{clinics[0].code}/$export", query="_type=Patient"),
    }
    with capsys.disabled():
        print("\n" + "\n".join(bulk.log))
        for level, (manifest, _files) in runs.items():
            outputs = ", ".join(f"{o['type']}={o['count']}" for o in manifest["output"])
            errors = ", ".join(f"{o['type']}={o['count']}" for o in manifest["error"])
            print(f"{level}: output [{outputs}] error [{errors}]")

    system, patient_level, group, members = (files for _manifest, files in runs.values())
    assert {about(r) for rs in system.values() for r in rs} == ids and str(other.pk) not in ids
    # Condition had nothing to export: no output entry with count 0.
    assert [o["type"] for o in runs["system"][0]["output"]] == ["Patient", "Observation"]
    # The patient parameter: only those patients, at Patient and at Group level.
    assert {about(r) for rs in patient_level.values() for r in rs} == {str(people[0].pk), str(people[2].pk)}
    assert len(patient_level["Observation"]) == 2
    assert {about(r) for t, rs in group.items() if t != "OperationOutcome" for r in rs} == {str(people[1].pk)}
    assert {p["id"] for p in members["Patient"]} == ids
    # handling=lenient: _elements was not applied but said so, in the error file.
    (outcome,) = group["OperationOutcome"]
    assert (
        outcome["issue"][0]["expression"] == ["_elements"] and outcome["issue"][0]["code"] == "not-supported"
    )
    assert (
        "Observation" in group and "subject" in group["Observation"][0] and "code" in group["Observation"][0]
    )
    # Each download's audit names the patients it disclosed.
    downloads = AuditEntry.objects.filter(action="bulk.export_download", detail__type="Patient")
    assert sorted(len(e.detail["patient_ids"]) for e in downloads) == [1, 2, 3, 3]


def test_without_lenient_an_unsupported_parameter_is_a_400_naming_it(client, exporter, patient):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {exporter}", "HTTP_ACCEPT": "application/fhir+json"}
    for name in ("_typeFilter", "_elements", "includeAssociatedData"):
        response = client.get(f"/fhir/$export?{name}=x", HTTP_PREFER="respond-async", **headers)
        assert response.status_code == 400
        issue = response.json()["issue"][0]
        assert issue["expression"] == [name] and "handling=lenient" in issue["diagnostics"]
    lenient = client.get(
        "/fhir/$export?_typeFilter=Observation%3Fcode%3Dx",
        HTTP_PREFER="respond-async, handling=lenient",
        **headers,
    )
    assert lenient.status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "expression"),
    [
        ("/fhir/$export", [{"name": "patient", "valueReference": {"reference": "Patient/{own}"}}], "patient"),
        (
            "/fhir/Patient/$export",
            [{"name": "patient", "valueReference": {"reference": "Patient/{other}"}}],
            "patient",
        ),
        (
            "/fhir/Patient/$export",
            [{"name": "patient", "valueReference": {"reference": "Patient/x"}}],
            "patient",
        ),
        ("/fhir/Patient/$export", [{"name": "patient", "valueReference": {}}], "parameter[0]"),
        ("/fhir/Patient/$export", [{"name": "_since", "valueInstant": "yesterday"}], "_since"),
    ],
    ids=["system-level", "another-clinic", "malformed", "no-reference", "bad-since"],
)
def test_a_bad_patient_parameter_is_a_400_and_nothing_is_exported(
    client, exporter, clinic_of_three, path, body, expression
):
    people, other = clinic_of_three
    text = json.dumps({"resourceType": "Parameters", "parameter": body})
    text = text.replace("{own}", str(people[0].pk)).replace("{other}", str(other.pk))
    response = client.post(
        path,
        data=text,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {exporter}",
        HTTP_PREFER="respond-async, handling=lenient",
    )
    assert response.status_code == 400, response.content
    assert response.json()["issue"][0]["expression"] == [expression]
    assert not BulkExportJob.objects.exists()


def test_patient_in_the_query_is_refused_not_ignored(client, exporter, patient):
    response = client.get(
        f"/fhir/Patient/$export?patient=Patient/{patient.pk}",
        HTTP_AUTHORIZATION=f"Bearer {exporter}",
        HTTP_PREFER="respond-async, handling=lenient",
    )
    assert response.status_code == 400 and response.json()["issue"][0]["expression"] == ["patient"]


@pytest.mark.parametrize(
    ("prefer", "status", "lenient"),
    [
        ("respond-async, handling=lenient", 202, True),
        ("handling=lenient, respond-async", 202, True),
        ("respond-async; handling=lenient", 202, True),
        ('Respond-Async, handling="lenient"', 202, True),
        ("respond-async", 400, False),  # strict: _elements is refused
        ("handling=lenient", 400, False),  # not asynchronous
        ("respond-async=1", 400, False),
    ],
)
def test_the_prefer_header_in_its_forms(client, exporter, patient, prefer, status, lenient):
    response = client.get(
        "/fhir/$export?_elements=id", HTTP_AUTHORIZATION=f"Bearer {exporter}", HTTP_PREFER=prefer
    )
    assert response.status_code == status, response.content
    if lenient:
        assert BulkExportJob.objects.get().ignored[0]["parameter"] == "_elements"
    else:
        assert response.json()["issue"][0]["expression"] in (["_elements"], ["Prefer"])
