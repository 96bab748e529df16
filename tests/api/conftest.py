import pytest

from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.common.context import Actor


@pytest.fixture
def token(staff, clinics):
    """token(scopes, user_key="physician", clinic_index=0, role=None) -> the Authorization header value."""

    def make(scopes=("read", "write"), user_key=Role.PHYSICIAN, clinic_index=0, role=None):
        clinic = clinics[clinic_index]
        user = staff[user_key]
        _token, secret = api_token_create(
            actor=Actor.system(clinic=clinic),
            clinic=clinic,
            user=user,
            name="test",
            role=role or (Role.PHYSICIAN if user_key in (Role.PHYSICIAN, "physician_b") else user_key),
            scopes=list(scopes),
        )
        return f"Bearer {secret}"

    return make


@pytest.fixture
def api(client, token):
    """api(method, path, json=None, auth=<read+write physician of clinic A>) -> response."""
    default = token()

    def call(method, path, json=None, auth=default):
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        if json is None:
            return getattr(client, method)(path, **headers)
        return getattr(client, method)(path, data=json, content_type="application/json", **headers)

    return call
