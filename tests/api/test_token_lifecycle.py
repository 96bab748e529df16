"""Token lifecycle: expiry by default, list, revoke, rotate (with a grace period), and the role a token acts
with held by its user in its clinic — at create, at rotate and on every request."""

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from dermatox.accounts.models import ApiToken, Membership
from dermatox.accounts.roles import Role
from dermatox.accounts.selectors import api_token_get, api_token_rows
from dermatox.accounts.tokens import (
    TokenRejected,
    _hash,
    api_token_create,
    api_token_revoke,
    api_token_rotate,
    token_actor,
)
from dermatox.audit.models import AuditEntry
from dermatox.cli import main
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(staff, actor_for):
    return actor_for(staff[Role.MANAGER])


def make(actor, staff, clinics, user_key=Role.PHYSICIAN, role="physician", **changes):
    return api_token_create(
        actor=actor,
        clinic=clinics[0],
        user=staff[user_key],
        name="EHR",
        role=role,
        scopes=["read"],
        **changes,
    )


def cli(*args) -> int:
    return main(["token", *args])


# --- expiry -------------------------------------------------------------------------------------------


def test_a_token_expires_in_90_days_by_default(manager, staff, clinics):
    token, _secret = make(manager, staff, clinics)
    lifetime = token.expires_at - token.created_at
    assert dt.timedelta(days=89, hours=23) < lifetime <= dt.timedelta(days=90)


def test_an_unbounded_token_needs_no_expiry_and_the_cli_warns(staff, clinics, capsys):
    token, _secret = make(Actor.system(clinic=clinics[0]), staff, clinics, no_expiry=True)
    assert token.expires_at is None
    args = ["create", "--clinic", "aaa", "--user", "nurse_a", "--role", "nurse", "--scopes", "read"]
    assert cli(*args, "--name", "Lab", "--no-expiry") == 0
    out = capsys.readouterr()
    assert "never expires" in out.err and "expires never" in out.out
    assert cli(*args, "--name", "Lab", "--expires", "7") == 0
    made = ApiToken.objects.latest("pk")
    assert dt.timedelta(days=6, hours=23) < made.expires_at - made.created_at <= dt.timedelta(days=7)
    assert cli(*args, "--name", "Lab", "--expires", "7", "--no-expiry") == 2
    assert "--expires" in capsys.readouterr().err


def test_an_expired_token_is_refused_401(client, manager, staff, clinics, patient):
    token, secret = make(manager, staff, clinics, expires_at=timezone.now() + dt.timedelta(days=1))
    url = f"/api/patients/{patient.pk}"
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    with time_machine.travel(token.expires_at + dt.timedelta(seconds=1), tick=False):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


# --- the role must be held: create, use, rotate ------------------------------------------------------


def test_a_front_desk_user_cannot_be_given_a_physician_token(manager, staff, clinics, capsys):
    """The attack: a front-desk user's token acting as physician would read clinical records."""
    with pytest.raises(InvalidInput) as exc:
        make(manager, staff, clinics, user_key=Role.FRONT_DESK, role="physician")
    assert set(exc.value.fields) == {"role"} and "front_desk_a" in exc.value.fields["role"][0]
    args = ["--clinic", "aaa", "--user", "front_desk_a", "--role", "physician", "--scopes", "read"]
    assert cli("create", *args, "--name", "x") == 2
    assert "--role:" in capsys.readouterr().err
    assert not ApiToken.objects.exists()


def test_a_token_minted_with_a_role_not_held_is_refused_at_use(client, staff, clinics, patient):
    """A token made before this check (or written to the database by hand) acts as nobody."""
    secret = "dx_legacy-front-desk-as-physician"
    ApiToken.objects.create(
        clinic=clinics[0],
        user=staff[Role.FRONT_DESK],
        role=Role.PHYSICIAN,
        name="legacy",
        scopes=["read"],
        prefix=secret[:9],
        token_hash=_hash(secret),
    )
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")
    response = client.get(f"/api/patients/{patient.pk}/conditions", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401


@pytest.mark.parametrize("change", ["role", "membership", "user"])
def test_a_token_stops_when_its_users_role_changes_or_is_deactivated(manager, staff, clinics, change):
    _token, secret = make(manager, staff, clinics)
    assert token_actor(secret, scope="read").role == "physician"
    membership = Membership.objects.get(user=staff[Role.PHYSICIAN], clinic=clinics[0])
    if change == "role":
        membership.role = Role.FRONT_DESK
        membership.save()
    elif change == "membership":
        membership.active = False
        membership.save()
    else:
        staff[Role.PHYSICIAN].is_active = False
        staff[Role.PHYSICIAN].save()
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")
    assert [r.status for r in api_token_rows(actor=manager, include_inactive=True)] == ["role_not_held"]
    assert api_token_rows(actor=manager) == []


def test_rotate_refuses_when_the_role_is_no_longer_held(manager, staff, clinics):
    token, _secret = make(manager, staff, clinics)
    Membership.objects.filter(user=staff[Role.PHYSICIAN]).update(role=Role.NURSE)
    with pytest.raises(InvalidInput) as exc:
        api_token_rotate(actor=manager, token=token)
    assert set(exc.value.fields) == {"role"}
    assert ApiToken.objects.count() == 1


# --- rotate ------------------------------------------------------------------------------------------


def test_rotate_gives_a_new_secret_and_stops_the_old_one_at_once(manager, staff, clinics):
    old, old_secret = make(manager, staff, clinics)
    new, new_secret = api_token_rotate(actor=manager, token=old)
    old.refresh_from_db()
    assert old.replaced_by == new and old.revoked_at is not None
    assert (new.user, new.role, new.clinic, new.scopes, new.name) == (
        old.user,
        old.role,
        old.clinic,
        old.scopes,
        old.name,
    )
    assert token_actor(new_secret, scope="read").token_id == new.pk
    with pytest.raises(TokenRejected):
        token_actor(old_secret, scope="read")
    entry = AuditEntry.objects.filter(action="api_token.rotate").get()
    assert entry.object_id == str(new.pk) and entry.detail["replaces"] == old.pk
    with pytest.raises(Conflict):
        api_token_rotate(actor=manager, token=old)


def test_rotate_with_a_grace_period_keeps_the_old_secret_until_it_ends(manager, staff, clinics):
    old, old_secret = make(manager, staff, clinics)
    _new, new_secret = api_token_rotate(actor=manager, token=old, grace_hours=24)
    old.refresh_from_db()
    assert old.revoked_at is None and old.replaced_by_id is not None
    assert token_actor(old_secret, scope="read") and token_actor(new_secret, scope="read")
    with time_machine.travel(old.expires_at + dt.timedelta(seconds=1), tick=False):
        with pytest.raises(TokenRejected):
            token_actor(old_secret, scope="read")
        assert token_actor(new_secret, scope="read")


def test_rotate_refuses_bad_grace_and_inactive_tokens(manager, staff, clinics):
    token, _secret = make(manager, staff, clinics)
    with pytest.raises(InvalidInput) as exc:
        api_token_rotate(actor=manager, token=token, grace_hours=169)
    assert set(exc.value.fields) == {"grace"}
    api_token_revoke(actor=manager, token=token)
    with pytest.raises(Conflict):
        api_token_rotate(actor=manager, token=token)
    assert ApiToken.objects.count() == 1


def test_cli_rotate_prints_the_new_secret_once(staff, clinics, capsys):
    old, old_secret = make(Actor.system(clinic=clinics[0]), staff, clinics)
    assert cli("rotate", str(old.pk), "--grace", "2") == 0
    out = capsys.readouterr().out
    new_secret = out.strip().splitlines()[-1]
    assert new_secret.startswith("dx_") and new_secret != old_secret and out.count(new_secret) == 1
    assert token_actor(new_secret, scope="read") and token_actor(old_secret, scope="read")
    assert cli("rotate", str(old.pk)) == 2
    assert "already rotated" in capsys.readouterr().err
    assert cli("rotate", "9999") == 2
    assert "No API token 9999" in capsys.readouterr().err
    old.refresh_from_db()
    assert cli("rotate", str(old.replaced_by_id), "--grace", "500") == 2
    assert "--grace:" in capsys.readouterr().err


# --- list and revoke ---------------------------------------------------------------------------------


def test_list_shows_working_tokens_and_all_with_all_never_the_secret(staff, clinics, capsys):
    system = Actor.system(clinic=clinics[0])
    kept, kept_secret = make(system, staff, clinics)
    gone, gone_secret = make(system, staff, clinics)
    api_token_revoke(actor=system, token=gone)
    assert cli("list") == 0
    out = capsys.readouterr().out
    assert kept.prefix in out and gone.prefix not in out and "physician_a" in out and "EXPIRES" in out
    assert cli("list", "--all", "--json", "--clinic", "aaa") == 0
    out = capsys.readouterr().out
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows[kept.pk]["status"] == "active" and rows[gone.pk]["status"] == "revoked"
    assert set(rows[kept.pk]) >= {"user", "clinic", "role", "created_at", "expires_at", "last_used_at"}
    for secret_text in (kept_secret, gone_secret, kept.token_hash, gone.token_hash):
        assert secret_text not in out
    assert cli("list", "--clinic", "zzz") == 2
    assert cli("list", "--clinic", "bbb") == 0
    assert "No working tokens" in capsys.readouterr().out


def test_cli_revoke_by_prefix_and_unknown_tokens(staff, clinics, capsys):
    token, secret = make(Actor.system(clinic=clinics[0]), staff, clinics)
    assert cli("revoke", token.prefix) == 0
    assert "is now revoked" in capsys.readouterr().out
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")
    assert cli("revoke", str(token.pk)) == 0 and "already" in capsys.readouterr().out
    assert cli("revoke", "dx_nothing") == 2
    assert "No API token" in capsys.readouterr().err
    assert cli("revoke", "not-a-token") == 2
    assert "id or the prefix" in capsys.readouterr().err
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_a_manager_manages_only_their_clinics_tokens(staff, clinics, actor_for, manager):
    theirs, _secret = api_token_create(
        actor=Actor.system(clinic=clinics[1]),
        clinic=clinics[1],
        user=staff["physician_b"],
        name="B",
        role="physician",
        scopes=["read"],
    )
    with pytest.raises(NotFound):
        api_token_get(actor=manager, ref=theirs.pk)
    for attempt in (api_token_revoke, api_token_rotate):
        with pytest.raises(PermissionDenied):
            attempt(actor=manager, token=theirs)
    with pytest.raises(PermissionDenied):
        api_token_create(
            actor=manager,
            clinic=clinics[1],
            user=staff["physician_b"],
            name="x",
            role="physician",
            scopes=["read"],
        )
    assert api_token_rows(actor=manager, clinic=clinics[1]) == []
    with pytest.raises(PermissionDenied):
        api_token_rows(actor=actor_for(staff[Role.FRONT_DESK]))
