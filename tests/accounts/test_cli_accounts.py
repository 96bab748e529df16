"""`dermatox user …`, `dermatox clinic create` and `dermatox clinic second-factor`: clear messages, exit 2 on bad input, audited."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermatox.accounts.models import Membership, User
from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.cli import main
from tests.accounts.helpers import enrol
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_reset_password_prints_a_temporary_password_that_must_be_changed(staff, capsys):
    user = staff[Role.MANAGER]
    assert main(["user", "reset-password", user.username]) == 0
    temporary = capsys.readouterr().out.strip().splitlines()[-1]
    user.refresh_from_db()
    assert user.check_password(temporary) and user.must_change_password and not user.check_password(PASSWORD)
    entry = AuditEntry.objects.filter(action="auth.password_reset").latest("seq")
    assert entry.channel == "cli" and entry.role == "system"


def test_the_system_may_reset_a_user_of_several_clinics(staff, clinics, capsys):
    user = staff[Role.NURSE]
    Membership.objects.create(user=user, clinic=clinics[1], role=Role.NURSE)
    assert main(["user", "reset-password", user.username]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["user", "reset-password", "nobody"], "USERNAME: no user named 'nobody'"),
        (["user", "reset-2fa", "nobody"], "USERNAME: no user named 'nobody'"),
        (["user", "deactivate", "nobody"], "USERNAME: no user named 'nobody'"),
        (["user", "deactivate", "physician_a", "--clinic", "zzz"], "--clinic: no clinic with code 'zzz'"),
        (
            ["user", "deactivate", "physician_a", "--clinic", "bbb"],
            "--clinic: the user is not an active member",
        ),
        (["user", "reactivate", "physician_a", "--clinic", "bbb"], "--clinic: the user is not a member"),
        (["user", "sign-out", "nobody"], "USERNAME: no user named 'nobody'"),
        (["clinic", "second-factor", "zzz", "on"], "CODE: no clinic with code 'zzz'"),
    ],
)
def test_bad_input_exits_2_naming_the_argument(staff, capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_state_is_refused_by_the_parser(staff, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["clinic", "second-factor", "aaa", "maybe"])
    assert exc.value.code == 2


def test_deactivate_in_one_clinic_or_everywhere_then_reactivate(staff, clinics, capsys):
    user = staff[Role.PHYSICIAN]
    Membership.objects.create(user=user, clinic=clinics[1], role=Role.PHYSICIAN)
    assert main(["user", "deactivate", user.username, "--clinic", "aaa"]) == 0
    assert "still active elsewhere" in capsys.readouterr().out
    assert User.objects.get(pk=user.pk).is_active
    assert main(["user", "deactivate", user.username]) == 0
    assert "account disabled" in capsys.readouterr().out
    assert not User.objects.get(pk=user.pk).is_active
    assert not Membership.objects.filter(user=user, active=True).exists()
    assert main(["user", "reactivate", user.username, "--clinic", "bbb"]) == 0
    user.refresh_from_db()
    assert user.is_active and list(Membership.objects.filter(user=user, active=True)) == [
        Membership.objects.get(user=user, clinic=clinics[1])
    ]


def test_reset_2fa_and_sign_out_end_sessions(staff, clock, capsys):
    user = staff[Role.PHYSICIAN]
    enrol(user, clock)
    assert main(["user", "reset-2fa", user.username]) == 0
    assert "removed" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert main(["user", "sign-out", user.username]) == 0
    assert User.objects.get(pk=user.pk).session_epoch == 2


def test_clinic_second_factor_on_and_off(clinics, capsys):
    assert main(["clinic", "second-factor", "aaa", "on"]) == 0
    clinics[0].refresh_from_db()
    assert clinics[0].require_second_factor
    assert main(["clinic", "second-factor", "aaa", "off"]) == 0
    clinics[0].refresh_from_db()
    assert not clinics[0].require_second_factor
    assert AuditEntry.objects.filter(action="clinic.second_factor_required").count() == 2


def test_a_clinic_sets_itself_up_from_the_command_line(clinics, capsys):
    """The first step on a clinic's own server: its clinic (the demo was the only way to get one), then its
    first manager with createuser; record numbers carry the clinic's code."""
    from dermatox.accounts.models import Clinic
    from dermatox.common.context import Actor
    from dermatox.patients.services import patient_create

    argv = [
        "clinic",
        "create",
        "ist",
        "--name",
        "Işık Klinik",
        "--chain",
        "Işık",
        "--phone",
        "+90 212 000 00 00",
    ]
    assert main(argv) == 0
    assert "record numbers start at IST-000001" in capsys.readouterr().out
    clinic = Clinic.objects.get(code="ist")
    assert (clinic.name, clinic.chain.name, clinic.phone) == ("Işık Klinik", "Işık", "+90 212 000 00 00")
    assert AuditEntry.objects.filter(action="clinic.create", detail__code="ist").count() == 1
    patient = patient_create(
        actor=Actor.system(clinic=clinic),
        data={
            "given_name": "Ada",
            "family_name": "Kaya",
            "sex_at_birth": "female",
            "birth_date": "1991-02-03",
        },
    )
    assert patient.mrn == "IST-000001"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["clinic", "create", "aaa", "--name", "Again"], "CODE: a clinic with code 'aaa' already exists"),
        (["clinic", "create", "no spaces!", "--name", "X"], "CODE:"),
        (["clinic", "create", "new", "--name", ""], "--name:"),
    ],
)
def test_a_clinic_that_cannot_be_created_exits_2_naming_the_argument(clinics, capsys, argv, message):
    from dermatox.accounts.models import Clinic

    before = Clinic.objects.count()
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert Clinic.objects.count() == before
