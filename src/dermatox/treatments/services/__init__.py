"""The treatments app's writes, by use case: `follow_ups` (recall items, and those a signed assessment
asks for), `courses` (treatment courses and toxin doses given elsewhere), `sessions` (a draft toxin
session: create, points, vial, plan check, note), `signing` (sign, acknowledgements of a warned plan),
`adverse_events`. Every name other modules and the tests use is re-exported here."""

from dermatox.treatments.services import sessions
from dermatox.treatments.services.adverse_events import AE_FIELDS, adverse_event_record
from dermatox.treatments.services.courses import (
    COURSE_FIELDS,
    EXTERNAL_DOSE_AREAS,
    EXTERNAL_DOSE_FIELDS,
    external_toxin_dose_record,
    treatment_course_record,
)
from dermatox.treatments.services.follow_ups import (
    follow_up_create,
    follow_up_mark,
    follow_up_set_status,
    follow_ups_from_assessment,
)
from dermatox.treatments.services.sessions import (
    POINT_FIELDS,
    _draft,
    case_builder_register,
    point_remove,
    point_save,
    protocol_points,
    session_create,
    session_note,
    session_plan,
    session_set_vial,
)
from dermatox.treatments.services.signing import (
    ACK_REASON_MAX,
    ACK_REASON_MIN,
    session_sign,
)

__all__ = [
    "ACK_REASON_MAX",
    "ACK_REASON_MIN",
    "AE_FIELDS",
    "COURSE_FIELDS",
    "EXTERNAL_DOSE_AREAS",
    "EXTERNAL_DOSE_FIELDS",
    "POINT_FIELDS",
    "_draft",
    "adverse_event_record",
    "case_builder_register",
    "external_toxin_dose_record",
    "follow_up_create",
    "follow_up_mark",
    "follow_up_set_status",
    "follow_ups_from_assessment",
    "point_remove",
    "point_save",
    "protocol_points",
    "session_create",
    "session_note",
    "session_plan",
    "session_set_vial",
    "session_sign",
    "treatment_course_record",
]


def __getattr__(name: str):
    # The registered case builder is state of `sessions` (set when Django starts): read it there, always.
    if name == "_case_builder":
        return sessions._case_builder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
