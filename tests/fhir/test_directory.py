"""Practitioner, Organization and Location: the staff and the clinic the records reference are resources a
client can resolve (they were display text only), read and searched in the token's clinic only."""

import pytest

from dermatox.accounts.roles import Role
from dermatox.treatments.services import session_create
from tests.signing import sign

pytestmark = pytest.mark.django_db


def test_references_resolve_to_the_clinics_staff_and_the_clinic(
    fhir, nurse, patient, receive_and_open, staff
):
    vial = receive_and_open("DIR-1")
    session = sign(
        nurse, session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    )
    _s, procedure, _r = fhir("GET", f"/fhir/Procedure/{session.pk}")
    performer = procedure["performer"][0]["actor"]
    assert performer["reference"] == f"Practitioner/{staff[Role.NURSE].pk}"
    status, practitioner, _r = fhir("GET", f"/fhir/{performer['reference']}")
    assert status == 200 and practitioner["resourceType"] == "Practitioner" and practitioner["active"] is True
    assert practitioner["name"][0]["text"] == performer["display"]
    assert set(practitioner) <= {"resourceType", "id", "meta", "active", "name"}  # no user name, e-mail, role

    _s, person, _r = fhir("GET", f"/fhir/Patient/{patient.pk}")
    organization_ref = person["managingOrganization"]["reference"]
    assert organization_ref == f"Organization/{patient.clinic_id}"
    status, organization, _r = fhir("GET", f"/fhir/{organization_ref}")
    assert status == 200 and organization["name"] == patient.clinic.name
    assert organization["identifier"][0]["value"] == patient.clinic.code
    status, location, _r = fhir("GET", f"/fhir/Location/{patient.clinic_id}")
    assert status == 200 and location["managingOrganization"]["reference"] == organization_ref


def test_searches_list_the_clinics_own_only(fhir, staff, clinics):
    _s, bundle, _r = fhir("GET", "/fhir/Practitioner")
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert str(staff[Role.NURSE].pk) in ids and str(staff["physician_b"].pk) not in ids
    for kind in ("Organization", "Location"):
        _s, bundle, _r = fhir("GET", f"/fhir/{kind}")
        assert [e["resource"]["id"] for e in bundle["entry"]] == [str(clinics[0].pk)]


def test_another_clinics_staff_and_clinic_are_not_found(fhir, staff, clinics):
    for path in (
        f"/fhir/Practitioner/{staff['physician_b'].pk}",
        f"/fhir/Organization/{clinics[1].pk}",
        f"/fhir/Location/{clinics[1].pk}",
    ):
        status, outcome, _r = fhir("GET", path)
        assert status == 404 and outcome["resourceType"] == "OperationOutcome", path


def test_a_former_member_is_still_resolvable_and_inactive(fhir, staff, clinics):
    from dermatox.accounts.models import Membership

    Membership.objects.filter(user=staff[Role.NURSE], clinic=clinics[0]).update(active=False)
    status, practitioner, _r = fhir("GET", f"/fhir/Practitioner/{staff[Role.NURSE].pk}")
    assert status == 200 and practitioner["active"] is False


def test_the_capability_statement_lists_them(fhir):
    _s, capability, _r = fhir("GET", "/fhir/metadata", secret=None)
    types = {r["type"] for r in capability["rest"][0]["resource"]}
    assert {"Practitioner", "Organization", "Location"} <= types
