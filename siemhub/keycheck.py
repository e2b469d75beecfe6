"""Pure checks of FIELD_ENCRYPTION_KEY, usable from settings before Django is set up."""

from __future__ import annotations

from cryptography.fernet import Fernet


class EncryptionKeyError(RuntimeError):
    """The configured FIELD_ENCRYPTION_KEY is missing, malformed or wrong for this database."""


def validate_keys(keys: list[str]) -> list[Fernet]:
    """Fernet objects for ``keys`` or EncryptionKeyError with a sentence an operator can act on."""
    keys = [k for k in keys if k]
    if not keys:
        raise EncryptionKeyError(
            "FIELD_ENCRYPTION_KEY is not set. Generate one with: python -c \"from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())\" and put it in the environment or .env"
        )
    fernets = []
    for index, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise EncryptionKeyError(
                f"FIELD_ENCRYPTION_KEY entry {index} is not a valid Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return fernets
