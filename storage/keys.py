"""Keyed look-up hashes: how rows are found by a thread, a contact or a request without any
plaintext in the database (a subject access request, a thread's next turn, a webhook retry)."""

from __future__ import annotations

from storage.crypto import FieldCipher
from storage.values import Channel, Contact


class LookupKeys:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def thread(self, channel: Channel | str, thread_ref: str) -> str:
        return self._cipher.lookup_hash("thread", f"{channel}:{thread_ref}")

    def contact(self, contact: Contact) -> str:
        return self._cipher.lookup_hash(contact.kind, contact.value)

    def of(self, kind: str, value: str) -> str:
        """Any other keyed hash (an outbox reference, a webhook request), named by its kind."""
        return self._cipher.lookup_hash(kind, value)
