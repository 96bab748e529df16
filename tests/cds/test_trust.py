"""CDS Hooks 2.0 "Trusting CDS Clients": once an EHR is registered, a call needs its signed JWT, for this
service's URL, short-lived and used once. Keys are generated here; nothing is fetched."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from dermatox.cds import views
from tests.cds.helpers import patient, request

pytestmark = pytest.mark.django_db  # used token ids are kept in the database cache

EHR = "https://ehr.example.org"
URL = "http://testserver/cds-services/dermatox-patient-view"


@pytest.fixture
def ehr_key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def registered(settings, tmp_path, ehr_key):
    """The clinic registered the EHR's public key (kid "k1") and closed the services."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ehr_key.public_key()))
    path = tmp_path / "cds-clients.json"
    path.write_text(json.dumps({"clients": [{"iss": EHR, "jwks": {"keys": [{**jwk, "kid": "k1"}]}}]}))
    settings.DERMATOX_CDS_CLIENTS = str(path)
    settings.DERMATOX_CDS_OPEN = False
    views._clients.cache_clear()
    yield
    views._clients.cache_clear()


def signed(key, *, alg="ES384", kid="k1", **over) -> str:
    now = int(time.time())
    claims = {"iss": EHR, "aud": URL, "iat": now, "exp": now + 240, "jti": str(uuid.uuid4()), **over}
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None}, key, algorithm=alg, headers={"kid": kid}
    )


def call(token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    body = json.dumps(request(pt=patient("female", 30)))
    return Client().post(URL, data=body, content_type="application/json", **headers)


def test_a_registered_ehrs_token_is_accepted_once(registered, ehr_key):
    token = signed(ehr_key)
    assert call(token).status_code == 200
    replay = call(token)
    assert replay.status_code == 401 and "jti" in replay.json()["message"]


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda key: None, "Authorization"),
        (lambda key: "not-a-jwt", "Authorization"),
        (lambda key: signed(ec.generate_private_key(ec.SECP384R1())), "token"),  # someone else's key
        (lambda key: signed(key, iss="https://other.example"), "iss"),
        (lambda key: signed(key, aud="https://elsewhere.example/cds-services/x"), "token"),
        (lambda key: signed(key, exp=int(time.time()) - 120), "token"),
        (lambda key: signed(key, exp=int(time.time()) + 3600), "exp"),
        (lambda key: signed(key, jti=None), "token"),
        (lambda key: signed(key, kid="k2"), "kid"),
        # An RSA signature offered for the EC key must be refused, not crash the key loading.
        (
            lambda key: signed(rsa.generate_private_key(public_exponent=65537, key_size=2048), alg="RS384"),
            "alg",
        ),
        (lambda key: signed(key, exp=str(int(time.time()) + 240)), "exp"),
        (lambda key: jwt.encode({"iss": EHR, "aud": URL}, "s" * 32, algorithm="HS256"), "alg"),
    ],
)
def test_untrusted_calls_are_401_naming_the_rule(registered, ehr_key, make, rule):
    response = call(make(ehr_key))
    assert response.status_code == 401
    assert response.json()["message"].startswith(rule), response.json()
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_is_used_once_across_server_processes(registered, ehr_key):
    """gunicorn runs several processes: the used ids live in the database cache, not in one process."""
    from django.core.cache import caches

    token = signed(ehr_key)
    assert call(token).status_code == 200
    assert caches["shared"].__class__.__name__ == "DatabaseCache"
    caches["default"].clear()  # what another process would not have either
    assert call(token).status_code == 401


def test_discovery_stays_public(registered):
    assert Client().get("/cds-services").status_code == 200


def test_open_without_registered_clients(settings):
    """The development default: `make run` with no clients file takes calls without a token."""
    settings.DERMATOX_CDS_OPEN = True
    assert call(None).status_code == 200


def test_a_broken_clients_file_is_a_configuration_error_naming_it(settings, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"clients": [{"jwks": {"keys": []}}]}))
    settings.DERMATOX_CDS_CLIENTS = str(path)
    settings.DERMATOX_CDS_OPEN = False
    views._clients.cache_clear()
    with pytest.raises(ImproperlyConfigured, match=r"DERMATOX_CDS_CLIENTS .*clients\[0\]\.iss"):
        call(None)
    views._clients.cache_clear()
