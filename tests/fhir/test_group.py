"""FHIR Group: the token's clinic as a Group of its current patients; read, search, Group-level export.
Another clinic's Group is not found; a patient entered in error is no member."""

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.group import Group

from dermatox.audit.models import AuditEntry
from dermatox.patients.services import patient_create, record_mark_entered_in_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(physician, patient):
    second = patient_create(
        actor=physician,
        data={"given_name": "Can", "family_name": "Ak", "sex_at_birth": "male", "birth_date": "1985-02-03"},
    )
    withdrawn = patient_create(
        actor=physician,
        data={
            "given_name": "Eda",
            "family_name": "Yanlış",
            "sex_at_birth": "female",
            "birth_date": "1991-03-04",
        },
    )
    record_mark_entered_in_error(actor=physician, record=withdrawn, reason="duplicate record")
    return [patient, second], withdrawn


def test_read_the_clinics_group(fhir, clinics, members):
    current, withdrawn = members
    status, body, _ = fhir("GET", f"/fhir/Group/{clinics[0].code}")
    assert status == 200
    group = Group.model_validate(body)
    assert group.id == clinics[0].code and group.actual is True and group.type == "person"
    assert group.name == clinics[0].name and group.quantity == 2
    assert {m.entity.reference for m in group.member} == {f"Patient/{p.pk}" for p in current}
    assert f"Patient/{withdrawn.pk}" not in str(body)
    audit = AuditEntry.objects.filter(action="fhir.read", detail__type="Group").get()
    assert sorted(audit.detail["patient_ids"]) == sorted(str(p.pk) for p in current)


def test_another_clinics_group_is_not_found(fhir, token, clinics, members):
    assert fhir("GET", f"/fhir/Group/{clinics[1].code}")[0] == 404
    assert fhir("GET", "/fhir/Group/no-such-group")[0] == 404
    other = token(clinic_index=1)
    assert fhir("GET", f"/fhir/Group/{clinics[0].code}", secret=other)[0] == 404


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("", 1),
        ("_id={own}", 1),
        ("_id={other}", 0),
        ("identifier={own}", 1),
        ("name=clin", 1),
        ("name=zzz", 0),
    ],
)
def test_search_finds_only_the_own_clinic(fhir, clinics, members, query, total):
    query = query.format(own=clinics[0].code, other=clinics[1].code)
    status, body, _ = fhir("GET", f"/fhir/Group?{query}")
    assert status == 200
    bundle = Bundle.model_validate(body)
    assert bundle.total == total and len(bundle.entry or []) == total
    if total:
        assert bundle.entry[0].resource.id == clinics[0].code


def test_search_names_an_unsupported_parameter(fhir, members):
    status, body, _ = fhir("GET", "/fhir/Group?member=Patient/1")
    assert status == 400 and body["issue"][0]["expression"] == ["member"]


def test_capability_statement_tells_group_read_search_and_export(client):
    statement = CapabilityStatement.model_validate_json(client.get("/fhir/metadata").content)
    group = next(r for r in statement.rest[0].resource if r.type == "Group")
    assert {i.code for i in group.interaction} == {"read", "search-type"}
    assert {p.name for p in group.searchParam} == {"_id", "identifier", "name"}
    assert group.operation[0].definition.endswith("group-export")
