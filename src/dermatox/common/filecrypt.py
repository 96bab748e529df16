"""Files at rest, encrypted: AES-256-GCM in authenticated chunks, with a key from the environment.

Consent PDFs, bulk export files and (later) photos hold patient data; a copied disk, backup or media
folder must not give them away (issue 12 §2, HIPAA §164.312(a)(2)(iv)). The storage
(`common.storage`) encrypts on save and decrypts on open; only the views that check the reader's
permission open these files. docs/security/encryption.md describes the key and the format.

Key: DERMATOX_FILE_KEY, 32 random bytes in URL-safe base64 (`dermatox files keygen`). Older keys that
may still have encrypted files: DERMATOX_FILE_KEY_OLD (comma-separated); `dermatox files encrypt`
rewrites every file under the current key, after which the old key can go.

Format (version 1), streamable so a large export is never held in memory whole:
    header  = b"DXF1" | key id (8 bytes) | salt (16 bytes)
    records = flag (1 byte: 0 more, 1 last) | length (4 bytes, big-endian) | AES-GCM ciphertext + tag
The file key is HKDF-SHA256(master key, salt), so no two files share a key; record n uses the nonce n;
the header and the flag are authenticated with each record, so swapping, reordering, truncating or
appending records, or changing any byte, fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dermatox.common.errors import CommonCode, DermatoxError

MAGIC = b"DXF1"
HEADER_SIZE = len(MAGIC) + 8 + 16
CHUNK = 64 * 1024
_RECORD_HEAD = struct.Struct(">BI")
RECORD_OVERHEAD = _RECORD_HEAD.size + 16  # flag, length, GCM tag


class FileKeyError(Exception):
    """The key configuration is missing or malformed (raised at start-up in production)."""


class FileDecryptError(DermatoxError):
    """A stored file cannot be decrypted: plaintext, an unknown key, or damaged. Nothing of it is served;
    the REST and FHIR edges answer 500 with this message, the web its error page."""

    code = CommonCode.STORED_FILE_UNREADABLE
    http_status = 500


@dataclass(frozen=True)
class FileKey:
    secret: bytes

    @property
    def key_id(self) -> bytes:
        """Names the key in each file's header without revealing it, so the right key is picked."""
        return hashlib.sha256(b"dermatox-file-key-id" + self.secret).digest()[:8]


def parse_key(text: str, *, setting: str = "DERMATOX_FILE_KEY") -> FileKey:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise FileKeyError(
            f"{setting} must be 32 random bytes in URL-safe base64 (44 characters); "
            "make one with `dermatox files keygen`"
        )
    return FileKey(raw)


def development_key() -> str:
    """!!! DEVELOPMENT AND TEST ONLY !!! A fixed key derived from a constant in this public source:
    files encrypted with it are readable by anyone who has the code. settings/dev.py and test.py use it
    so a laptop runs without setup; production refuses to start without its own DERMATOX_FILE_KEY."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"dermatox-development-file-key").digest()).decode()


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class KeyRing:
    """The current key (encrypts) and the older ones (still decrypt)."""

    current: FileKey
    older: tuple[FileKey, ...] = ()

    def find(self, key_id: bytes) -> FileKey:
        for key in (self.current, *self.older):
            if key.key_id == key_id:
                return key
        raise FileDecryptError(
            f"this file was encrypted with a key that is not configured (key id {key_id.hex()}): "
            "set that key as DERMATOX_FILE_KEY or DERMATOX_FILE_KEY_OLD"
        )


def keyring_from_settings() -> KeyRing:
    from django.conf import settings

    current = getattr(settings, "DERMATOX_FILE_KEY", "")
    if not current:
        raise FileKeyError("DERMATOX_FILE_KEY is not set: stored files cannot be encrypted or read")
    older = tuple(
        parse_key(k, setting="DERMATOX_FILE_KEY_OLD") for k in getattr(settings, "DERMATOX_FILE_KEY_OLD", ())
    )
    return KeyRing(parse_key(current), older)


def _file_aead(key: FileKey, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"dermatox-file-v1").derive(
        key.secret
    )
    return AESGCM(derived)


def _nonce(number: int) -> bytes:
    return number.to_bytes(12, "big")


def encrypt_chunks(source, ring: KeyRing) -> Iterator[bytes]:
    """The encrypted form of a readable binary file, piece by piece (header first)."""
    salt = secrets.token_bytes(16)
    header = MAGIC + ring.current.key_id + salt
    aead = _file_aead(ring.current, salt)
    yield header
    number = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if len(chunk) == CHUNK else b""
        last = not following
        flag = 1 if last else 0
        sealed = aead.encrypt(_nonce(number), chunk, header + bytes([flag]))
        yield _RECORD_HEAD.pack(flag, len(sealed)) + sealed
        if last:
            return
        number += 1
        chunk = following


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the plaintext; each record is authenticated before any of it is returned."""

    def __init__(self, raw, ring: KeyRing):
        super().__init__()
        self._raw = raw
        header = _read_exactly(raw, HEADER_SIZE)
        try:
            if len(header) < HEADER_SIZE or not is_encrypted(header):
                raise FileDecryptError(
                    "this stored file is not encrypted (written before encryption was enabled?): "
                    "run `dermatox files encrypt` to encrypt existing files"
                )
            key = ring.find(header[4:12])
        except FileDecryptError:
            raw.close()
            raise
        self._header = header
        self._aead = _file_aead(key, header[12:])
        self._number = 0
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer and not self._done:
            self._buffer = self._next_record()
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _next_record(self) -> bytes:
        head = _read_exactly(self._raw, _RECORD_HEAD.size)
        if len(head) < _RECORD_HEAD.size:
            raise FileDecryptError("this stored file is truncated (its last part is missing)")
        flag, length = _RECORD_HEAD.unpack(head)
        if flag not in (0, 1) or length > CHUNK + 16:
            raise FileDecryptError("this stored file is damaged (bad record)")
        sealed = _read_exactly(self._raw, length)
        try:
            plain = self._aead.decrypt(_nonce(self._number), sealed, self._header + bytes([flag]))
        except InvalidTag:
            raise FileDecryptError(
                "this stored file cannot be decrypted: it was altered, or the key is wrong"
            ) from None
        self._number += 1
        if flag == 1:
            self._done = True
            if self._raw.read(1):
                raise FileDecryptError("this stored file is damaged (data after its end)")
        return plain

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _read_exactly(raw, size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = raw.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def open_decrypted(raw, ring: KeyRing) -> io.BufferedReader:
    return io.BufferedReader(DecryptingReader(raw, ring), buffer_size=CHUNK)


def plaintext_size(encrypted_size: int) -> int:
    """The plaintext length of an encrypted file of this many bytes (every record but the last is full)."""
    body = encrypted_size - HEADER_SIZE
    records = max(1, -(-body // (CHUNK + RECORD_OVERHEAD)))
    return max(0, body - records * RECORD_OVERHEAD)


def encrypt_bytes(data: bytes, ring: KeyRing) -> bytes:
    return b"".join(encrypt_chunks(io.BytesIO(data), ring))


def decrypt_bytes(data: bytes, ring: KeyRing) -> bytes:
    with open_decrypted(io.BytesIO(data), ring) as fh:
        return fh.read()


SEALED_TEXT = "dxf1:"


def seal_text(text: str) -> str:
    """A short secret kept in the database (the intake's drawn signature) in the same format as the files:
    `dxf1:` and URL-safe base64 of the encrypted bytes."""
    sealed = encrypt_bytes(text.encode("utf-8"), keyring_from_settings())
    return SEALED_TEXT + base64.urlsafe_b64encode(sealed).decode("ascii")


def open_text(value: str) -> str:
    """The text of `seal_text`. A value without the prefix was stored before sealing and is returned as
    it is (rows in the database are covered by the database's disk encryption, docs/security/encryption.md)."""
    if not value.startswith(SEALED_TEXT):
        return value
    try:
        sealed = base64.urlsafe_b64decode(value[len(SEALED_TEXT) :].encode("ascii"))
    except (binascii.Error, ValueError):
        raise FileDecryptError("this sealed value is damaged (not base64)") from None
    return decrypt_bytes(sealed, keyring_from_settings()).decode("utf-8")


class SealedSpool:
    """A temporary file for plaintext that is written once and read back once (a bulk export being built
    before it goes to storage). On disk it is in the stored-file format under a random key that lives only
    in this object, so not even the temporary file holds patient data in the clear."""

    def __init__(self):
        import tempfile

        self._ring = KeyRing(FileKey(secrets.token_bytes(32)))
        salt = secrets.token_bytes(16)
        self._header = MAGIC + self._ring.current.key_id + salt
        self._aead = _file_aead(self._ring.current, salt)
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close() or the with block)
        self._file.write(self._header)
        self._pending = bytearray()
        self._number = 0

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        flag = 1 if last else 0
        sealed = self._aead.encrypt(_nonce(self._number), bytes(chunk), self._header + bytes([flag]))
        self._file.write(_RECORD_HEAD.pack(flag, len(sealed)) + sealed)
        self._number += 1

    def write(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) > CHUNK:  # more follows this chunk, so it is not the last record
            self._seal(self._pending[:CHUNK], last=False)
            del self._pending[:CHUNK]

    def plaintext(self) -> io.BufferedReader:
        """Finish writing; the plaintext, read from the start."""
        self._seal(self._pending, last=True)
        self._pending = bytearray()
        self._file.seek(0)
        return open_decrypted(self._file, self._ring)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SealedSpool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
