"""Staff administration as services: resets, deactivation, the clinic's rule, and who may act on whom."""

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts import second_factor
from dermatox.accounts import staff as staff_admin
from dermatox.accounts.models import Membership, User
from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import TokenRejected, api_token_create, token_actor
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from tests.accounts.helpers import enrol
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(staff, actor_for):
    return actor_for(staff[Role.MANAGER])


def test_a_password_reset_gives_a_temporary_password_and_forces_a_change(manager, staff):
    user = staff[Role.PHYSICIAN]
    epoch = user.session_epoch
    password = staff_admin.password_reset(actor=manager, user=user)
    user.refresh_from_db()
    assert user.check_password(password) and user.must_change_password
    assert user.session_epoch == epoch + 1
    assert len(password) == 23
    entry = AuditEntry.objects.filter(action="auth.password_reset").latest("seq")
    assert entry.object_id == str(user.pk) and password not in str(entry.detail)


def test_a_manager_cannot_touch_a_user_of_another_clinic(manager, staff):
    other = staff["physician_b"]
    for action in (
        lambda: staff_admin.password_reset(actor=manager, user=other),
        lambda: second_factor.second_factor_reset(actor=manager, user=other),
        lambda: staff_admin.member_deactivate(actor=manager, user=other),
        lambda: staff_admin.member_reactivate(actor=manager, user=other),
    ):
        with pytest.raises(NotFound):
            action()
    other.refresh_from_db()
    assert other.is_active and not other.must_change_password
    assert Membership.objects.get(user=other).active


def test_account_wide_resets_need_a_manager_of_every_clinic_of_the_user(manager, staff, clinics, actor_for):
    """A password opens every clinic of the user: a manager of one clinic must not take over the others."""
    both = staff[Role.NURSE]
    Membership.objects.create(user=both, clinic=clinics[1], role=Role.NURSE)
    with pytest.raises(PermissionDenied) as exc:
        staff_admin.password_reset(actor=manager, user=both)
    assert "another clinic" in exc.value.message
    with pytest.raises(PermissionDenied):
        second_factor.second_factor_reset(actor=manager, user=both)
    # A manager of both clinics may, and so may the system (the command line).
    Membership.objects.create(user=manager.user, clinic=clinics[1], role=Role.MANAGER)
    assert staff_admin.password_reset(actor=manager, user=both)
    assert staff_admin.password_reset(actor=Actor.system(), user=both)
    # Deactivation is per clinic, so the manager of clinic A may end the nurse's work there.
    staff_admin.member_deactivate(actor=actor_for(staff[Role.MANAGER], clinics[0]), user=both)
    both.refresh_from_db()
    assert both.is_active  # still works in clinic B
    assert not Membership.objects.get(user=both, clinic=clinics[0]).active


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK])
def test_roles_without_manage_staff_are_refused(staff, actor_for, role):
    who = actor_for(staff[role])
    target = staff[Role.SYSADMIN]
    with pytest.raises(PermissionDenied):
        staff_admin.password_reset(actor=who, user=target)
    with pytest.raises(PermissionDenied):
        staff_admin.member_deactivate(actor=who, user=target)
    with pytest.raises(PermissionDenied):
        staff_admin.clinic_second_factor_set(actor=who, clinic=who.clinic, required=True)


def test_nobody_resets_or_deactivates_themselves_here(manager):
    for action in ("reset_password", "reset_second_factor", "deactivate"):
        assert staff_admin.refusal(manager, manager.user, action)
    with pytest.raises(PermissionDenied):
        staff_admin.member_deactivate(actor=manager, user=manager.user)


def test_deactivation_disables_the_account_its_sign_in_and_its_api_tokens(manager, staff, clinics):
    user = staff[Role.PHYSICIAN]
    _token, secret = api_token_create(
        actor=manager, clinic=clinics[0], user=user, name="EHR", role="physician", scopes=["read"]
    )
    assert token_actor(secret, scope="read").user == user
    staff_admin.member_deactivate(actor=manager, user=user)
    user.refresh_from_db()
    assert not user.is_active and user.session_epoch == 1
    with pytest.raises(TokenRejected):
        token_actor(secret, scope="read")
    entry = AuditEntry.objects.filter(action="accounts.member_deactivated").latest("seq")
    assert entry.detail == {"clinics": ["aaa"], "account_disabled": True}
    staff_admin.member_reactivate(actor=manager, user=user)
    user.refresh_from_db()
    assert user.is_active and token_actor(secret, scope="read").user == user


def test_a_second_factor_reset_removes_app_and_codes_and_ends_sessions(manager, staff, clock):
    user = staff[Role.PHYSICIAN]
    enrol(user, clock)
    second_factor.second_factor_reset(actor=manager, user=user)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert User.objects.get(pk=user.pk).session_epoch == 1
    assert AuditEntry.objects.get(action="auth.second_factor_reset").detail == {"was_enrolled": True}


def test_the_clinic_rule_is_set_by_its_own_managers_only(manager, clinics, staff):
    staff_admin.clinic_second_factor_set(actor=manager, clinic=clinics[0], required=True)
    clinics[0].refresh_from_db()
    assert clinics[0].require_second_factor
    with pytest.raises(PermissionDenied):
        staff_admin.clinic_second_factor_set(actor=manager, clinic=clinics[1], required=True)
    assert AuditEntry.objects.filter(action="clinic.second_factor_required").count() == 1


def test_the_staff_list_shows_only_the_clinic_and_its_reasons(manager, staff, clinics):
    from dermatox.accounts.selectors import staff_of_clinic

    make_user("extra_b", clinics[1], Role.NURSE)
    rows = staff_of_clinic(manager)
    names = {r.membership.user.username for r in rows}
    assert names == {f"{role}_a" for role in Role.values}
    mine = next(r for r in rows if r.membership.user == manager.user)
    assert (
        mine.refusals["deactivate"]
        and not next(r for r in rows if r.membership.user == staff[Role.PHYSICIAN]).refusals["reset_password"]
    )
