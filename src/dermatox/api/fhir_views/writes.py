"""Writes: Patient create/update (If-Match), Observation and Condition create, conditional create
(If-None-Exist)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict

from dermatox.api import fhir_http as H
from dermatox.api.fhir_views.endpoint import BadRequest, fhir_response
from dermatox.api.fhir_views.searches import matching
from dermatox.assessments.services import observation_record
from dermatox.audit.services import audit_record
from dermatox.common.errors import InvalidInput, NotFound
from dermatox.fhir import inbound
from dermatox.fhir import resources as R
from dermatox.fhir.selectors import SPECS, Spec, conditional_create_lock, record_version
from dermatox.patients.selectors import patient_get
from dermatox.patients.services import condition_add, patient_create, patient_update


def _invalid_input(exc: InvalidInput, paths: dict[str, str], type_name: str) -> inbound.InvalidResource:
    problems = [
        (paths.get(name, type_name), f"{' '.join(messages)}") for name, messages in exc.fields.items()
    ] or [(type_name, exc.message)]
    return inbound.InvalidResource(problems)


def _patient_response(request, actor, patient, status: int) -> HttpResponse:
    record = SPECS["Patient"].scoped(actor).get(pk=patient.pk)
    resource = R.patient_to_fhir(record)
    vid = resource.meta.versionId
    return fhir_response(
        resource,
        status,
        {
            "Location": request.build_absolute_uri(f"/fhir/Patient/{patient.pk}/_history/{vid}"),
            "ETag": f'W/"{vid}"',
        },
    )


def patient_create_view(request, actor) -> HttpResponse:
    data, _ = inbound.patient_from_fhir(request.body)
    try:
        patient = patient_create(actor=actor, data=data)
    except InvalidInput as exc:
        raise _invalid_input(exc, inbound.PATIENT_PATHS, "Patient") from exc
    return _patient_response(request, actor, patient, 201)


def _if_match(request) -> list[str] | None:
    """The versions an update may replace (If-Match: `W/"<versionId>"`, a list, or `*`), None without it."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = H.parse_tags(header)
    if tags is None:
        raise BadRequest('If-Match: not an entity tag (W/"<versionId>")', "If-Match")
    return tags


def patient_update_view(request, actor, resource_id: str) -> HttpResponse:
    """A full replace; with If-Match, only of the version named (else 412, nothing written). The version is
    checked and the update written in one transaction with the patient's row locked, so of two clients
    that read version n, the second to write gets 412."""
    expected = _if_match(request)
    data, body_id = inbound.patient_from_fhir(request.body)
    with transaction.atomic():
        patient = patient_get(actor=actor, patient_id=resource_id, audit_as=None)
        if body_id != resource_id:
            raise BadRequest("Patient.id must match the id in the URL", "Patient.id")
        if expected is not None and "*" not in expected:
            current = record_version(actor, SPECS["Patient"], patient.pk, lock=True)
            if current not in expected:
                raise BadRequest(
                    f"If-Match: the patient is at version {current}, not {', '.join(expected)[:40]}: read it "
                    "again and reapply the change",
                    "If-Match",
                    status=412,
                )
        try:
            patient = patient_update(actor=actor, patient=patient, data=data)
        except InvalidInput as exc:
            raise _invalid_input(exc, inbound.PATIENT_PATHS, "Patient") from exc
    return _patient_response(request, actor, patient, 200)


def _create_for_patient(request, actor, type_name: str, patient_id: str, paths: dict, write) -> HttpResponse:
    """Create a record of a patient of the actor's clinic with `write(patient)` (a service call); answer
    201 with the resource as stored. An unknown patient is a 422 on `subject`, like any bad element."""
    try:
        patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    except NotFound as exc:
        raise inbound.InvalidResource([(f"{type_name}.subject", "no such patient")]) from exc
    try:
        record = write(patient)
    except InvalidInput as exc:
        raise _invalid_input(exc, paths, type_name) from exc
    resource = SPECS[type_name].to_fhir(SPECS[type_name].scoped(actor).get(pk=record.pk))
    return fhir_response(
        resource,
        201,
        {"Location": request.build_absolute_uri(f"/fhir/{type_name}/{record.pk}/_history/1")},
    )


def observation_create_view(request, actor) -> HttpResponse:
    patient_id, kwargs = inbound.observation_from_fhir(request.body)
    return _create_for_patient(
        request,
        actor,
        "Observation",
        patient_id,
        inbound.OBSERVATION_PATHS,
        lambda patient: observation_record(actor=actor, patient=patient, **kwargs),
    )


def condition_create_view(request, actor) -> HttpResponse:
    patient_id, data = inbound.condition_from_fhir(request.body)
    return _create_for_patient(
        request,
        actor,
        "Condition",
        patient_id,
        inbound.CONDITION_PATHS,
        lambda patient: condition_add(actor=actor, patient=patient, data=data),
    )


CREATE_VIEWS = {
    "Patient": patient_create_view,
    "Observation": observation_create_view,
    "Condition": condition_create_view,
}


def create(request: HttpRequest, actor, spec: Spec) -> HttpResponse:
    """POST [type], with If-None-Exist a conditional create: the header's search parameters matching no
    record create it (201), one record answer it unchanged (200), more than one 412. The match and the
    create are one transaction holding the clinic's lock, so two identical requests make one record."""
    if problem := H.unsupported_body(request):
        raise BadRequest(problem, "Content-Type", status=415)
    header = request.headers.get("If-None-Exist")
    if header is None:
        return CREATE_VIEWS[spec.type](request, actor)
    criteria = QueryDict(header.strip().removeprefix("?"))
    if not criteria:
        raise BadRequest(
            "If-None-Exist: search parameters are required (e.g. identifier=<system>|<value>)",
            "If-None-Exist",
        )
    with transaction.atomic():
        conditional_create_lock(actor)
        try:
            found = list(matching(actor, spec, criteria, result_params=()).order_by(*spec.order)[:2])
        except BadRequest as exc:
            raise BadRequest(f"If-None-Exist: {exc.message}", "If-None-Exist") from None
        if not found:
            return CREATE_VIEWS[spec.type](request, actor)
    if len(found) > 1:
        raise BadRequest(
            f"If-None-Exist: more than one {spec.type} matches; make the criteria selective",
            "If-None-Exist",
            status=412,
        )
    record = found[0]
    audit_record(actor=actor, action="fhir.read", obj=record, detail={"type": spec.type, "conditional": True})
    resource = spec.to_fhir(record)
    version = resource.meta.versionId if resource.meta else "1"
    return fhir_response(
        resource,
        200,
        {
            "Location": request.build_absolute_uri(f"/fhir/{spec.type}/{resource.id}/_history/{version}"),
            **H.validators(version, resource.meta.lastUpdated if resource.meta else None),
        },
    )
