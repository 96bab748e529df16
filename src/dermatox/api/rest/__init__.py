"""The REST API at /api/ (OpenAPI document at /api/openapi.json, browsable docs at /api/docs).

Every operation authenticates with an API token (`Authorization: Bearer dx_…`): GET needs the `read` scope,
writes the `write` scope. The token's clinic is the only clinic it sees: another clinic's records answer 404.
Errors, all of them, have one shape: `{message, code, fields}` (see `Error`), mapped once (`base`).

One router per area (and OpenAPI tag), mounted in the order of the document's paths; the operation ids
are those of the time this was one module (`base.RestAPI`).
"""

from dermatox.api.rest import consents, history, observations, patients, scheduling, treatments
from dermatox.api.rest.base import api

for _area in (patients, history, observations, consents, treatments, scheduling):
    api.add_router("", _area.router)

__all__ = ["api"]
