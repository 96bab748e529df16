"""Issue 12 §2, encryption at rest: consent PDFs and bulk export files are stored encrypted (the bytes on
disk hold no PDF, no name, no NDJSON), the authorised views return the plaintext, a wrong or missing key
fails closed with a clear error, and `dermatox files encrypt` handles old plaintext files and key rotation."""

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import Client

from dermatox import cli
from dermatox.accounts.roles import Role
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from dermatox.common import filecrypt
from dermatox.common.filecrypt import FileDecryptError, FileKeyError, KeyRing, parse_key
from dermatox.common.storage import encrypt_stored_files
from dermatox.intake.models import IntakeForm
from dermatox.intake.services import intake_answers
from tests.intake.answers import SIGNATURE, valid_answers
from tests.pdf import pdf_text
from tests.web.test_intake_views import start_link

KEY_A, KEY_B = filecrypt.generate_key(), filecrypt.generate_key()


@pytest.fixture
def on_disk(settings, tmp_path):
    """The production storage on a real folder, so the test reads the bytes as they lie on the disk."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "dermatox.common.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    settings.DERMATOX_FILE_KEY = KEY_A
    return tmp_path


def stored_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def submit_intake(login, staff, patient) -> IntakeForm:
    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    assert Client().post(link, valid_answers()).status_code == 200
    return IntakeForm.objects.get()


def consent_url(patient, intake) -> str:
    return f"/patients/{patient.pk}/intake/{intake.pk}/pdf/"


@pytest.mark.django_db
def test_the_consent_pdf_is_encrypted_on_disk_and_served_decrypted(on_disk, staff, login, patient):
    intake = submit_intake(login, staff, patient)
    files = stored_bytes(on_disk)
    assert list(files) == [intake.consent_pdf.name]
    stored = files[intake.consent_pdf.name]
    assert stored.startswith(filecrypt.MAGIC)
    for plain in (b"%PDF", "İpek".encode(), "Şahin".encode(), b"/Type /Page"):
        assert plain not in stored
    response = login(staff[Role.NURSE]).get(consent_url(patient, intake))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF") and "İpek Şahin" in pdf_text(pdf)
    assert hashlib.sha256(pdf).hexdigest() == intake.consent_pdf_sha256  # the signed bytes, unchanged
    assert intake.consent_pdf.size == len(pdf)


@pytest.mark.django_db
def test_the_drawn_signature_is_kept_encrypted_in_the_database(settings, staff, login, patient):
    intake = submit_intake(login, staff, patient)
    stored = IntakeForm.objects.values_list("answers", flat=True).get(pk=intake.pk)["health"]["signature"]
    assert stored.startswith("dxf1:") and SIGNATURE not in stored and "M 10 100" not in stored
    assert intake_answers(intake).signature == SIGNATURE  # the review and the confirmation read it back
    settings.DERMATOX_FILE_KEY = KEY_B
    with pytest.raises(FileDecryptError, match="key that is not configured"):
        intake_answers(intake)


@pytest.mark.django_db
def test_a_wrong_key_fails_closed(on_disk, settings, staff, login, patient):
    intake = submit_intake(login, staff, patient)
    settings.DERMATOX_FILE_KEY = KEY_B  # KEY_A, which encrypted the file, is gone
    with pytest.raises(FileDecryptError, match="key that is not configured"):
        default_storage.open(intake.consent_pdf.name)
    client = login(staff[Role.NURSE])
    client.raise_request_exception = False
    response = client.get(consent_url(patient, intake))
    assert response.status_code == 500 and b"%PDF" not in response.content
    settings.DERMATOX_FILE_KEY = ""
    with pytest.raises(FileKeyError, match="DERMATOX_FILE_KEY is not set"):
        default_storage.open(intake.consent_pdf.name)


@pytest.mark.django_db
def test_the_spool_is_ciphertext_on_disk_and_reads_back_whole():
    lines = [
        f'{{"resourceType": "Patient", "name": "Şahin {n}", "id": "12345678901"}}\n'.encode()
        for n in range(9000)
    ]
    with filecrypt.SealedSpool() as spool:
        for line in lines:
            spool.write(line)
        reader = spool.plaintext()  # closing the reader closes the spool's file
        assert reader.read() == b"".join(lines)  # several full records and a last one
        spool._file.seek(0)
        on_disk = spool._file.read()
    assert len(on_disk) > len(b"".join(lines)) > 3 * filecrypt.CHUNK
    assert (
        b"resourceType" not in on_disk and "Şahin".encode() not in on_disk and b"12345678901" not in on_disk
    )


def test_a_bulk_export_writes_no_plaintext_temporary_file(monkeypatch, tmp_path, client, token, patient):
    """Every temporary file the run creates is kept (instead of deleted) and read afterwards."""
    import tempfile

    kept = []

    def keep(*args, **kwargs):
        handle = tempfile.NamedTemporaryFile(dir=tmp_path, delete=False)  # noqa: SIM115 (closed by the caller)
        kept.append(Path(handle.name))
        return handle

    secret = token(role="physician", scopes=("read", "export"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_PREFER": "respond-async"}
    assert client.get("/fhir/$export?_type=Patient", **headers).status_code == 202
    monkeypatch.setattr(tempfile, "TemporaryFile", keep)
    export_run(str(BulkExportJob.objects.get().pk))
    assert kept
    for path in kept:
        data = path.read_bytes()
        assert "Şahin".encode() not in data and b"resourceType" not in data and b"12345678901" not in data


def test_bulk_export_files_are_encrypted_on_disk_and_the_download_is_plaintext(
    on_disk,
    settings,
    client,
    token,
    patient,
    django_capture_on_commit_callbacks,
):
    secret = token(role="physician", scopes=("read", "export"))
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        "HTTP_PREFER": "respond-async",
        "HTTP_ACCEPT": "application/fhir+json",
    }
    with django_capture_on_commit_callbacks(execute=True):
        status_url = client.get("/fhir/$export?_type=Patient", **headers)["Content-Location"]
    export_run(str(BulkExportJob.objects.get().pk))
    stored = stored_bytes(on_disk)
    assert len(stored) == 1
    (ndjson,) = stored.values()
    assert ndjson.startswith(filecrypt.MAGIC)
    for plain in (b"resourceType", b'"Patient"', "Şahin".encode(), b"12345678901"):
        assert plain not in ndjson
    manifest = client.get(status_url, **headers).json()
    body = b"".join(client.get(manifest["output"][0]["url"], **headers).streaming_content).decode()
    resource = json.loads(body.splitlines()[0])
    assert resource["resourceType"] == "Patient" and resource["name"][0]["family"] == "Şahin"

    settings.DERMATOX_FILE_KEY = KEY_B  # not the key that encrypted the file: nothing of it is sent
    refused = client.get(manifest["output"][0]["url"], **headers)
    assert refused.status_code == 500 and not refused.streaming
    issue = refused.json()["issue"][0]
    assert issue["code"] == "exception" and "key that is not configured" in issue["diagnostics"]


@pytest.mark.django_db
def test_old_plaintext_files_are_refused_until_encrypted_and_keys_rotate(on_disk, settings, capsys):
    storage = storages["default"]
    # A file from before encryption, written as the old plain storage did.
    (on_disk / "consents").mkdir()
    (on_disk / "consents" / "old.pdf").write_bytes(b"%PDF-1.7 old plaintext consent")
    with pytest.raises(FileDecryptError, match="dermatox files encrypt"):
        storage.open("consents/old.pdf")
    name = storage.save("exports/new.ndjson", ContentFile(b'{"resourceType": "Patient"}\n'))

    assert cli.cmd_files_encrypt(None) == 0  # the command itself: cli.main would set Django up again
    assert (
        "1 plaintext file(s) encrypted, 0 re-encrypted from an older key, 1 already"
        in capsys.readouterr().out
    )
    assert b"%PDF" not in (on_disk / "consents" / "old.pdf").read_bytes()
    assert storage.open("consents/old.pdf").read() == b"%PDF-1.7 old plaintext consent"

    # Rotation: B becomes the key, A stays readable as an old key until the files are re-encrypted.
    settings.DERMATOX_FILE_KEY, settings.DERMATOX_FILE_KEY_OLD = KEY_B, [KEY_A]
    assert storage.open(name).read() == b'{"resourceType": "Patient"}\n'
    counts = encrypt_stored_files(storage)
    assert (counts.encrypted, counts.rekeyed, counts.current) == (0, 2, 0)
    settings.DERMATOX_FILE_KEY_OLD = []
    assert storage.open(name).read() == b'{"resourceType": "Patient"}\n'
    assert storage.open("consents/old.pdf").read() == b"%PDF-1.7 old plaintext consent"
    assert not list(on_disk.rglob("*.dx-partial"))


def test_keygen_makes_a_valid_key(capsys):
    assert cli.cmd_files_keygen(None) == 0
    assert len(parse_key(capsys.readouterr().out).secret) == 32
    for bad in ("", "short", "!" * 44, filecrypt.generate_key()[:-4]):
        with pytest.raises(FileKeyError, match="32 random bytes"):
            parse_key(bad)


RING = KeyRing(parse_key(KEY_A))


@pytest.mark.parametrize(
    "size", [0, 1, filecrypt.CHUNK - 1, filecrypt.CHUNK, filecrypt.CHUNK + 1, 3 * filecrypt.CHUNK + 7]
)
def test_round_trip_and_sizes(size):
    data = bytes(i % 251 for i in range(size))
    sealed = filecrypt.encrypt_bytes(data, RING)
    assert filecrypt.decrypt_bytes(sealed, RING) == data
    assert filecrypt.plaintext_size(len(sealed)) == size
    assert filecrypt.encrypt_bytes(data, RING) != sealed  # a fresh salt (and file key) each time


def _records(sealed: bytes) -> list[bytes]:
    out, at = [], filecrypt.HEADER_SIZE
    while at < len(sealed):
        length = int.from_bytes(sealed[at + 1 : at + 5], "big")
        out.append(sealed[at : at + 5 + length])
        at += 5 + length
    return out


def test_any_change_to_a_stored_file_fails_to_decrypt():
    data = b"x" * (2 * filecrypt.CHUNK + 10)
    sealed = filecrypt.encrypt_bytes(data, RING)
    header = sealed[: filecrypt.HEADER_SIZE]
    first, second, last = _records(sealed)
    flipped = bytearray(sealed)
    flipped[filecrypt.HEADER_SIZE + 100] ^= 1
    other_salt = header[:12] + bytes(16)
    unflagged_last = last[:1].replace(b"\x01", b"\x00") + last[1:]
    for damaged, why in (
        (bytes(flipped), "altered"),
        (header + first + second, "truncated"),  # the last record cut off
        (header + second + first + last, "altered"),  # records swapped
        (sealed + last, "after its end"),
        (other_salt + first + second + last, "altered"),  # the header changed
        (header + first + second + unflagged_last, "altered"),  # "last" flag removed
        (sealed[:-1], "altered"),
    ):
        with pytest.raises(FileDecryptError, match=why):
            filecrypt.decrypt_bytes(damaged, RING)
    with pytest.raises(FileDecryptError, match="key that is not configured"):
        filecrypt.decrypt_bytes(sealed, KeyRing(parse_key(KEY_B)))


def test_reading_streams_without_holding_the_file(monkeypatch):
    sealed = filecrypt.encrypt_bytes(b"y" * (5 * filecrypt.CHUNK), RING)
    reader = filecrypt.open_decrypted(io.BytesIO(sealed), RING)
    assert reader.read(10) == b"y" * 10 and reader.raw._number == 1  # one record decrypted so far


def test_production_refuses_to_start_without_a_file_key(tmp_path):
    """Loaded in a fresh interpreter, as a server starts (importing settings here would disturb this one)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(sys.path),
        "DERMATOX_SECRET_KEY": "x" * 50,
        "DERMATOX_ALLOWED_HOSTS": "clinic.example",
        "DERMATOX_VAR_DIR": str(tmp_path),
        "DERMATOX_AUDIT_KEY": "an-audit-key-of-more-than-thirty-two-characters",
    }
    cases = (
        ({}, "DERMATOX_FILE_KEY must be set in production"),
        ({"DERMATOX_FILE_KEY": "not-a-key"}, "DERMATOX_FILE_KEY must be 32 random bytes"),
        ({"DERMATOX_FILE_KEY": KEY_A, "DERMATOX_FILE_KEY_OLD": "bad"}, "DERMATOX_FILE_KEY_OLD must be 32"),
        ({"DERMATOX_FILE_KEY": KEY_A, "DERMATOX_FILE_KEY_OLD": KEY_B}, "started"),
    )
    for extra, expected in cases:
        run = subprocess.run(
            [sys.executable, "-c", "import dermatox.settings.production; print('started')"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=False,
        )
        assert expected in run.stdout + run.stderr, (extra, run.stderr[-500:])
