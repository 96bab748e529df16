"""`dermatox files keygen|encrypt`: encryption of stored files (consent PDFs, bulk exports)."""

from __future__ import annotations

from dermatox.cli._common import _err


def cmd_files_keygen(args) -> int:
    """A new key for DERMATOX_FILE_KEY (pure: prints it, stores nothing)."""
    from dermatox.common.filecrypt import generate_key

    print(generate_key())
    return 0


def cmd_files_encrypt(args) -> int:
    """Every stored file under the current DERMATOX_FILE_KEY (docs/security/encryption.md)."""
    from django.core.files.storage import storages

    from dermatox.common.filecrypt import FileDecryptError, FileKeyError
    from dermatox.common.storage import EncryptedStorageMixin, encrypt_stored_files

    storage = storages["default"]
    if not isinstance(storage, EncryptedStorageMixin):
        return _err("the file storage in STORAGES['default'] does not encrypt: nothing to do")
    try:
        counts = encrypt_stored_files(storage)
    except (FileKeyError, FileDecryptError) as exc:
        return _err(str(exc), 1)
    print(
        f"OK: {counts.encrypted} plaintext file(s) encrypted, {counts.rekeyed} re-encrypted from an older "
        f"key, {counts.current} already under the current key."
    )
    return 0
