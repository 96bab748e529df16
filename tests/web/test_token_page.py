"""The manager's API token page (/staff/tokens/): managers of the clinic only, that clinic's tokens only, the
secret shown once and never cached, the member's own role only, every change audited."""

import re

import pytest

from dermatox.accounts.models import ApiToken
from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import TokenRejected, api_token_create, token_actor
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor

pytestmark = pytest.mark.django_db

URL = "/staff/tokens/"


def new_token(clinic, user, role="physician"):
    return api_token_create(
        actor=Actor.system(clinic=clinic), clinic=clinic, user=user, name="EHR", role=role, scopes=["read"]
    )


def form(user, role, **changes):
    return {
        "name": "Lab interface",
        "user": user.pk,
        "role": role,
        "scopes": ["read"],
        "expires_days": 30,
        **changes,
    }


def shown_secret(response) -> str:
    return re.search(r'value="(dx_[^"]+)"', response.content.decode()).group(1)


def test_a_manager_makes_a_token_and_sees_the_secret_once_never_cached(login, staff):
    client = login(staff[Role.MANAGER])
    page = client.get(URL)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'href="/staff/tokens/"' in page.content.decode()
    response = client.post(URL, form(staff[Role.NURSE], "nurse"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    assert response.content.decode().count(secret) == 1
    actor = token_actor(secret, scope="read")
    assert (actor.user, actor.role) == (staff[Role.NURSE], "nurse")
    token = ApiToken.objects.get()
    assert AuditEntry.objects.filter(action="api_token.create", object_id=str(token.pk)).exists()
    listing = client.get(URL).content.decode()
    assert token.prefix in listing and secret not in listing and token.token_hash not in listing
    assert AuditEntry.objects.filter(action="api_token.list").exists()


def test_the_page_refuses_a_role_the_member_does_not_hold(login, staff):
    """The attack from the page: a front-desk member given a physician's token."""
    client = login(staff[Role.MANAGER])
    response = client.post(URL, form(staff[Role.FRONT_DESK], "physician"))
    assert response.status_code == 400
    assert "holds the role Front desk in this clinic, not Physician" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK])
def test_only_managers_reach_the_page(login, staff, clinics, role):
    token, _secret = new_token(clinics[0], staff[Role.PHYSICIAN])
    client = login(staff[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, form(staff[role], role)).status_code == 403
    assert client.post(f"{URL}{token.pk}/revoke/").status_code == 403
    assert 'href="/staff/tokens/"' not in client.get("/").content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None and ApiToken.objects.count() == 1


def test_another_clinics_token_cannot_be_seen_revoked_or_rotated(login, staff, clinics):
    theirs, secret = new_token(clinics[1], staff["physician_b"])
    client = login(staff[Role.MANAGER])
    assert theirs.prefix not in client.get(f"{URL}?all=1").content.decode()
    assert client.post(f"{URL}{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/rotate/", {"grace": 0}).status_code == 404
    assert token_actor(secret, scope="read")
    assert ApiToken.objects.count() == 1


def test_revoke_and_rotate_from_the_page(login, staff, clinics):
    token, secret = new_token(clinics[0], staff[Role.PHYSICIAN])
    other, other_secret = new_token(clinics[0], staff[Role.NURSE], role="nurse")
    client = login(staff[Role.MANAGER])
    response = client.post(f"{URL}{token.pk}/rotate/", {"grace": 0})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new_secret = shown_secret(response)
    assert token_actor(new_secret, scope="read").role == "physician"
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")
    assert client.post(f"{URL}{other.pk}/revoke/").status_code == 302
    with pytest.raises(TokenRejected):
        token_actor(other_secret, scope="read")
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"api_token.rotate", "api_token.revoke"} <= actions
    listing = client.get(f"{URL}?all=1").content.decode()
    assert "Revoked" in listing or "revoked" in listing
    assert client.post(f"{URL}{token.pk}/rotate/", {"grace": 0}, follow=True).status_code == 200
    assert ApiToken.objects.count() == 3


def test_the_page_is_in_turkish_for_a_turkish_reader(login, staff):
    staff[Role.MANAGER].language = "tr"
    staff[Role.MANAGER].save()
    client = login(staff[Role.MANAGER])
    page = client.get(URL).content.decode()
    assert "API anahtarları" in page and "Yeni anahtar" in page
