"""Export: only the actor's clinic, only for a role that may read clinical records, audited; formula cells."""

import csv
import datetime as dt
import io

import pytest

from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from dermatox.common.errors import PermissionDenied
from dermatox.patients.models import Patient
from dermatox.transfer.csv_export import csv_export
from dermatox.transfer.csv_import import csv_import

from .test_import import OBS, PATIENTS, TOXIN

KINDS = ("patients", "toxin", "observations")
# Clinic B: one patient with the same identifier as a patient of clinic A, one with its own; every value is
# one clinic A does not have, so that any of it in clinic A's files can be seen.
B_PATIENTS = """identifier_system,identifier,given_name,family_name,sex_at_birth,birth_date,phone,email,address,preferred_language
national_id,11111111110,Zeynep,Bclinic,female,1970-03-03,+90 212 999 99 99,zeynep@b.example,Bcity,tr
insurance,B-77,Mehmet,Bonly,male,1960-06-06,,,,tr
"""
B_TOXIN = """identifier_system,identifier,given_on,product,units,area,source
national_id,11111111110,2024-03-03,incobotulinumtoxinA,33,axilla,B source
insurance,B-77,2024-04-04,unknown,,other,B source
"""
B_OBS = """identifier_system,identifier,code,value,unit,effective_at
national_id,11111111110,ferritin,77.7,ng/mL,2024-03-03T11:11
insurance,B-77,norwood,V,,2024-04-04
"""


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def actor_a(clinics, physician):
    return Actor(user=physician.user, clinic=clinics[0], role="physician", channel="cli")


@pytest.fixture
def two_clinics(clinics, staff, actor_a):
    actor_b = Actor(user=staff["physician_b"], clinic=clinics[1], role="physician", channel="cli")
    for actor, files in ((actor_a, (PATIENTS, TOXIN, OBS)), (actor_b, (B_PATIENTS, B_TOXIN, B_OBS))):
        for text in files:
            assert csv_import(actor=actor, data=text.encode()).ok
    return actor_a, actor_b


def test_an_export_never_contains_another_clinics_patients_doses_or_observations(two_clinics, clinics):
    actor_a, actor_b = two_clinics
    a = {kind: csv_export(actor=actor_a, kind=kind) for kind in KINDS}
    assert {kind: count for kind, (_text, count, _left) in a.items()} == {
        "patients": 2,
        "toxin": 3,
        "observations": 4,
    }
    for text, _count, _left in a.values():
        for marker in ("Zeynep", "Bclinic", "B-77", "Mehmet", "B source", "incobotulinumtoxinA", "77.7",
                       "2024-0", ",V,", "Bcity"):  # fmt: skip
            assert marker not in text
    assert {r["given_name"] for r in rows(a["patients"][0])} == {"Ayşe", "John"}
    b = {kind: rows(csv_export(actor=actor_b, kind=kind)[0]) for kind in KINDS}
    assert {r["family_name"] for r in b["patients"]} == {"Bclinic", "Bonly"}
    assert {r["source"] for r in b["toxin"]} == {"B source"}
    assert {r["value"] for r in b["observations"]} == {"77.7", "V"}
    # the audit names the clinic and exactly the patients whose records are in the file
    entry = AuditEntry.objects.filter(action="export.observations", clinic_id=clinics[0].pk).get()
    expected = {str(p.pk) for p in Patient.objects.filter(clinic=clinics[0])}
    assert set(entry.detail["patient_ids"]) == expected
    assert (entry.detail["rows"], entry.detail["patients"], entry.actor_username) == (4, 2, "physician_a")


@pytest.mark.parametrize("role", ["front_desk", "manager", "sysadmin"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_role_that_may_not_read_clinical_records_may_not_export(two_clinics, clinics, staff, role, kind):
    actor = Actor(user=staff[role], clinic=clinics[0], role=role, channel="cli")
    before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied) as caught:
        csv_export(actor=actor, kind=kind)
    assert "view_clinical" in caught.value.message and caught.value.code == "permission_denied"
    assert AuditEntry.objects.count() == before


def test_an_actor_without_a_clinic_exports_nothing(two_clinics, staff):
    from dermatox.common.errors import InvalidInput

    with pytest.raises(InvalidInput):
        csv_export(actor=Actor(user=staff["physician"], clinic=None, role="physician"), kind="patients")


DANGEROUS = {
    "given_name": '=HYPERLINK("http://x.example","Ali")',
    "family_name": "@SUM(A1)",
    "address": "-2+3 Cmd",
    "identifier": "+4712345",
}


def test_formula_cells_are_quoted_on_export_and_the_import_takes_the_quote_off(actor_a, clinics, staff):
    from dermatox.patients.services import patient_create

    patient = patient_create(
        actor=actor_a,
        data={
            "given_name": DANGEROUS["given_name"],
            "family_name": DANGEROUS["family_name"],
            "sex_at_birth": "male",
            "birth_date": dt.date(1980, 1, 1),
            "phone": "+90 532 111 22 33",
            "address": DANGEROUS["address"],
        },
        identifiers=[("other", DANGEROUS["identifier"])],
    )
    toxin = "identifier_system,identifier,given_on,product,units,area,source\nother,'+4712345,2025-01-02,unknown,,face,'=cmd|' /C calc'!A0\n"
    assert csv_import(actor=actor_a, data=toxin.encode()).created == 1  # the import took the quote off
    assert patient.external_toxin_doses.get().source == "=cmd|' /C calc'!A0"

    text = csv_export(actor=actor_a, kind="patients")[0]
    (row,) = rows(text)
    assert row["given_name"] == "'" + DANGEROUS["given_name"]
    assert row["family_name"] == "'@SUM(A1)" and row["address"] == "'-2+3 Cmd"
    assert row["identifier"] == "'+4712345" and row["phone"] == "'+90 532 111 22 33"
    assert row["birth_date"] == "1980-01-01" and row["identifier_system"] == "other"
    (dose,) = rows(csv_export(actor=actor_a, kind="toxin")[0])
    assert dose["source"] == "'=cmd|' /C calc'!A0" and dose["identifier"] == "'+4712345"
    for cells in (row, dose):  # no cell of the file starts a formula any more
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells.values())

    # round trip: into another clinic, the same values come back, quoted the same way
    actor_b = Actor(user=staff["physician_b"], clinic=clinics[1], role="physician", channel="cli")
    for kind in ("patients", "toxin"):
        exported = csv_export(actor=actor_a, kind=kind)[0]
        assert csv_import(actor=actor_b, data=exported.encode(), kind=kind).created == 1
        assert csv_export(actor=actor_b, kind=kind)[0] == exported
    copy = Patient.objects.get(clinic=clinics[1])
    assert (copy.given_name, copy.family_name, copy.address, copy.phone) == (
        DANGEROUS["given_name"],
        "@SUM(A1)",
        "-2+3 Cmd",
        "+90 532 111 22 33",
    )
    assert copy.identifiers.get().value == "+4712345"
    assert copy.external_toxin_doses.get().source == "=cmd|' /C calc'!A0"
