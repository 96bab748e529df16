"""FHIR R4 (4.0.1) endpoints under /fhir/: metadata, read, vread, search (GET and POST _search), Patient
create/update/history, Observation and Condition create, conditional read/create/update. Thin:
authentication by API token, scoped reads from `fhir.selectors`, writes through the services, mapping in
`fhir/`, HTTP headers in `fhir_http`. Every error, and every path or method we do not serve, is an
OperationOutcome with its HTTP status.

By use case: `endpoint` (the token-authenticated wrapper, OperationOutcome and responses), `capability`
(metadata), `searches` (search parameters, matching, includes, paging), `reads` (read, vread, history,
conditional reads), `writes` (create, update with If-Match, conditional create), `routing` (the views the
URLs name). The names other modules use are re-exported here."""

from dermatox.api.fhir_views.capability import (
    BULK_EXPORT,
    BULK_GROUP_EXPORT,
    BULK_PATIENT_EXPORT,
    capability_statement,
    metadata,
)
from dermatox.api.fhir_views.endpoint import (
    FHIR_JSON,
    FHIR_VERSION,
    ISSUE_CODES,
    BadRequest,
    error_outcome,
    fhir_endpoint,
    fhir_response,
    method_not_allowed,
    outcome,
)
from dermatox.api.fhir_views.reads import conditional_read, patient_history_view, read
from dermatox.api.fhir_views.routing import base_view, instance_view, search_view, type_view, unknown_view
from dermatox.api.fhir_views.searches import (
    DEFAULT_COUNT,
    MAX_COUNT,
    MAX_INCLUDED,
    RESULT_PARAMS,
    date_filter,
    matching,
    search,
    search_post_view,
)
from dermatox.api.fhir_views.writes import (
    CREATE_VIEWS,
    condition_create_view,
    create,
    observation_create_view,
    patient_create_view,
    patient_update_view,
)

__all__ = [
    "BULK_EXPORT",
    "BULK_GROUP_EXPORT",
    "BULK_PATIENT_EXPORT",
    "CREATE_VIEWS",
    "DEFAULT_COUNT",
    "FHIR_JSON",
    "FHIR_VERSION",
    "ISSUE_CODES",
    "MAX_COUNT",
    "MAX_INCLUDED",
    "RESULT_PARAMS",
    "BadRequest",
    "base_view",
    "capability_statement",
    "condition_create_view",
    "conditional_read",
    "create",
    "date_filter",
    "error_outcome",
    "fhir_endpoint",
    "fhir_response",
    "instance_view",
    "matching",
    "metadata",
    "method_not_allowed",
    "observation_create_view",
    "outcome",
    "patient_create_view",
    "patient_history_view",
    "patient_update_view",
    "read",
    "search",
    "search_post_view",
    "search_view",
    "type_view",
    "unknown_view",
]
