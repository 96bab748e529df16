"""The second factor as a service: who must give it, enrolment, recovery codes, wrong codes and the lock."""

import base64
import datetime as dt

import pytest
from django.conf import settings
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts import second_factor
from dermatox.accounts.models import Membership
from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from tests.accounts.helpers import app_code, enrol, wrong_code

pytestmark = pytest.mark.django_db


def actor(user):
    return Actor(user=user, clinic=None, ip="127.0.0.1")


@pytest.mark.parametrize(
    "role, required",
    [
        (Role.PHYSICIAN, True),
        (Role.NURSE, True),
        (Role.MANAGER, True),
        (Role.SYSADMIN, True),
        (Role.FRONT_DESK, False),
    ],
)
def test_required_for_clinical_and_admin_roles_only_when_the_clinic_requires_it(
    staff, clinics, role, required
):
    user = staff[role]
    assert not second_factor.required_for(user)  # the default: not required
    clinics[0].require_second_factor = True
    clinics[0].save()
    assert second_factor.required_for(user) is required
    assert second_factor.required_for(user, clinics[0]) is required
    assert not second_factor.required_for(user, clinics[1])
    assert second_factor.status(user) == second_factor.Status(enrolled=False, required=required)


def test_a_requirement_of_another_clinic_of_the_user_counts_and_an_inactive_membership_does_not(
    staff, clinics
):
    user = staff[Role.PHYSICIAN]
    Membership.objects.create(user=user, clinic=clinics[1], role=Role.PHYSICIAN)
    clinics[1].require_second_factor = True
    clinics[1].save()
    assert second_factor.required_for(user)
    Membership.objects.filter(user=user, clinic=clinics[1]).update(active=False)
    assert not second_factor.required_for(user)


def test_enrolment_confirms_with_a_code_and_gives_ten_recovery_codes_each_working_once(staff, clock):
    user = staff[Role.PHYSICIAN]
    device, codes = enrol(user, clock)
    assert device.confirmed and len(codes) == 10 == len(set(codes))
    assert second_factor.is_enrolled(user) and second_factor.recovery_codes_left(user) == 10
    assert AuditEntry.objects.filter(action="auth.second_factor_enrolled", object_id=str(user.pk)).exists()

    used = second_factor.verify(actor=actor(user), user=user, code=codes[0].upper().replace("-", " "))
    assert used.persistent_id.startswith("otp_static")
    assert second_factor.recovery_codes_left(user) == 9
    clock.shift(2)
    with pytest.raises(InvalidInput):
        second_factor.verify(actor=actor(user), user=user, code=codes[0])
    entry = AuditEntry.objects.filter(action="auth.second_factor_verified").latest("seq")
    assert entry.detail == {"method": "recovery_code", "recovery_codes_left": 9}


def test_recovery_codes_are_stored_as_keyed_hashes_not_as_typed(staff, clock):
    user = staff[Role.NURSE]
    _device, codes = enrol(user, clock)
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    typed = {c.replace("-", "") for c in codes}
    assert len(stored) == 10 and not stored & typed and not stored & set(codes)


def test_the_app_code_signs_in_and_cannot_be_replayed(staff, clock):
    user = staff[Role.PHYSICIAN]
    device, _codes = enrol(user, clock)
    code = app_code(device)
    assert second_factor.verify(actor=actor(user), user=user, code=code) == device
    with pytest.raises(InvalidInput) as exc:
        second_factor.verify(actor=actor(user), user=user, code=code)
    assert "code" in exc.value.fields


def test_a_wrong_code_is_refused_audited_and_counted(staff, clock):
    user = staff[Role.PHYSICIAN]
    device, _codes = enrol(user, clock)
    with pytest.raises(InvalidInput):
        second_factor.verify(actor=actor(user), user=user, code=wrong_code(device))
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    entry = AuditEntry.objects.filter(action="auth.second_factor_failed").latest("seq")
    assert entry.detail == {"stage": "sign_in", "reason": "wrong_code", "failures": 1}
    # django-otp's back-off: straight after a failure even the right code waits (1 s).
    with pytest.raises(second_factor.SecondFactorLocked):
        second_factor.verify(actor=actor(user), user=user, code=app_code(device))
    clock.shift(2)
    assert second_factor.verify(actor=actor(user), user=user, code=app_code(device)) == device
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_five_wrong_codes_lock_the_second_factor_for_minutes_then_it_opens_again(staff, clock):
    user = staff[Role.PHYSICIAN]
    device, codes = enrol(user, clock)
    for n in range(settings.DERMATOX_2FA_LOCK_AFTER):
        clock.shift(20)  # past the back-off, so every guess is really tried
        with pytest.raises(
            InvalidInput if n < settings.DERMATOX_2FA_LOCK_AFTER - 1 else second_factor.SecondFactorLocked
        ):
            second_factor.verify(
                actor=actor(user), user=user, code="not-a-code" if n % 2 else wrong_code(device)
            )
    clock.shift(60)
    for right in (app_code(device), codes[0]):  # neither the app nor a recovery code gets through now
        with pytest.raises(second_factor.SecondFactorLocked) as exc:
            second_factor.verify(actor=actor(user), user=user, code=right)
    assert "minutes" in exc.value.message
    assert second_factor.recovery_codes_left(user) == 10
    clock.shift(dt.timedelta(minutes=settings.DERMATOX_2FA_LOCK_MINUTES))
    assert second_factor.verify(actor=actor(user), user=user, code=app_code(device)) == device


def test_a_new_phone_replaces_the_old_app_and_codes_only_once_confirmed(staff, clock):
    user = staff[Role.MANAGER]
    old, old_codes = enrol(user, clock)
    new = second_factor.enrol_begin(user=user)
    assert new.pk != old.pk and second_factor.enrol_begin(user=user).pk == new.pk  # same QR on reload
    assert second_factor.verify(actor=actor(user), user=user, code=app_code(old)) == old  # still works
    clock.shift(31)
    _device, new_codes = second_factor.enrol_confirm(actor=actor(user), user=user, code=app_code(new))
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [new.pk]
    clock.shift(31)
    with pytest.raises(InvalidInput):
        second_factor.verify(actor=actor(user), user=user, code=old_codes[0])
    assert set(new_codes).isdisjoint(old_codes)


def test_a_wrong_code_does_not_confirm_enrolment(staff, clock):
    user = staff[Role.PHYSICIAN]
    device = second_factor.enrol_begin(user=user)
    with pytest.raises(InvalidInput) as exc:
        second_factor.enrol_confirm(actor=actor(user), user=user, code=wrong_code(device))
    assert "code" in exc.value.fields
    assert not second_factor.is_enrolled(user)


def test_renewing_recovery_codes_voids_the_old_ones(staff, clock):
    user = staff[Role.PHYSICIAN]
    _device, old = enrol(user, clock)
    new = second_factor.recovery_codes_renew(actor=actor(user), user=user)
    with pytest.raises(InvalidInput):
        second_factor.verify(actor=actor(user), user=user, code=old[1])
    clock.shift(20)
    assert second_factor.verify(actor=actor(user), user=user, code=new[1])
    assert AuditEntry.objects.filter(action="auth.recovery_codes_renewed").exists()


def test_the_qr_code_is_an_inline_svg_of_the_otpauth_link(staff):
    device = second_factor.enrol_begin(user=staff[Role.PHYSICIAN])
    svg = second_factor.qr_svg(device)
    assert svg.startswith("<svg") and "http" not in svg.split(">", 1)[0].replace("http://www.w3.org", "")
    assert "style=" not in svg  # the Content-Security-Policy forbids inline styles
    assert device.config_url.startswith("otpauth://totp/Dermatox%3Aphysician_a?")
    typed = second_factor.typed_secret(device).replace(" ", "")
    assert base64.b32decode(typed + "=" * (-len(typed) % 8)) == device.bin_key
