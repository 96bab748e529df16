"""FHIR Group: each clinic is a Group of its current patients (not entered in error), its id the clinic's
code. A token sees only its own clinic's Group: any other id, another clinic's included, is not found.
There is no saved patient list in the record yet, so the clinic is the only kind of Group.

The one read path for Group membership: the Group read and search, and Group-level bulk export, all take
their members from `group_members` (clinic scope through `patients_in_scope`)."""

from __future__ import annotations

from django.db.models import QuerySet
from fhir.resources.R4B.group import Group

from dermatox.accounts.models import Clinic
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound
from dermatox.patients.models import Patient
from dermatox.patients.selectors import patients_in_scope

CLINIC_GROUP_SYSTEM = "https://dermatox.org/fhir/sid/clinic"
SEARCH_PARAMS = {"_id": "token", "identifier": "token", "name": "string"}


def group_clinic(actor: Actor, group_id: str) -> Clinic:
    """The clinic a Group id names, if it is the actor's (else NotFound, as for an id that does not exist)."""
    clinic = actor.clinic
    if clinic is None or group_id != clinic.code:
        raise NotFound(f"No Group {group_id!r}")
    patients_in_scope(actor)  # the role must read patients at all (PermissionDenied otherwise)
    return clinic


def group_members(actor: Actor, group_id: str) -> QuerySet[Patient]:
    """The Group's members: the clinic's current patients, in the actor's scope."""
    group_clinic(actor, group_id)
    return patients_in_scope(actor).current()


def group_to_fhir(clinic: Clinic, member_ids: list[str]) -> Group:
    return Group.model_validate(
        {
            "resourceType": "Group",
            "id": clinic.code,
            "identifier": [{"system": CLINIC_GROUP_SYSTEM, "value": clinic.code}],
            "type": "person",
            "actual": True,
            "name": clinic.name,
            "quantity": len(member_ids),
            "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in member_ids] or None,
        }
    )


def _read(actor: Actor, clinic: Clinic, action: str, detail: dict) -> Group:
    member_ids = [
        str(pk) for pk in group_members(actor, clinic.code).order_by("pk").values_list("pk", flat=True)
    ]
    audit_record(
        actor=actor,
        action=action,
        obj=None,
        patient_id=member_ids[0] if len(member_ids) == 1 else None,
        detail={"type": "Group", "id": clinic.code, **detail, "patient_ids": member_ids},
    )
    return group_to_fhir(clinic, member_ids)


def group_read(*, actor: Actor, group_id: str) -> Group:
    """The Group, audited as a read that names every member it discloses."""
    return _read(actor, group_clinic(actor, group_id), "fhir.read", {})


def group_search(*, actor: Actor, params: dict[str, list[str]]) -> list[Group]:
    """Groups matching `_id`, `identifier` ([system|]code) and `name` (starts with, case-insensitive): the
    actor's clinic or nothing. Each value may be a comma-separated list (any of them matches)."""
    clinic = actor.clinic
    if clinic is None:
        return []
    patients_in_scope(actor)  # PermissionDenied for a role that reads no patients

    def any_of(name: str, test) -> bool:
        return all(any(test(v.strip()) for v in value.split(",")) for value in params.get(name, []))

    def identifier(token: str) -> bool:
        system, sep, code = token.rpartition("|")
        return code == clinic.code and (not sep or system in ("", CLINIC_GROUP_SYSTEM))

    matches = (
        any_of("_id", lambda v: v == clinic.code)
        and any_of("identifier", identifier)
        and any_of("name", lambda v: clinic.name.casefold().startswith(v.casefold()))
    )
    if not matches:
        audit_record(
            actor=actor, action="fhir.search", detail={"type": "Group", "results": 0, "patient_ids": []}
        )
        return []
    return [_read(actor, clinic, "fhir.search", {"results": 1})]


def capability_entry(export_definition: str) -> dict:
    """Group's entry in the CapabilityStatement: read, search and Group-level $export."""
    return {
        "type": "Group",
        "documentation": "Each clinic is a Group (id: the clinic's code) of its current patients; a token "
        "sees only its own clinic's Group. There are no saved patient lists yet.",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": [{"name": n, "type": t} for n, t in SEARCH_PARAMS.items()],
        "operation": [{"name": "export", "definition": export_definition}],
    }
