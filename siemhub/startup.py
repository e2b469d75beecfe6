"""Start-up self-check of ``FIELD_ENCRYPTION_KEY``.

django-encrypted-model-fields swallows decryption errors and returns the ciphertext as if it
were the secret; with a wrong key siemhub would then send ciphertext as a token (and saving
would double-encrypt). So every process refuses to start unless the configured keys decrypt
what is already stored.
"""

from __future__ import annotations

import sys

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.db import DatabaseError, connection

from siemhub.keycheck import EncryptionKeyError, validate_keys

CANARY_PLAINTEXT = "siemhub-encryption-canary-v1"


def configured_crypter() -> MultiFernet:
    raw = getattr(settings, "FIELD_ENCRYPTION_KEY", None)
    keys = [raw] if isinstance(raw, str) else list(raw or ())
    return MultiFernet(validate_keys(keys))


def _table_exists(name: str) -> bool:
    return name in connection.introspection.table_names()


def verify_encryption_key() -> None:
    """Raise EncryptionKeyError unless the keys are well-formed and decrypt the stored data."""
    crypter = configured_crypter()
    try:
        if not _table_exists("integrations_encryptioncanary"):
            return  # not migrated yet: nothing stored to check against
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM integrations_encryptioncanary ORDER BY id LIMIT 1")
            row = cursor.fetchone()
            stored = [row[0]] if row else []
            cursor.execute(
                "SELECT secrets FROM integrations_integration WHERE secrets IS NOT NULL AND secrets <> '' LIMIT 20"
            )
            stored += [r[0] for r in cursor.fetchall()]
    except DatabaseError:
        return  # database unreachable: the process fails on its own, with a clearer error
    for ciphertext in stored:
        try:
            crypter.decrypt(ciphertext.encode())
        except InvalidToken as exc:
            raise EncryptionKeyError(
                "FIELD_ENCRYPTION_KEY cannot decrypt the secrets stored in this database: it is the wrong key, "
                "or the key that encrypted them was removed. For rotation set FIELD_ENCRYPTION_KEY=new,old."
            ) from exc
    if not row:
        from integrations.models import EncryptionCanary

        EncryptionCanary.objects.create(value=CANARY_PLAINTEXT)


def verify_encryption_key_or_exit(exit_code: int = 78) -> None:
    """Exit with ``exit_code`` unless the key is right. WSGI passes 4: gunicorn treats a worker
    exiting with 4 (APP_LOAD_ERROR) as fatal and stops, instead of rebooting it forever."""
    try:
        verify_encryption_key()
    except EncryptionKeyError as exc:
        sys.stderr.write(f"siemhub: refusing to start: {exc}\n")
        raise SystemExit(exit_code) from exc
