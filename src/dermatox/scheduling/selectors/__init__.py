"""Every read the calendar and recall pages need, scoped to the actor's clinic and audited as a list (with
the ids of the patients shown). A fixed number of queries, however many appointments there are.

By use case: `scope` (the clinic's appointments and follow-ups), `calendar` (the day and week grids),
`appointments` (one appointment, a patient's upcoming ones, a session's reviews), `recall` (the worklist
and one follow-up). Every name other modules and the tests use is re-exported here; the tests that
change the recall's page size or count cap patch `scheduling.selectors.recall`, where they are read."""

from dermatox.scheduling.selectors.appointments import (
    AppointmentView,
    appointment_get,
    appointment_page,
    patient_upcoming,
    review_appointments,
)
from dermatox.scheduling.selectors.calendar import (
    GRID_END,
    GRID_SPAN,
    GRID_START,
    Block,
    Calendar,
    Column,
    Practitioner,
    Slot,
    calendar_day,
    calendar_week,
)
from dermatox.scheduling.selectors.recall import (
    RECALL_COUNT_CAP,
    RECALL_GROUPS,
    RECALL_PAGE_SIZE,
    RecallGroup,
    RecallList,
    RecallRow,
    follow_up_get,
    recall_worklist,
)
from dermatox.scheduling.selectors.scope import appointments_in_scope

__all__ = [
    "GRID_END",
    "GRID_SPAN",
    "GRID_START",
    "RECALL_COUNT_CAP",
    "RECALL_GROUPS",
    "RECALL_PAGE_SIZE",
    "AppointmentView",
    "Block",
    "Calendar",
    "Column",
    "Practitioner",
    "RecallGroup",
    "RecallList",
    "RecallRow",
    "Slot",
    "appointment_get",
    "appointment_page",
    "appointments_in_scope",
    "calendar_day",
    "calendar_week",
    "follow_up_get",
    "patient_upcoming",
    "recall_worklist",
    "review_appointments",
]
