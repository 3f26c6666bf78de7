"""Twilio retries a webhook it thinks failed, and a slow network can deliver one twice, to any
gateway process. Each step of a call has its own URL (a step number in the query), so a repeat
of the same signed request is recognised by its fingerprint and answered with the TwiML kept
for it (the durable record is storage's, behind this Protocol), and is not processed again."""

from __future__ import annotations

import hashlib
from typing import Protocol

from multidict import MultiDictProxy


class ReplayRecord(Protocol):
    def request_key(self, fingerprint: str) -> str: ...

    async def answer_for(self, request_key: str) -> str | None: ...

    async def keep(self, request_key: str, call_ref: str, body: str) -> str: ...

    async def forget_call(self, call_ref: str) -> int: ...


def fingerprint(path_qs: str, form: MultiDictProxy[str]) -> str:
    """One request's identity: its URL and every posted field."""
    digest = hashlib.sha256(path_qs.encode())
    for name, value in sorted(form.items()):
        digest.update(b"\x00" + name.encode() + b"\x01" + str(value).encode())
    return digest.hexdigest()
