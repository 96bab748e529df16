"""`dermatox import` / `dermatox export`: exit codes, the report, the summary (run in-process on the test database)."""

import pytest

from dermatox.audit.models import AuditEntry
from dermatox.cli import main
from dermatox.patients.models import Patient
from dermatox.treatments.models import ExternalToxinDose

from .test_import import PATIENTS, TOXIN


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, text in {"patients": PATIENTS, "toxin": TOXIN}.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(PATIENTS + "national_id,9,X,Y,female,1990-02-30,,,,\n", encoding="utf-8")
    paths["bad"] = bad
    return paths


def test_dry_run_ok_exits_0_and_writes_nothing(clinics, files, capsys):
    assert main(["import", str(files["patients"]), "--clinic", "aaa", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "OK: 2 patients row(s) valid; would have created 2, updated 0, unchanged 0" in out
    assert Patient.objects.count() == 0


def test_dry_run_with_a_bad_row_exits_2_with_the_report(clinics, files, capsys):
    assert main(["import", str(files["bad"]), "--clinic", "aaa", "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["row 4: birth_date: not a date (YYYY-MM-DD)"]
    assert "nothing was written" in captured.err


def test_import_with_a_bad_row_writes_nothing_and_exits_2(clinics, files, capsys):
    assert main(["import", str(files["bad"]), "--clinic", "aaa"]) == 2
    assert Patient.objects.count() == 0
    assert "row 4: birth_date" in capsys.readouterr().out


def test_import_then_rerun_prints_the_summary(staff, files, capsys):
    assert main(["import", str(files["patients"]), "--clinic", "aaa"]) == 0
    assert "created 2, updated 0, unchanged 0" in capsys.readouterr().out
    assert main(["import", str(files["patients"]), "--clinic", "aaa", "--kind", "patients"]) == 0
    assert "created 0, updated 0, unchanged 2" in capsys.readouterr().out
    assert main(["import", str(files["toxin"]), "--clinic", "aaa", "--user", "physician_a"]) == 0
    assert "created 3" in capsys.readouterr().out
    assert ExternalToxinDose.objects.count() == 3
    assert AuditEntry.objects.filter(action__startswith="import.").count() == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clinic", "zzz"], "--clinic: no clinic with code 'zzz'"),
        (["--clinic", "aaa", "--user", "physician_b"], "--user: 'physician_b' is not a staff member of aaa"),
        (["--clinic", "aaa"], "--user: toxin rows are clinical records"),
    ],
)
def test_bad_options_exit_2_naming_the_option(staff, files, capsys, args, message):
    assert main(["import", str(files["toxin"]), *args]) == 2
    assert message in capsys.readouterr().err


def test_unreadable_and_non_utf8_files_exit_2(clinics, tmp_path, capsys):
    assert main(["import", str(tmp_path / "missing.csv"), "--clinic", "aaa"]) == 2
    assert "FILE: cannot read" in capsys.readouterr().err
    latin = tmp_path / "latin.csv"
    latin.write_bytes(PATIENTS.encode("cp1254"))
    assert main(["import", str(latin), "--clinic", "aaa"]) == 2
    assert capsys.readouterr().out.startswith("file: not UTF-8")


def test_export_to_stdout_and_to_a_file(staff, files, tmp_path, capsys):
    main(["import", str(files["patients"]), "--clinic", "aaa"])
    capsys.readouterr()
    assert main(["export", "patients", "--clinic", "aaa"]) == 0
    # the same columns, rows and quoting as the file imported; the phone starting with + is quoted (formula)
    exported = PATIENTS.replace(",+90 532", ",'+90 532")
    assert capsys.readouterr().out == exported
    out = tmp_path / "out.csv"
    assert main(["export", "patients", "--clinic", "aaa", "-o", str(out), "--user", "nurse_a"]) == 0
    assert out.read_text(encoding="utf-8") == exported
    assert main(["export", "toxin", "--clinic", "zzz"]) == 2
    entries = AuditEntry.objects.filter(action="export.patients", channel="cli").order_by("seq")
    assert [(e.role, e.actor_username) for e in entries] == [("system", ""), ("nurse", "nurse_a")]
    assert entries.last().detail["rows"] == 2 and len(entries.last().detail["patient_ids"]) == 2


@pytest.mark.parametrize("role", ["front_desk", "manager", "sysadmin"])
def test_export_by_a_role_that_may_not_read_clinical_records_exits_2_naming_the_rule(
    staff, files, capsys, role
):
    main(["import", str(files["patients"]), "--clinic", "aaa"])
    capsys.readouterr()
    before = AuditEntry.objects.count()
    assert main(["export", "patients", "--clinic", "aaa", "--user", f"{role}_a"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not a line of the file
    assert f"--user: '{role}_a' ({role}) may not export patients" in captured.err
    assert "(view_clinical)" in captured.err
    assert AuditEntry.objects.count() == before


def test_export_as_a_member_of_another_clinic_is_refused(staff, capsys):
    assert main(["export", "patients", "--clinic", "aaa", "--user", "physician_b"]) == 2
    assert "--user: 'physician_b' is not a staff member of aaa" in capsys.readouterr().err
