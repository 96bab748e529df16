"""Second-factor test helpers: the code an authenticator app would show now, and an enrolled user."""

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts import second_factor
from dermatox.common.context import Actor


def app_code(device: TOTPDevice) -> str:
    """What the user's phone shows at this moment (the clock may be moved by time_machine)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that are not the current code nor its neighbours (the tolerance accepts ±1 step)."""
    accepted = {
        f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=d):06d}"
        for d in (device.drift - 1, device.drift, device.drift + 1)
    }
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def enrol(user, clock) -> tuple[TOTPDevice, list[str]]:
    """Set up an app for `user` and move the clock past that code's 30 s step (a code works once)."""
    actor = Actor(user=user, clinic=None)
    device = second_factor.enrol_begin(user=user)
    device, codes = second_factor.enrol_confirm(actor=actor, user=user, code=app_code(device))
    clock.shift(31)
    device.refresh_from_db()
    return device, codes
