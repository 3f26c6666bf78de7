"""What the core needs from storage and from the channels, as small Protocols.

Why: the core decides and the stores keep; the Gateway is written against these, so a unit test
can hand it an in-memory store, and a channel can be added without the core knowing its
protocol. storage.turns satisfies ThreadStore; a channel that writes back (email) supplies a
ReplyComposer.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

from storage.values import Channel, ConcernInput, ConsentGiven, Contact, HeldItem


class Purpose(enum.StrEnum):
    """Why the core writes to a parent; the channel's composer chooses the words."""

    CONSENT_REQUEST = "consent"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    EXPIRED = "expired"
    NOTICE = "notice"
    NOTHING_HELD = "nothing_held"  # a bare yes or no to a thread that no longer exists
    CHECK_ANSWER = "check_answer"  # a reply we could not read as yes or no: did you mean yes?
    REMINDER = "reminder"  # the one reminder before an unanswered hold expires
    WITHDRAWN = "withdrawn"  # a consented parent took consent back by replying: all erased


# The outbox reference each purpose is queued under: a thread's reply replaces nothing, and an
# unsent consent request can be found and dropped.
REFERENCE = {
    Purpose.CONSENT_REQUEST: "consent",
    Purpose.ACKNOWLEDGED: "reply",
    Purpose.DECLINED: "reply",
    Purpose.EXPIRED: "reply",
    Purpose.NOTICE: "notice",
    Purpose.NOTHING_HELD: "reply",
    Purpose.CHECK_ANSWER: "check",
    Purpose.REMINDER: "check",
    Purpose.WITHDRAWN: "reply",
}


class ReplyComposer(Protocol):
    """A channel's words for the core's replies (an email's headers, subject and body)."""

    def compose(
        self,
        purpose: Purpose,
        thread_ref: str,
        first: Mapping[str, str],
        latest: Mapping[str, str] | None,
        expires_at: datetime | None,
    ) -> dict: ...


class ThreadConversationView(Protocol):
    id: str
    contact_hash: str | None
    has_contact: bool


class ThreadStateView(Protocol):
    conversation: ThreadConversationView | None
    held: HeldItem | None


class TurnStore(Protocol):
    """One turn of one thread, as one transaction with the thread locked."""

    async def state(self) -> ThreadStateView: ...

    async def hold(
        self,
        *,
        state: str,
        ttl: timedelta,
        contact: Contact | None,
        texts: tuple[str, ...] | list[str],
        data: dict,
        previous: HeldItem | None,
    ) -> HeldItem: ...

    async def mark_declined(self, ttl: timedelta) -> None: ...

    async def release(self, outcome: str | None) -> None: ...

    async def open_conversation(
        self,
        consent: ConsentGiven,
        contact: Contact | None,
        texts: tuple[str, ...],
        turn_keys: tuple[str | None, ...] = (),
        details: dict[str, str] | None = None,
    ) -> str: ...

    async def add_message(
        self,
        conversation_id: str,
        body: str,
        *,
        direction: str = "in",
        turn_key: str | None,
        reply_to: str | None = None,
    ) -> str | None: ...

    async def close_conversation(
        self, conversation_id: str, *, withdrawn: bool = False
    ) -> None: ...

    async def request_callback(self, conversation_id: str) -> None: ...

    async def queue(
        self, recipient: str, payload: dict, purpose: str, keep_for: timedelta | None = None
    ) -> None: ...

    async def discard(self, purpose: str) -> None: ...

    async def queued(self, purpose: str) -> bool: ...

    async def allow_auto_reply(self, contact: Contact, per_hour: int) -> bool: ...

    async def once_an_hour(self, purpose: str, about: str) -> bool: ...

    async def tally(self, outcome: str) -> None: ...

    async def remembered(self, request_key: str) -> str | None:
        """The answer kept for this request by an earlier turn, if any."""
        ...

    async def remember(self, request_key: str, body: str) -> str:
        """Keep the answer to a request with the turn; returns the answer to give (the one
        kept first, when another process answered the same request at the same moment)."""
        ...

    async def forget_answers(self) -> None:
        """The thread has ended: the answers kept for its requests go."""
        ...


class CallbackStore(Protocol):
    """Call-backs owed to callers who said no to a record (storage.callbacks)."""

    async def keep(self, consent: ConsentGiven, phone: Contact) -> str: ...


OnExpired = Callable[[TurnStore, HeldItem], Awaitable[None]]


class ThreadStore(Protocol):
    def begin(
        self, channel: Channel, thread_ref: str
    ) -> AbstractAsyncContextManager[TurnStore]: ...

    async def raise_concern(self, concern: ConcernInput, escalate_after: timedelta) -> str: ...

    async def find(
        self, channel: Channel, thread_refs: list[str], contact: Contact
    ) -> str | None: ...

    async def expire(self, on_expired: OnExpired, now: datetime | None = None) -> int: ...
