"""The main pages make the same number of queries for a short and a long history (a handful each)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.chart.signing import assessment_sign
from dermatox.demo.long_history import patient_with_long_history

pytestmark = pytest.mark.django_db
PAGES = (
    "/patients/{p}/outcomes/",
    "/patients/{p}/assessment/",
    "/patients/{p}/examination/hair/",
    "/patients/{p}/examination/skin/",
    "/patients/{p}/labs/",
    "/patients/{p}/plan.pdf",
    "/outcomes/",
)


@pytest.mark.parametrize("path", PAGES)
def test_queries_do_not_grow_with_the_history(staff, physician, login, path):
    short, long = (patient_with_long_history(actor=physician, visits=n) for n in (3, 60))
    for patient in (short, long):
        assessment_sign(actor=physician, patient=patient, as_of=timezone.localdate())
    client = login(staff[Role.PHYSICIAN])
    counts = []
    for patient in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path.format(p=patient.pk)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 25, counts
