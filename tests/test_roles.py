"""The permission table, against the issue's words (clinic roles)."""

import pytest

from dermatox.accounts.roles import ROLE_PERMISSIONS, Perm, Role, role_has


def test_only_physicians_sign_treatment_plans():
    assert [r for r in Role.values if role_has(r, Perm.SIGN_PLAN)] == [Role.PHYSICIAN]


def test_nurses_chart_administrations_front_desk_does_not():
    assert role_has(Role.NURSE, Perm.CHART_ADMINISTRATION)
    assert not role_has(Role.FRONT_DESK, Perm.CHART_ADMINISTRATION)


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER, Role.SYSADMIN])
def test_non_clinical_roles_never_see_clinical_content(role):
    assert not role_has(role, Perm.VIEW_CLINICAL)


def test_front_desk_sees_demographics_and_appointments():
    assert role_has(Role.FRONT_DESK, Perm.VIEW_DEMOGRAPHICS)
    assert role_has(Role.FRONT_DESK, Perm.VIEW_APPOINTMENTS)


def test_every_role_has_an_entry_and_unknown_roles_have_nothing():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    assert not role_has(None, Perm.VIEW_DEMOGRAPHICS)
    assert not role_has("wizard", Perm.VIEW_DEMOGRAPHICS)
