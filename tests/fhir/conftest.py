import datetime as dt
import json

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.common.context import Actor


@pytest.fixture
def token(clinics, staff):
    """make(role=..., scopes=..., clinic_index=0) -> secret."""

    def make(role="physician", scopes=("read", "write"), clinic_index=0):
        clinic = clinics[clinic_index]
        user = staff[Role(role)] if clinic_index == 0 else staff["physician_b"]
        _, secret = api_token_create(
            actor=Actor.system(clinic=clinic),
            clinic=clinic,
            user=user,
            name=f"t-{role}-{clinic_index}-{'-'.join(scopes)}",
            role=role,
            scopes=list(scopes),
        )
        return secret

    return make


@pytest.fixture
def fhir(client, token):
    """fhir(method, path, secret=<a physician read+write token>, body=None) -> (status, json, response)."""

    def call(method, path, secret="default", body=None):  # noqa: S107
        if secret == "default":
            secret = token()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
        kwargs = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/fhir+json"}
        response = getattr(client, method.lower())(path, **kwargs, **headers)
        assert response["Content-Type"].startswith("application/fhir+json"), response.content[:300]
        return response.status_code, response.json(), response

    return call


def ago(days: int = 0, hours: int = 0) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=hours)
