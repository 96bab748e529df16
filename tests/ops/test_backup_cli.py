"""`dermatox backup`, `backup verify` and `restore` as an operator runs them (separate processes, SQLite)."""

from tests.test_cli import run


def test_backup_verify_and_restore_from_the_command_line(tmp_path):
    assert run(tmp_path, "migrate").returncode == 0
    assert run(tmp_path, "demo", "--patients", "3").returncode == 0
    media = tmp_path / "var" / "media" / "consents"
    media.mkdir(parents=True)
    (media / "c.pdf").write_bytes(b"%PDF consent")

    made = run(tmp_path, "backup", "--to", str(tmp_path / "backups"), "--keep", "1")
    assert made.returncode == 0 and "Backup written to" in made.stdout, made.stderr
    backup = made.stdout.strip().rsplit(" ", 1)[-1]

    ok = run(tmp_path, "backup", "verify", backup)
    assert ok.returncode == 0 and "audit chain intact" in ok.stdout and "1 files intact" in ok.stdout, (
        ok.stderr
    )

    refused = run(tmp_path, "restore", backup)
    assert refused.returncode == 1 and "not empty" in refused.stderr

    fresh = {"DERMATOX_VAR_DIR": str(tmp_path / "var2")}
    restored = run(tmp_path, "restore", backup, db="restored.sqlite3", extra_env=fresh)
    assert restored.returncode == 0 and "audit chain intact" in restored.stdout, restored.stderr
    assert (tmp_path / "var2" / "media" / "consents" / "c.pdf").read_bytes() == b"%PDF consent"
    check = run(tmp_path, "audit", "verify", db="restored.sqlite3", extra_env=fresh)
    assert check.returncode == 0, check.stderr

    with open(f"{backup}/database.sqlite3", "r+b") as fh:  # one damaged byte in the dump
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    bad = run(tmp_path, "backup", "verify", backup)
    assert bad.returncode == 1 and "database.sqlite3 is missing or damaged" in bad.stderr

    assert run(tmp_path, "restore", str(tmp_path / "nope")).returncode == 2
