"""The second factor, password and sessions through the web pages, as a user and an attacker would use them."""

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts.models import User
from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from tests.accounts.helpers import app_code, enrol, wrong_code
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Violet-Harbour-4821"


def signed_in(user, password=PASSWORD) -> Client:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content[:400]
    return client


def require_2fa(clinic):
    clinic.require_second_factor = True
    clinic.save()


def test_nothing_changes_while_the_clinic_does_not_require_a_second_factor(staff):
    client = signed_in(staff[Role.PHYSICIAN])
    assert client.get("/patients/").status_code == 200


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.NURSE, Role.MANAGER, Role.SYSADMIN, Role.FRONT_DESK])
def test_a_required_clinic_sends_clinical_and_admin_roles_to_the_setup_first(staff, clinics, role):
    require_2fa(clinics[0])
    client = signed_in(staff[role])
    response = client.get("/evidence/")
    if role == Role.FRONT_DESK:
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response["Location"] == "/account/2fa/setup/?next=%2Fevidence%2F"
    for path in ("/patients/", "/audit/", "/account/", "/clinic/", "/account/password/", "/login/verify/"):
        assert client.get(path)["Location"].startswith("/account/2fa/setup/"), path
    assert client.get("/account/2fa/setup/").status_code == 200


def test_enrolment_on_the_page_then_recovery_codes_shown_once_then_work_once(staff, clinics, clock):
    require_2fa(clinics[0])
    user = staff[Role.PHYSICIAN]
    client = signed_in(user)
    page = client.get("/account/2fa/setup/?next=/patients/")
    html = page.content.decode()
    assert "<svg" in html and page.context["secret"] in html
    assert "no-store" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/account/2fa/setup/", {"code": app_code(device), "next": "/patients/"})
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]
    codes = done.context["codes"]
    assert len(codes) == 10 and all(c in done.content.decode() for c in codes)
    assert client.get("/patients/").status_code == 200  # this session is verified
    assert "codes" not in (client.get("/account/").context or {})  # never shown again

    clock.shift(31)
    other = signed_in(user)
    assert other.get("/patients/")["Location"] == "/login/verify/?next=%2Fpatients%2F"
    response = other.post("/login/verify/", {"code": codes[3], "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert other.get("/patients/").status_code == 200
    clock.shift(5)
    third = signed_in(user)
    again = third.post("/login/verify/", {"code": codes[3]})
    assert again.status_code == 200 and "not right" in again.content.decode()
    assert third.get("/patients/").status_code == 302


def test_an_enrolled_user_gives_the_app_code_at_every_sign_in_wherever_they_work(staff, clinics, clock):
    """Enrolled users are asked even where the clinic does not require it."""
    user = staff[Role.FRONT_DESK]
    device, _codes = enrol(user, clock)
    client = signed_in(user)
    assert client.get("/patients/")["Location"].startswith("/login/verify/")
    assert client.post("/login/verify/", {"code": app_code(device)})["Location"] == "/clinic/"
    assert client.get("/patients/").status_code == 200
    entry = AuditEntry.objects.filter(action="auth.second_factor_verified").latest("seq")
    assert entry.detail == {"method": "totp"} and entry.ip == "127.0.0.1"


def test_with_the_password_only_an_enrolled_account_cannot_set_up_another_app(staff, clock):
    user = staff[Role.PHYSICIAN]
    enrol(user, clock)
    attacker = signed_in(user)
    assert attacker.get("/account/2fa/setup/")["Location"].startswith("/login/verify/")
    response = attacker.post("/account/2fa/setup/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"].startswith("/login/verify/")
    assert TOTPDevice.objects.filter(user=user, confirmed=False).count() == 0


def test_wrong_codes_are_refused_then_locked_with_429(staff, clock):
    user = staff[Role.NURSE]
    device, _codes = enrol(user, clock)
    client = signed_in(user)
    for _n in range(4):
        clock.shift(20)
        assert client.post("/login/verify/", {"code": wrong_code(device)}).status_code == 200
    clock.shift(20)
    locked = client.post("/login/verify/", {"code": wrong_code(device)})
    assert locked.status_code == 429 and "Try again in 15 minutes" in locked.content.decode()
    clock.shift(20)
    assert client.post("/login/verify/", {"code": app_code(device)}).status_code == 429
    assert client.get("/patients/").status_code == 302
    assert AuditEntry.objects.filter(action="auth.second_factor_failed").count() == 6


def test_sign_out_everywhere_ends_the_other_session_and_keeps_this_one(staff):
    user = staff[Role.PHYSICIAN]
    here, there = signed_in(user), signed_in(user)
    assert there.get("/patients/").status_code == 200
    response = here.post("/account/sign-out-everywhere/")
    assert response["Location"] == "/account/"
    assert here.get("/patients/").status_code == 200
    gone = there.get("/patients/")
    assert gone.status_code == 302 and gone["Location"].startswith("/login/")
    assert AuditEntry.objects.filter(action="auth.signed_out_everywhere", object_id=str(user.pk)).exists()


def test_sessions_from_before_the_epoch_field_stay_valid():
    """Epoch 0 gives Django's own session hash, so deploying this does not sign everybody out."""
    user = User(username="x")
    user.set_password(PASSWORD)
    assert user.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(user) or (
        user.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(user)
    )
    user.session_epoch = 1
    assert user.get_session_auth_hash() != AbstractBaseUser._get_session_auth_hash(user)


def test_an_admin_reset_ends_sessions_and_forces_a_new_password_at_next_sign_in(staff):
    user = staff[Role.PHYSICIAN]
    old_session = signed_in(user)
    manager = signed_in(staff[Role.MANAGER])
    page = manager.post(f"/staff/{user.pk}/reset-password/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    temporary = page.context["password"]
    assert temporary in page.content.decode()
    assert old_session.get("/patients/")["Location"].startswith("/login/")
    client = signed_in(user, temporary)
    assert client.get("/patients/")["Location"] == "/account/password/?next=%2Fpatients%2F"
    form = client.get("/account/password/")
    assert form.context["forced"]
    bad = client.post(
        "/account/password/", {"old_password": temporary, "new_password1": "short", "new_password2": "short"}
    )
    assert bad.status_code == 200 and bad.context["form"].errors["new_password1"]
    done = client.post(
        "/account/password/",
        {
            "old_password": temporary,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "next": "/patients/",
        },
    )
    assert done["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200  # this session survives its own change
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="auth.password_changed", object_id=str(user.pk)).exists()


def test_the_password_change_names_each_field_and_writes_nothing_on_bad_input(staff):
    user = staff[Role.NURSE]
    client = signed_in(user)
    response = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": "other"},
    )
    errors = response.context["form"].errors
    assert set(errors) == {"old_password", "new_password2"}  # every problem at once
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "other"},
    )
    assert set(response.context["form"].errors) == {"new_password2"}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_second_factor_comes_before_the_forced_password_change(staff, clock, actor_for):
    from dermatox.accounts.staff import password_reset

    user = staff[Role.PHYSICIAN]
    device, _codes = enrol(user, clock)
    temporary = password_reset(actor=actor_for(staff[Role.MANAGER]), user=user)
    client = signed_in(user, temporary)
    assert client.get("/account/password/")["Location"].startswith("/login/verify/")
    client.post("/login/verify/", {"code": app_code(device)})
    assert client.get("/patients/")["Location"].startswith("/account/password/")


def test_a_deactivated_user_is_signed_out_cannot_sign_in_and_their_token_is_refused(staff, clinics):
    user = staff[Role.PHYSICIAN]
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinics[0]),
        clinic=clinics[0],
        user=user,
        name="EHR",
        role="physician",
        scopes=["read"],
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert Client().get("/api/patients", **auth).status_code == 200
    session = signed_in(user)
    manager = signed_in(staff[Role.MANAGER])
    assert manager.post(f"/staff/{user.pk}/deactivate/")["Location"] == "/staff/"
    assert session.get("/patients/")["Location"].startswith("/login/")
    refused = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 200  # the form again, not a redirect into the app
    assert Client().get("/api/patients", **auth).status_code == 401
    assert manager.post(f"/staff/{user.pk}/reactivate/")["Location"] == "/staff/"
    assert signed_in(user).get("/patients/").status_code == 200


def test_a_manager_of_clinic_a_cannot_act_on_a_user_of_clinic_b(staff):
    victim = staff["physician_b"]
    manager = signed_in(staff[Role.MANAGER])
    for action in ("reset-password", "reset-second-factor", "deactivate", "reactivate"):
        assert manager.post(f"/staff/{victim.pk}/{action}/").status_code == 404, action
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD) and victim.is_active and not victim.must_change_password
    assert "physician_b" not in manager.get("/staff/").content.decode()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.PHYSICIAN, Role.NURSE])
def test_roles_without_staff_management_cannot_reach_the_staff_page(staff, role):
    client = signed_in(staff[role])
    assert client.get("/staff/").status_code == 403
    target = staff[Role.SYSADMIN]
    assert client.post(f"/staff/{target.pk}/reset-password/").status_code == 403
    assert client.post("/staff/second-factor/", {"required": "1"}).status_code == 403
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


def test_the_manager_turns_the_rule_on_and_is_then_asked_to_set_up(staff, clinics):
    manager = signed_in(staff[Role.MANAGER])
    page = manager.get("/staff/").content.decode()
    assert "Require a second factor" in page and "physician_a" in page
    assert manager.post("/staff/second-factor/", {"required": "1"})["Location"] == "/staff/"
    clinics[0].refresh_from_db()
    assert clinics[0].require_second_factor
    assert manager.get("/staff/")["Location"].startswith("/account/2fa/setup/")


def test_an_admin_second_factor_reset_sends_the_user_to_setup_again(staff, clinics, clock):
    require_2fa(clinics[0])
    user = staff[Role.PHYSICIAN]
    enrol(user, clock)
    manager_user = staff[Role.MANAGER]
    mdevice, _ = enrol(manager_user, clock)
    manager = signed_in(manager_user)
    manager.post("/login/verify/", {"code": app_code(mdevice)})
    assert "Reset second factor" in manager.get("/staff/").content.decode()
    assert manager.post(f"/staff/{user.pk}/reset-second-factor/")["Location"] == "/staff/"
    assert signed_in(user).get("/patients/")["Location"].startswith("/account/2fa/setup/")


def test_api_token_requests_are_not_asked_for_a_second_factor(staff, clinics):
    require_2fa(clinics[0])
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinics[0]),
        clinic=clinics[0],
        user=staff[Role.PHYSICIAN],
        name="EHR",
        role="physician",
        scopes=["read"],
    )
    client = signed_in(staff[Role.PHYSICIAN])  # even beside an unverified session cookie
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert client.get("/fhir/metadata").status_code == 200


def test_htmx_requests_are_told_to_navigate_to_the_step(staff, clinics):
    require_2fa(clinics[0])
    client = signed_in(staff[Role.NURSE])
    response = client.get("/patients/?q=x", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/account/2fa/setup/")


def test_the_account_page_shows_the_state_and_the_actions_in_turkish(staff, clock):
    user = staff[Role.PHYSICIAN]
    user.language = "tr"
    user.save()
    client = signed_in(user)
    page = client.get("/account/").content.decode()
    assert "Hesabım" in page and "Doğrulama uygulaması kur" in page
    enrol(user, clock)
    client = signed_in(user)
    client.post("/login/verify/", {"code": app_code(TOTPDevice.objects.get(user=user))})
    page = client.get("/account/").content.decode()
    assert "10 kurtarma kodu kaldı." in page
