"""The file storages: every file saved is encrypted (`common.filecrypt`), every file opened is decrypted
and authenticated, so the media folder, its backups and a stolen disk hold no readable patient files.

Settings pick one (STORAGES["default"]): EncryptedFileSystemStorage on servers, EncryptedInMemoryStorage
in tests. Code keeps using `default_storage` and FileFields as before; only the views that check the
reader's permission open these files (intake consent PDF, bulk export download).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InMemoryStorage

from dermatox.common import filecrypt

PARTIAL = ".dx-partial"


class EncryptedStorageMixin:
    def _save(self, name, content):
        ring = filecrypt.keyring_from_settings()
        if hasattr(content, "seekable") and content.seekable():
            content.seek(0)  # as File.chunks() does for the plain storages
        with tempfile.TemporaryFile() as sealed:  # only ciphertext touches the temporary file
            for piece in filecrypt.encrypt_chunks(content, ring):
                sealed.write(piece)
            sealed.seek(0)
            return super()._save(name, File(sealed, name=name))

    def _open(self, name, mode="rb"):
        if any(flag in mode for flag in "wa+"):
            raise ValueError("encrypted files are written with save(), never opened for writing")
        raw = super()._open(name, "rb")
        return File(filecrypt.open_decrypted(raw, filecrypt.keyring_from_settings()))

    def open_raw(self, name):
        """The stored (encrypted) bytes, for backups, re-encryption and tests; never served to a reader."""
        return super()._open(name, "rb")

    def replace_raw(self, name, pieces: Iterable[bytes]) -> None:
        """Replace a stored file with bytes already in their stored form. On disk the new file is renamed
        over the old one, so a crash leaves one or the other, whole."""
        try:
            path = Path(self.path(name))
        except NotImplementedError:
            data = b"".join(pieces)
            self.delete(name)
            super()._save(name, ContentFile(data))
            return
        partial = path.with_name(path.name + PARTIAL)
        with open(partial, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)

    def size(self, name):
        """The plaintext size (what a reader gets), computed from the stored size."""
        return filecrypt.plaintext_size(super().size(name))


class EncryptedFileSystemStorage(EncryptedStorageMixin, FileSystemStorage):
    pass


class EncryptedInMemoryStorage(EncryptedStorageMixin, InMemoryStorage):
    pass


@dataclass
class EncryptCounts:
    encrypted: int = 0  # were plaintext (written before encryption was enabled)
    rekeyed: int = 0  # were under an older key
    current: int = 0  # already under the current key


def _names(storage, folder: str = "") -> Iterator[str]:
    folders, files = storage.listdir(folder)
    for name in sorted(files):
        if not name.endswith(PARTIAL):
            yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from _names(storage, f"{folder}/{sub}" if folder else sub)


def encrypt_stored_files(storage) -> EncryptCounts:
    """`dermatox files encrypt`: bring every stored file under the current key. Plaintext files (from
    before encryption) are encrypted, files under a DERMATOX_FILE_KEY_OLD key re-encrypted; run it after
    enabling encryption and after each key rotation, then drop the old key. Safe to run again."""
    ring = filecrypt.keyring_from_settings()
    counts = EncryptCounts()
    for name in _names(storage):
        with storage.open_raw(name) as raw:
            head = raw.read(filecrypt.HEADER_SIZE)
        if filecrypt.is_encrypted(head) and head[4:12] == ring.current.key_id:
            counts.current += 1
            continue
        with storage.open_raw(name) as raw:
            if filecrypt.is_encrypted(head):
                with filecrypt.open_decrypted(raw, ring) as plain:
                    storage.replace_raw(name, filecrypt.encrypt_chunks(plain, ring))
                counts.rekeyed += 1
            else:
                storage.replace_raw(name, filecrypt.encrypt_chunks(raw, ring))
                counts.encrypted += 1
    return counts
