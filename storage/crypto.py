"""Field encryption and keyed look-up hashes.

Why: the database maintainer must be able to run the database without reading what parents
said, and subject access must find a person by phone or email without plaintext in the
database. Every sensitive column is AES-GCM ciphertext bound to its table and column (so a value
cannot be moved to another column undetected); look-ups go through an HMAC "blind index".
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
MIN_ENTROPY_BITS = 128
KEY_FILE_NAME = "secret.key"


class SecretKeyError(RuntimeError):
    """The secret key is missing, unreadable or too weak."""


def _derive(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(master)


@dataclass(frozen=True)
class Keyring:
    """Purpose-separated keys derived from one master secret."""

    field_key: bytes
    lookup_key: bytes
    signing_key: bytes

    @classmethod
    def from_secret(cls, secret: str | bytes) -> Keyring:
        raw = secret.encode() if isinstance(secret, str) else secret
        if len(raw) < 32:
            raise SecretKeyError("INTAKE_SECRET_KEY must be at least 32 characters long")
        if _entropy_bits(raw) < MIN_ENTROPY_BITS or _repeats(raw):
            raise SecretKeyError(
                "INTAKE_SECRET_KEY is too predictable (repeated or few different characters): "
                "use at least 32 random characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return cls(
            field_key=_derive(raw, "intake/field-encryption/v1"),
            lookup_key=_derive(raw, "intake/lookup-hash/v1"),
            signing_key=_derive(raw, "intake/signing/v1"),
        )


def _entropy_bits(raw: bytes) -> float:
    """An upper estimate of a secret's strength: its length times the Shannon entropy of its
    characters. It cannot prove a key random, but it refuses "aaaa…" and "abab…" outright."""
    counts = Counter(raw)
    total = len(raw)
    return -total * sum(c / total * math.log2(c / total) for c in counts.values())


def _repeats(raw: bytes) -> bool:
    """A key that is one short piece over and over ("0123456789" * 4)."""
    return any(raw == (raw[:p] * (len(raw) // p + 1))[: len(raw)] for p in range(1, 17))


def load_or_create_secret(data_dir: Path) -> str:
    """Read the generated secret from the data directory, creating it (mode 0600) once."""
    path = data_dir / KEY_FILE_NAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


class FieldCipher:
    """AES-GCM for one column family; ciphertext is nonce || sealed bytes."""

    def __init__(self, keyring: Keyring) -> None:
        self._aead = AESGCM(keyring.field_key)
        # keyed once: each hash copies this state instead of deriving the HMAC pads again
        self._lookup = hmac.new(keyring.lookup_key, digestmod=hashlib.sha256)

    def seal(self, plaintext: str, where: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), where.encode())

    def open(self, sealed: bytes, where: str) -> str:
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        return self._aead.decrypt(nonce, body, where.encode()).decode("utf-8")

    def seal_optional(self, plaintext: str | None, where: str) -> bytes | None:
        return None if plaintext is None else self.seal(plaintext, where)

    def open_optional(self, sealed: bytes | None, where: str) -> str | None:
        return None if sealed is None else self.open(sealed, where)

    def lookup_hash(self, kind: str, normalised_value: str) -> str:
        """Keyed hash used to find rows by a contact handle or thread reference."""
        mac = self._lookup.copy()
        mac.update(f"{kind}:{normalised_value}".encode())
        return mac.hexdigest()
