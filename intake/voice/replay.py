"""Twilio retries a webhook it thinks failed, and a slow network can deliver one twice. Each
step of a call has its own URL (a step number in the query), so a repeat of the same signed
request is answered with the same TwiML and is not processed again."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from multidict import MultiDictProxy


class ReplayCache:
    def __init__(self, ttl_seconds: float = 900, max_entries: int = 20_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    @staticmethod
    def key(path_qs: str, form: MultiDictProxy[str]) -> str:
        digest = hashlib.sha256(path_qs.encode())
        for name, value in sorted(form.items()):
            digest.update(b"\x00" + name.encode() + b"\x01" + str(value).encode())
        return digest.hexdigest()

    def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, body = entry
        if time.monotonic() - stored_at > self._ttl:
            del self._entries[key]
            return None
        return body

    def put(self, key: str, body: str) -> None:
        self._entries[key] = (time.monotonic(), body)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
