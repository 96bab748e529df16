"""A user of another clinic gets 404 (not 403) on every patient-scoped URL: existence must not leak.

The URLs are not listed by hand: every route with a `patient_id` is found in the URLconf, so a new
patient-scoped page is covered the day it is added.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from dermatox.web.views import ADD_KINDS, RECORD_MODELS
from tests.web.fixtures import full_record

pytestmark = pytest.mark.django_db


POST_ONLY = {
    "point",
    "points",
    "vial",
    "sign",
    "stock-correction",
    "start",  # intake start
}  # session actions: GET answers 405 once the session is in scope


def patient_routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from patient_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif (
            isinstance(entry, URLPattern)
            and "patient_id" in entry.pattern.converters
            and not (prefix + str(entry.pattern)).startswith("api/")  # token auth: tests/api cross clinics
        ):
            yield prefix + str(entry.pattern), entry.pattern.converters


def concrete_urls(patient, record_ids):
    urls = []
    for route, converters in patient_routes():
        path = "/" + route.replace("<uuid:patient_id>", str(patient.pk))
        path = path.replace("<int:snapshot_id>", str(record_ids["assessment"]))
        path = path.replace("<int:session_id>", str(record_ids["session"]))
        path = path.replace("<int:intake_id>", str(record_ids["intake"]))
        path = path.replace("<int:encounter_id>", str(record_ids["encounter"]))
        if "kind" in converters and "pk" in converters:
            urls += [
                path.replace("<slug:kind>", k).replace("<int:pk>", str(record_ids[k])) for k in RECORD_MODELS
            ]
        elif "exam" in converters:
            urls += [path.replace("<slug:exam>", exam) for exam in ("hair", "skin")]
        elif "kind" in converters:
            urls += [path.replace("<slug:kind>", k) for k in ADD_KINDS]
        else:
            urls.append(path)
    assert all("<" not in u for u in urls), urls
    return urls


def test_every_patient_url_is_404_for_another_clinic(staff, physician, patient, login, client):
    record_ids = full_record(physician, patient)
    urls = concrete_urls(patient, record_ids)
    assert len(urls) >= 30
    login(staff["physician_b"])
    tried = 0
    for url in urls:
        for method in (client.get, client.post):
            response = method(url, {"reason": "probe", "text": "probe", "given_name": "X"})
            assert response.status_code == 404, f"{method.__name__.upper()} {url} -> {response.status_code}"
            assert b"Secret clinical note" not in response.content
            tried += 1
    print(f"cross-clinic: {len(urls)} patient-scoped URLs, {tried} requests, all 404")
    patient.refresh_from_db()
    assert patient.given_name == "İpek" and not patient.is_entered_in_error


def test_the_same_urls_work_for_the_patients_own_clinic(staff, physician, patient, login, client):
    """The isolation test above would pass vacuously if the URLs were broken; they are not."""
    record_ids = full_record(physician, patient)
    login(staff["physician"])
    for url in concrete_urls(patient, record_ids):
        expected = 405 if url.rstrip("/").rsplit("/", 1)[-1] in POST_ONLY else 200
        assert client.get(url).status_code == expected, url
