"""Reads: read, vread and the Patient history, with conditional reads (If-None-Match, If-Modified-Since)."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, HttpResponse
from fhir.resources.R4B.bundle import Bundle

from dermatox.api import fhir_http as H
from dermatox.api.fhir_views.endpoint import fhir_endpoint, fhir_response, method_not_allowed
from dermatox.audit.services import audit_record
from dermatox.common.errors import NotFound
from dermatox.common.params import as_bounded_int
from dermatox.fhir import resources as R
from dermatox.fhir.selectors import Spec, record_id_lookup
from dermatox.patients.selectors import patient_get


def _get_record(actor, spec: Spec, resource_id: str):
    qs = spec.scoped(actor)
    try:
        key = uuid.UUID(resource_id) if spec.uuid_id else as_bounded_int(resource_id)
    except ValueError as exc:
        raise NotFound(f"No such {spec.type}") from exc
    if key is None:
        raise NotFound(f"No such {spec.type}")
    record = qs.filter(**{record_id_lookup(spec): key}).first()
    if record is None:
        raise NotFound(f"No such {spec.type}")
    return record


def conditional_read(request: HttpRequest, resource, audit) -> HttpResponse:
    """The resource with its validators (ETag, Last-Modified), or 304 when the client's copy is current
    (If-None-Match, If-Modified-Since). `audit()` records the read either way: a 304 still tells the
    client the record exists and is as it has it."""
    meta = resource.meta
    version = (meta.versionId if meta else None) or "1"
    updated = meta.lastUpdated if meta else None
    headers = H.validators(version, updated)
    audit()
    if H.not_modified(request, version, updated):
        return H.response_304(headers)
    return fhir_response(resource, headers=headers)


def read(request: HttpRequest, actor, spec: Spec, resource_id: str) -> HttpResponse:
    record = _get_record(actor, spec, resource_id)
    return conditional_read(
        request,
        spec.to_fhir(record),
        lambda: audit_record(actor=actor, action="fhir.read", obj=record, detail={"type": spec.type}),
    )


@fhir_endpoint(negotiate=True)
def patient_history_view(request: HttpRequest, actor, resource_id: str, version_id: str | None = None):
    if request.method != "GET":
        return method_not_allowed(["GET"])
    patient = patient_get(actor=actor, patient_id=resource_id, audit_as=None)
    versions = list(patient.history.order_by("history_date", "history_id"))
    identifiers = list(patient.identifiers.all())
    base = request.build_absolute_uri(f"/fhir/Patient/{patient.pk}")
    numbered = []
    for number, row in enumerate(versions, start=1):
        instance = row.instance
        instance.fhir_version, instance.fhir_updated = number, row.history_date
        resource = R.patient_to_fhir(instance, clinic=patient.clinic, identifiers=identifiers)
        numbered.append((number, row, resource))
    if version_id is not None:
        match = [r for n, _, r in numbered if str(n) == version_id]
        if not match:
            raise NotFound("No such version")
        return conditional_read(
            request,
            match[0],
            lambda: audit_record(
                actor=actor,
                action="fhir.read",
                obj=patient,
                detail={"type": "Patient", "version": version_id},
            ),
        )
    audit_record(
        actor=actor, action="fhir.history", obj=patient, detail={"type": "Patient", "versions": len(numbered)}
    )
    entries = [
        {
            "fullUrl": base,
            "resource": json.loads(resource.model_dump_json(exclude_none=True)),
            "request": {
                "method": "POST" if row.history_type == "+" else "PUT",
                "url": f"Patient/{patient.pk}",
            },
            "response": {"status": "201" if row.history_type == "+" else "200"},
        }
        for _, row, resource in reversed(numbered)
    ]
    bundle = {"resourceType": "Bundle", "type": "history", "total": len(entries), "entry": entries}
    return fhir_response(Bundle.model_validate(R._clean(bundle)))
