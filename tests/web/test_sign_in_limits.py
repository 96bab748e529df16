"""Sign-in lockout (django-axes with dermatox.accounts.sign_in_limits): per account and address, per account
across addresses, per address across accounts, and no way around it through X-Forwarded-For."""

import pytest
from django.conf import settings
from django.test import override_settings

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMITS = {fields: limit for fields, limit in settings.DERMATOX_SIGN_IN_LIMITS}
PER_ACCOUNT_ADDRESS = LIMITS[("username", "ip_address")]
PER_ACCOUNT = LIMITS[("username",)]
PER_ADDRESS = LIMITS[("ip_address",)]


def address(n: int) -> str:
    return f"203.0.113.{n}"  # TEST-NET-3: documentation addresses, never contacted


def sign_in(client, username, password="wrong-password", ip="198.51.100.7", **headers):  # noqa: S107
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def test_the_three_limits_are_ordered_as_documented():
    assert PER_ACCOUNT_ADDRESS < PER_ACCOUNT < PER_ADDRESS


def test_one_account_is_locked_after_failures_from_many_addresses(client, staff):
    """An attacker rotating addresses (one guess each) is stopped by the per-account count."""
    user = staff[Role.NURSE]
    for n in range(PER_ACCOUNT - 1):
        assert sign_in(client, user.username, ip=address(n)).status_code == 200
    locked = sign_in(client, user.username, ip=address(200))  # the limit-th failure
    assert locked.status_code == 429 and b"Account locked" in locked.content
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    # Locked everywhere now, even with the right password from an address that never failed.
    assert sign_in(client, user.username, PASSWORD, ip=address(201)).status_code == 429
    # Another account from one of those addresses is not affected.
    assert sign_in(client, staff[Role.PHYSICIAN].username, PASSWORD, ip=address(0)).status_code == 302


def test_one_address_is_locked_after_failures_over_many_accounts(client, staff):
    """Password spraying: one guess at each of many accounts (real or not) from one address."""
    spray = "198.51.100.99"
    for n in range(PER_ADDRESS - 1):
        assert sign_in(client, f"user{n}", ip=spray).status_code == 200
    assert sign_in(client, "user-last", ip=spray).status_code == 429
    # Every account is refused from that address, even with its right password...
    assert sign_in(client, staff[Role.NURSE].username, PASSWORD, ip=spray).status_code == 429
    # ...and works from another one.
    assert sign_in(client, staff[Role.NURSE].username, PASSWORD, ip=address(1)).status_code == 302


def test_signing_in_to_an_own_account_does_not_clear_the_address_count(client, staff):
    """axes' reset-on-success would wipe every failure of the address: spray, sign in to your own account,
    spray again. Only the account's own failures are cleared."""
    spray, own = "198.51.100.98", staff[Role.FRONT_DESK]
    for n in range(PER_ADDRESS - 2):
        sign_in(client, f"victim{n}", ip=spray)
    assert sign_in(client, own.username, PASSWORD, ip=spray).status_code == 302
    client.logout()
    assert sign_in(client, "victim-a", ip=spray).status_code == 200
    assert sign_in(client, "victim-b", ip=spray).status_code == 429


def test_forwarded_for_is_ignored_by_default_so_spoofing_it_does_not_reset_the_count(client, staff):
    assert settings.TRUST_X_FORWARDED_FOR is False
    user = staff[Role.NURSE]
    for n in range(PER_ACCOUNT_ADDRESS - 1):
        assert sign_in(client, user.username, HTTP_X_FORWARDED_FOR=address(n)).status_code == 200
    assert sign_in(client, user.username, HTTP_X_FORWARDED_FOR=address(99)).status_code == 429
    assert sign_in(client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR=address(100)).status_code == 429


def test_even_a_wrongly_trusted_forwarded_for_cannot_get_past_the_per_account_limit(client, staff, settings):
    """Trusting the header without a proxy that overwrites it is a misconfiguration (the client picks its
    address); the per-account count still caps the guesses."""
    settings.TRUST_X_FORWARDED_FOR = True
    user = staff[Role.NURSE]
    for n in range(PER_ACCOUNT - 1):
        assert (
            sign_in(client, user.username, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {address(n)}").status_code == 200
        )
    assert sign_in(client, user.username, HTTP_X_FORWARDED_FOR=address(150)).status_code == 429


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(login, staff, patient, client):
    login(staff[Role.NURSE])
    client.get(f"/patients/{patient.pk}/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert AuditEntry.objects.filter(action="patient.view").latest("seq").ip == "203.0.113.9"
