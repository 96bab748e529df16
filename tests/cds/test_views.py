"""CDS Hooks endpoints, called like an EHR would (CDS Hooks 2.0 request shape). No database: the service
stores nothing and reads none of our records."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from dermatox.clinical.reference import by_id
from tests.cds.helpers import (
    PATIENT_ID,
    bundle,
    condition,
    lab,
    observation,
    patient,
    pregnancy,
    protocol_site,
    request,
    statement,
    toxin_administration,
    toxin_order,
    toxin_statement,
)

PV = "/cds-services/dermatox-patient-view"
OS = "/cds-services/dermatox-order-select"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


@pytest.fixture
def client():
    return Client()


def post(client, url, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def cards_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    cards = response.json()["cards"]
    for card in cards:
        check_card(card)
    return cards


def check_card(card: dict) -> None:
    assert len(card["summary"]) <= 140, card["summary"]
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    assert isinstance(card["detail"], str) and card["detail"]
    assert card["uuid"]
    assert "links" not in card  # nothing internal to link to
    if card["summary"].startswith("Dermatox data check"):
        return  # the input-mapping card cites no evidence (docs/cds_hooks.md)
    assert card["source"]["url"].startswith(("https://", "http://")), card


def evidence_url(eid: str) -> str:
    return by_id("evidence.toml")[eid]["url"]


def test_discovery_lists_both_services_with_prefetch_templates(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    services = {s["id"]: s for s in response.json()["services"]}
    assert services["dermatox-patient-view"]["hook"] == "patient-view"
    assert services["dermatox-order-select"]["hook"] == "order-select"
    for service in services.values():
        assert service["title"] and service["description"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert service["prefetch"]["conditions"] == "Condition?patient={{context.patientId}}"
        assert service["prefetch"]["observations"] == "Observation?patient={{context.patientId}}"
        assert service["prefetch"]["medications"] == "MedicationStatement?patient={{context.patientId}}"


def test_preflight_options_answers_cors(client):
    for url in ("/cds-services", PV, OS):
        response = client.options(url)
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response["Access-Control-Allow-Methods"]


def test_man_with_aga_gets_minoxidil_recommended_with_the_guideline_as_source(client):
    # clinical.md §4 and §1.1: AGA in a man -> minoxidil 5% and finasteride 1 mg have level-1 evidence (EDF S3
    # guideline); > 100 hairs/day or a pull test > 2 hairs means hair loss needs treatment.
    body = request(
        pt=patient("male", 30),
        conditions=[condition(ICD10, "L64.9")],
        observations=[
            observation("daily_shedding", valueInteger=150),
            observation("pull_test_hairs", valueQuantity={"value": 4, "unit": "{hairs}"}),
        ],
    )
    cards = cards_of(post(client, PV, body))
    minoxidil = [c for c in cards if c["source"].get("topic", {}).get("code") == "minoxidil_topical"]
    assert len(minoxidil) == 1
    card = minoxidil[0]
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Topical minoxidil: recommended") or "recommended" in card["summary"]
    assert card["source"] == {
        "label": "Dermatox evidence register",
        "url": evidence_url("edf_s3_aga_2011"),
        "topic": card["source"]["topic"],
    }
    assert "high certainty" in card["detail"]
    assert by_id("evidence.toml")["edf_s3_aga_2011"]["citation"] in card["detail"]
    assert not any(c["indicator"] == "critical" for c in cards)
    # a man: no pregnancy question in the data-check card
    assert not any("Pregnancy" in c["detail"] for c in cards if c["summary"].startswith("Dermatox data"))


def test_pregnant_woman_gets_a_critical_toxin_contraindication(client):
    # clinical.md §8.3: pregnancy and breastfeeding: no adequate human data; aesthetic toxin use is deferred.
    # §4: topical minoxidil is not for pregnancy either.
    body = request(
        pt=patient("female", 32),
        observations=[
            pregnancy(True),
            observation("ludwig", valueCodeableConcept={"coding": [{"code": "II"}]}),
            observation("daily_shedding", valueInteger=150),
        ],
    )
    cards = cards_of(post(client, PV, body))
    critical = [c for c in cards if c["indicator"] == "critical"]
    toxin = [c for c in critical if "Botulinum toxin" in c["summary"]]
    assert toxin and "Pregnancy" in toxin[0]["summary"]
    assert toxin[0]["source"]["url"] == evidence_url("bont_pregnancy")
    assert any(c["source"].get("topic", {}).get("code") == "minoxidil_topical" for c in critical)
    assert cards[0]["indicator"] == "critical"  # most severe first


def test_low_ferritin_by_loinc_gives_a_supplement_card(client):
    # clinical.md §2.2: ferritin LOINC 2276-4; below 30 ng/mL is low (<= 15 confirms iron deficiency) and a
    # documented deficiency is the only reason to supplement (§4, oral supplements).
    body = request(
        pt=patient("female", 40),
        observations=[
            pregnancy(False),
            observation("daily_shedding", valueInteger=200),
            observation("hair_thinning", valueCodeableConcept={"coding": [{"code": "yes"}]}),
            lab("2276-4", 12, "ng/mL"),
        ],
    )
    cards = cards_of(post(client, PV, body))
    supplements = [c for c in cards if c["source"].get("topic", {}).get("code") == "oral_supplements"]
    assert len(supplements) == 1
    assert supplements[0]["indicator"] == "info"
    assert "ferritin" in supplements[0]["detail"].lower()
    assert "12 ng/mL" in supplements[0]["detail"]


def test_unknown_codes_are_ignored_and_listed(client):
    body = request(
        pt=patient("female", 40),
        conditions=[condition(ICD10, "J45.9")],
        observations=[lab("99999-9", 1, "mg/dL")],
    )
    cards = cards_of(post(client, PV, body))
    data = [c for c in cards if c["summary"].startswith("Dermatox data check")]
    assert len(data) == 1
    assert "J45.9" in data[0]["detail"] and "99999-9" in data[0]["detail"]
    assert "Pregnancy status" in data[0]["detail"]  # not in the prefetch: missing, not assumed


def test_null_prefetch_key_means_no_data_and_an_operation_outcome_means_missing(client):
    """CDS Hooks 2.0: null is the EHR's "no data" (like an empty Bundle); an OperationOutcome says it could
    not fetch the key, which is missing data (listed, never assumed normal)."""
    body = request(pt=patient("male", 30), conditions=[condition(ICD10, "L64.9")])
    body["prefetch"]["medications"] = None
    cards = cards_of(post(client, PV, body))
    assert not any("prefetch.medications" in c["detail"] for c in cards)
    body["prefetch"]["medications"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "medication service down"}],
    }
    cards = cards_of(post(client, PV, body))
    data = [c for c in cards if c["summary"].startswith("Dermatox data check")]
    assert (
        data and "prefetch.medications: could not be fetched (medication service down)" in data[0]["detail"]
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: {k: v for k, v in b.items() if k != "prefetch"},
        lambda b: {**b, "prefetch": {k: v for k, v in b["prefetch"].items() if k != "observations"}},
        lambda b: {  # a foreign fhirServer: never fetched from (no outbound requests)
            **b,
            "fhirAuthorization": {"access_token": "x", "token_type": "Bearer"},
            "prefetch": {k: v for k, v in b["prefetch"].items() if k != "observations"},
        },
    ],
    ids=["no-prefetch", "a-key-missing", "foreign-server"],
)
def test_a_missing_prefetch_key_that_cannot_be_fetched_is_412(client, mutate):
    response = post(client, PV, mutate(request(pt=patient("male", 30))))
    assert response.status_code == 412, response.content
    assert response.json()["code"] == "precondition_failed"
    assert "prefetch." in response.json()["message"] or "fhirServer" in response.json()["message"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_order_select_scalp_toxin_for_a_man_on_an_aminoglycoside_warns(client):
    # clinical.md §8.3: aminoglycosides may potentiate the toxin (a caution, not a block); §3.1: scalp toxin
    # for hair loss is off-label (Freund 2010 protocol, 150 U in 30 sites).
    body = request(
        "order-select",
        pt=patient("male", 35),
        conditions=[condition(ICD10, "L64.9")],
        medications=[statement("J01GB03", system="http://www.whocc.no/atc")],  # gentamicin
        selections=["MedicationRequest/toxin-1"],
        draftOrders=bundle(toxin_order(150)),
    )
    cards = cards_of(post(client, OS, body))
    assert cards and all(c["indicator"] == "warning" for c in cards)
    amino = [c for c in cards if "Aminoglycoside" in c["summary"]]
    assert amino and amino[0]["source"]["url"] == evidence_url("bont_interactions")
    assert any("Off-label" in c["summary"] for c in cards)


def test_order_select_for_a_pregnant_woman_blocks(client):
    # clinical.md §8.3: pregnancy -> toxin deferred: a block, shown as a critical card.
    body = request(
        "order-select",
        pt=patient("female", 29),
        observations=[pregnancy(True)],
        selections=["MedicationRequest/toxin-1"],
        draftOrders=bundle(toxin_order(20, site=protocol_site("glabellar_lines"))),
    )
    cards = cards_of(post(client, OS, body))
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert critical and "Pregnancy" in critical[0]["summary"]
    assert critical[0]["source"]["url"] == evidence_url("bont_pregnancy")


def test_order_select_counts_toxin_reported_by_the_ehr_for_the_12_week_interval(client):
    # clinical.md §8.3: retreatment no sooner than every 12 weeks.
    body = request(
        "order-select",
        pt=patient("male", 40),
        medications=[toxin_statement("onabotulinumtoxinA", 20, days=30)],
        draftOrders=bundle(toxin_order(150)),
    )
    cards = cards_of(post(client, OS, body))
    assert any(c["indicator"] == "critical" and "12 weeks" in c["summary"] for c in cards)


@pytest.mark.parametrize("product", ["abobotulinumtoxinA", None], ids=["units-unknown", "product-unknown"])
def test_order_select_counts_a_dose_without_units_or_product_for_the_12_week_interval(client, product):
    """clinical.md §12.1b R-BoNT-4: a dose with a known date starts the interval whatever is unknown about
    it (the clinic's bug at signing; the same prefetch mapping feeds patient-view and order-select)."""
    body = request(
        "order-select",
        pt=patient("male", 40),
        administrations=[toxin_administration(30, product=product)],
        draftOrders=bundle(toxin_order(150)),
    )
    cards = cards_of(post(client, OS, body))
    blocked = [c for c in cards if c["indicator"] == "critical" and "12 weeks" in c["summary"]]
    assert blocked and blocked[0]["source"]["url"] == evidence_url("bont_retreatment_interval")
    data = [c for c in cards if c["summary"].startswith("Dermatox data check")]
    assert data and "units (U) missing" in data[0]["detail"]


def test_order_select_blocks_a_second_scalp_session_the_same_day(client):
    """A full scalp session given this morning (reported by the EHR) and a second one ordered: blocked as the
    same area on the same day (issue 11 §2, clinical.md §12.1b R-BoNT-4), a critical card like every block."""
    scalp = {"coding": [{"system": "http://snomed.info/sct", "code": "41695006"}]}
    body = request(
        "order-select",
        pt=patient("male", 40),
        conditions=[condition(ICD10, "L64.9")],
        administrations=[toxin_administration(0, units=150, site=scalp)],
        draftOrders=bundle(toxin_order(150)),
    )
    cards = cards_of(post(client, OS, body))
    same_day = [c for c in cards if c["indicator"] == "critical" and "already given" in c["summary"]]
    assert same_day and same_day[0]["source"]["url"] == evidence_url("bont_retreatment_interval")


def test_order_select_ignores_orders_that_are_not_toxin(client):
    other = {
        **toxin_order(),
        "id": "amoxicillin",
        "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J01CA04"}]},
    }
    body = request("order-select", pt=patient("male", 40), draftOrders=bundle(other))
    assert cards_of(post(client, OS, body)) == []


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda b: "{not json", "not valid JSON"),
        (lambda b: [1, 2], "JSON object"),
        (lambda b: {**b, "hook": "order-sign"}, "hook"),
        (lambda b: {k: v for k, v in b.items() if k != "hookInstance"}, "hookInstance"),
        (lambda b: {**b, "prefetch": [1]}, "prefetch"),
        (lambda b: {**b, "fhirServer": 7}, "fhirServer"),
        (lambda b: {**b, "fhirAuthorization": {"token_type": "Bearer"}}, "fhirAuthorization"),
        (lambda b: {**b, "fhirAuthorization": "dx_secret"}, "fhirAuthorization"),
        (lambda b: {**b, "prefetch": {**b["prefetch"], "patient": None}}, "prefetch.patient"),
        (
            lambda b: {
                **b,
                "prefetch": {**b["prefetch"], "patient": {"resourceType": "Patient", "gender": 7}},
            },
            "prefetch.patient",
        ),
        (
            lambda b: {**b, "prefetch": {**b["prefetch"], "conditions": {"resourceType": "Foo"}}},
            "prefetch.conditions",
        ),
        (lambda b: {**b, "context": {**b["context"], "patientId": "other"}}, "context.patientId"),
        (lambda b: {**b, "context": "x"}, "context"),
    ],
)
def test_bad_requests_get_400_with_a_message(client, mutate, needle):
    body = mutate(request(pt=patient("male", 30)))
    response = post(client, PV, body if isinstance(body, str) else json.dumps(body))
    assert response.status_code == 400, response.content
    assert needle in response.json()["message"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_order_select_without_draft_orders_is_400(client):
    response = post(client, OS, request("order-select", pt=patient("male", 30)))
    assert response.status_code == 400
    assert "context.draftOrders" in response.json()["message"]


def test_get_on_a_service_is_405(client):
    assert client.get(PV).status_code == 405
    assert PATIENT_ID  # the helpers' patient id is the context's


@pytest.mark.parametrize(
    ("units", "site", "written"),
    [
        (151, None, "151 U"),  # 30 scalp points of 5.0333 U added up to 150.999 U
        (407, None, "407 U"),  # ... and to 407.001 U
        (500.001, None, "500 U"),  # an EHR's floating-point dose
        (12.5, protocol_site("forehead_lines"), "12.5 U"),
    ],
)
def test_order_select_cards_name_the_order_and_write_doses_as_a_clinician_does(client, units, site, written):
    body = request(
        "order-select",
        pt=patient("male", 40),
        conditions=[condition(ICD10, "L64.9")],
        medications=[toxin_statement("onabotulinumtoxinA", 20.0004, days=60)],
        draftOrders=bundle(toxin_order(units, site=site)),
    )
    response = post(client, OS, body)
    assert response.status_code == 200
    cards = response.json()["cards"]  # (the dose-spread warning cites no evidence: no source.url)
    order_cards = [c for c in cards if not c["summary"].startswith("Dermatox data check")]
    assert order_cards
    for card in order_cards:
        assert card["summary"].startswith(("Blocked (onabotulinumtoxinA ", "Warning (onabotulinumtoxinA "))
        assert f"onabotulinumtoxinA {written}" in card["summary"], card["summary"]
        for text in (card["summary"], card["detail"]):
            assert not re.search(r"\d\.\d{3,} U|\d\.\d*9{2,}\d* U", text), text
    assert any("20 U of onabotulinumtoxinA" in c["detail"] for c in order_cards)  # not 20.0004 U
