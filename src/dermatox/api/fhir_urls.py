from django.urls import path

from dermatox.api import fhir_views

urlpatterns = [
    path("", fhir_views.base_view, name="fhir-base"),
    path("metadata", fhir_views.metadata, name="fhir-metadata"),
    path("Patient/<str:resource_id>/_history", fhir_views.patient_history_view, name="fhir-patient-history"),
    path(
        "Patient/<str:resource_id>/_history/<str:version_id>",
        fhir_views.patient_history_view,
        name="fhir-patient-vread",
    ),
    path("<str:type_name>/_search", fhir_views.search_view, name="fhir-search"),
    path("<str:type_name>/<str:resource_id>", fhir_views.instance_view, name="fhir-instance"),
    path("<str:type_name>", fhir_views.type_view, name="fhir-type"),
    # Anything else under /fhir/ (other types' _history, operations, deeper paths): an OperationOutcome.
    path("<path:rest>", fhir_views.unknown_view, name="fhir-unknown"),
]
