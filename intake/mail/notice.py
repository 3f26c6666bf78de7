"""Emailing the "Why we keep information about you" notice to a consented caller: the voice
channel's NoticeSender, through the durable outbox like every other outbound email."""

from __future__ import annotations

from collections.abc import Callable

from intake.core.wording import Wording
from intake.mail import compose
from storage.outbox import Outbox
from storage.records import Records


class EmailNotice:
    def __init__(
        self,
        records: Records,
        outbox: Outbox,
        wording: Wording,
        *,
        sender: str,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._records = records
        self._outbox = outbox
        self._wording = wording
        self._sender = sender
        self._domain = sender.rpartition("@")[2] or "localhost"
        self._on_queued = on_queued

    async def send_notice(self, conversation_id: str, address: str) -> None:
        payload = compose.notice(self._wording, sender=self._sender, domain=self._domain)
        await self._outbox.enqueue("email", address, payload, reference=f"notice:{conversation_id}")
        # The conversation shows staff (and a subject access request) what was sent, where.
        await self._records.add_message(
            conversation_id,
            f"[{self._wording['notice_title']}] emailed to {address} at the caller's request.",
            direction="out",
        )
        if self._on_queued is not None:
            self._on_queued()
