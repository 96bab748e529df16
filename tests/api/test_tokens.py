"""API tokens: the secret is shown once, its hash is kept; scopes, expiry, revocation and the clinic."""

import datetime as dt

import pytest
from django.utils import timezone

from dermatox.accounts.models import ApiToken
from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import (
    TokenRejected,
    api_token_create,
    api_token_revoke,
    bearer_secret,
    token_actor,
)
from dermatox.cli import main
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(staff, actor_for):
    return actor_for(staff[Role.MANAGER])


def make(manager, staff, clinics, **changes):
    data = {
        "clinic": clinics[0],
        "user": staff[Role.PHYSICIAN],
        "name": "EHR",
        "role": "physician",
        "scopes": ["read"],
        **changes,
    }
    return api_token_create(actor=manager, **data)


def test_only_the_hash_is_kept_and_the_token_acts_in_its_clinic(manager, staff, clinics):
    token, secret = make(manager, staff, clinics)
    assert secret.startswith("dx_") and secret not in token.token_hash and token.prefix == secret[:9]
    actor = token_actor(secret, scope="read")
    assert (actor.clinic, actor.user, actor.role, actor.channel) == (
        clinics[0],
        staff[Role.PHYSICIAN],
        "physician",
        "api",
    )


def test_scopes_are_enforced(manager, staff, clinics):
    _token, secret = make(manager, staff, clinics)
    with pytest.raises(PermissionDenied) as exc:
        token_actor(secret, scope="write")
    assert exc.value.code == "insufficient_scope"


def test_unknown_expired_and_revoked_tokens_are_rejected(manager, staff, clinics):
    with pytest.raises(TokenRejected):
        token_actor("dx_nothing", scope="read")
    with pytest.raises(TokenRejected):
        token_actor("", scope="read")
    token, secret = make(manager, staff, clinics, expires_at=timezone.now() + dt.timedelta(hours=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")
    token, secret = make(manager, staff, clinics)
    api_token_revoke(actor=manager, token=token)
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")


def test_bad_requests_name_the_field(manager, staff, clinics):
    with pytest.raises(InvalidInput) as exc:
        make(manager, staff, clinics, name="", role="sysadmin", scopes=["delete"], user=staff["physician_b"])
    assert set(exc.value.fields) == {"name", "role", "scopes", "user"}


def test_only_managers_make_tokens(staff, actor_for, clinics):
    with pytest.raises(PermissionDenied):
        make(actor_for(staff[Role.PHYSICIAN]), staff, clinics)


def test_bearer_header_parsing():
    assert (
        bearer_secret("Bearer dx_abc") == "dx_abc"
        and bearer_secret("Basic x") == ""
        and bearer_secret(None) == ""
    )


def test_cli_prints_the_secret_once(staff, clinics, capsys):
    assert (
        main(
            [
                "token",
                "create",
                "--clinic",
                "aaa",
                "--user",
                staff[Role.NURSE].username,
                "--role",
                "nurse",
                "--scopes",
                "read,export",
                "--name",
                "Lab",
            ]
        )
        == 0
    )
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert token_actor(secret, scope="export").role == "nurse"
    assert (
        main(
            [
                "token",
                "create",
                "--clinic",
                "aaa",
                "--user",
                "nobody",
                "--role",
                "nurse",
                "--scopes",
                "read",
                "--name",
                "Lab",
            ]
        )
        == 2
    )
    assert "--user" in capsys.readouterr().err


def test_system_actor_may_make_tokens(staff, clinics):
    token, _secret = make(Actor.system(clinic=clinics[0]), staff, clinics)
    assert token.created_by is None
