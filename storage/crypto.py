"""Field encryption and keyed look-up hashes.

Why: the database maintainer must be able to run the database without reading what parents
said, and subject access must find a person by phone or email without plaintext in the
database. Every sensitive column is AES-GCM ciphertext that names the key it was sealed under
(so the key can be rotated) and is bound to its table, column and row (so a value cannot be
moved to another column or row undetected); look-ups go through an HMAC "blind index".

A sealed value is: version byte, 4-byte key id, 12-byte nonce, ciphertext and tag. Values
written before key ids existed (nonce first, bound to the column only) are still read, and
`intake rotate-key` rewrites them in the current form.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_ID_BYTES = 4
VERSION = b"\x01"
HEADER_BYTES = len(VERSION) + KEY_ID_BYTES
MIN_ENTROPY_BITS = 128
KEY_FILE_NAME = "secret.key"
OLD_KEY_FILE_NAME = "secret.key.old"  # the key being retired by `intake rotate-key`


class SecretKeyError(RuntimeError):
    """The secret key is missing, unreadable or too weak."""


def _derive(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(master)


@dataclass(frozen=True)
class FieldKey:
    """One secret key's field-encryption key and the id that names it in ciphertexts. The id
    is derived, so it says which key without revealing anything about it."""

    id: bytes
    key: bytes = field(repr=False)

    @classmethod
    def from_master(cls, raw: bytes) -> FieldKey:
        return cls(
            id=_derive(raw, "intake/key-id/v1")[:KEY_ID_BYTES],
            key=_derive(raw, "intake/field-encryption/v1"),
        )

    @property
    def label(self) -> str:
        return self.id.hex()


@dataclass(frozen=True)
class Keyring:
    """Purpose-separated keys: field keys (the first seals, every one opens) and the look-up
    and signing keys. Look-up and signing keys are first derived from the secret key and then
    kept in the database sealed like any field (storage.key_material), so rotating the secret
    key changes neither the blind index nor links already sent."""

    field_keys: tuple[FieldKey, ...]
    lookup_key: bytes = field(repr=False)
    signing_key: bytes = field(repr=False)

    @property
    def current(self) -> FieldKey:
        return self.field_keys[0]

    @property
    def previous(self) -> tuple[FieldKey, ...]:
        return self.field_keys[1:]

    @classmethod
    def from_secret(cls, secret: str | bytes, previous: Sequence[str | bytes] = ()) -> Keyring:
        """The current secret must be strong; previous ones (being retired) need only open."""
        raw = _raw(secret)
        if len(raw) < 32:
            raise SecretKeyError("INTAKE_SECRET_KEY must be at least 32 characters long")
        if _entropy_bits(raw) < MIN_ENTROPY_BITS or _repeats(raw):
            raise SecretKeyError(
                "INTAKE_SECRET_KEY is too predictable (repeated or few different characters): "
                "use at least 32 random characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        keys = [FieldKey.from_master(raw)]
        for old in previous:
            key = FieldKey.from_master(_raw(old))
            if key.id not in {k.id for k in keys}:
                keys.append(key)
        return cls(
            field_keys=tuple(keys),
            lookup_key=_derive(raw, "intake/lookup-hash/v1"),
            signing_key=_derive(raw, "intake/signing/v1"),
        )

    def with_index_keys(self, lookup_key: bytes, signing_key: bytes) -> Keyring:
        return replace(self, lookup_key=lookup_key, signing_key=signing_key)


def _raw(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


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


def new_key_file(data_dir: Path) -> bool:
    """Begin a rotation of the generated key: the current key moves to secret.key.old and a new
    one takes its place. False when a rotation has already begun (so a rerun resumes it)."""
    current, old = data_dir / KEY_FILE_NAME, data_dir / OLD_KEY_FILE_NAME
    existing = load_or_create_secret(data_dir)
    if read_old_secret(data_dir) not in (None, existing):
        return False
    if not old.exists():
        os.link(current, old)  # the old key is never absent from disk, even after a crash
    fresh = current.with_name(f".{KEY_FILE_NAME}.{os.getpid()}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    os.replace(fresh, current)
    return True


def retire_old_key_file(data_dir: Path) -> None:
    (data_dir / OLD_KEY_FILE_NAME).unlink(missing_ok=True)


def read_old_secret(data_dir: Path) -> str | None:
    """The generated key being retired, while `intake rotate-key` has one."""
    try:
        return (data_dir / OLD_KEY_FILE_NAME).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


class FieldCipher:
    """AES-GCM for every sensitive column, and the keyed look-up hash."""

    def __init__(self, keyring: Keyring) -> None:
        self._current = keyring.current
        self._sealer = AESGCM(keyring.current.key)
        self._openers = {k.id: AESGCM(k.key) for k in keyring.field_keys}
        # keyed once: each hash copies this state instead of deriving the HMAC pads again
        self._lookup = hmac.new(keyring.lookup_key, digestmod=hashlib.sha256)

    @property
    def key_id(self) -> bytes:
        """The id of the key new values are sealed under."""
        return self._current.id

    def seal(self, plaintext: str, column: str, row: str) -> bytes:
        """Seal a value for one column ("table.column") of one row (its primary key)."""
        header = VERSION + self._current.id
        nonce = os.urandom(NONCE_BYTES)
        aad = header + f"{column}:{row}".encode()
        return header + nonce + self._sealer.encrypt(nonce, plaintext.encode("utf-8"), aad)

    def open(self, sealed: bytes, column: str, row: str) -> str:
        """The plaintext, or InvalidTag when the value was altered, moved, or sealed under a
        key this process does not hold."""
        opener = self._openers.get(sealed[1:HEADER_BYTES]) if sealed[:1] == VERSION else None
        if opener is not None:
            header, nonce = sealed[:HEADER_BYTES], sealed[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
            body = sealed[HEADER_BYTES + NONCE_BYTES :]
            try:
                plain = opener.decrypt(nonce, body, header + f"{column}:{row}".encode())
                return plain.decode("utf-8")
            except InvalidTag:
                pass  # a value from before key ids can begin with the same bytes
        return self._open_unversioned(sealed, column)

    def _open_unversioned(self, sealed: bytes, column: str) -> str:
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        for opener in self._openers.values():
            try:
                return opener.decrypt(nonce, body, column.encode()).decode("utf-8")
            except InvalidTag:
                continue
        raise InvalidTag()

    def is_current(self, sealed: bytes) -> bool:
        """Whether a value is already sealed, in the current form, under the current key."""
        return sealed[:HEADER_BYTES] == VERSION + self._current.id

    def seal_optional(self, plaintext: str | None, column: str, row: str) -> bytes | None:
        return None if plaintext is None else self.seal(plaintext, column, row)

    def open_optional(self, sealed: bytes | None, column: str, row: str) -> str | None:
        return None if sealed is None else self.open(sealed, column, row)

    def lookup_hash(self, kind: str, normalised_value: str) -> str:
        """Keyed hash used to find rows by a contact handle or thread reference."""
        mac = self._lookup.copy()
        mac.update(f"{kind}:{normalised_value}".encode())
        return mac.hexdigest()
