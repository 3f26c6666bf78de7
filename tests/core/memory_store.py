"""An in-memory ThreadStore: the core's decisions tested without a database. It keeps exactly
what the Gateway hands it, so a test can see what would have been written."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from intake.core.ports import OnExpired
from storage.values import Channel, ConcernInput, ConsentGiven, Contact, HeldItem, utcnow


@dataclass
class Conversation:
    id: str
    consent: ConsentGiven
    contact: Contact | None
    messages: list[tuple[str, str, str | None]]  # direction, text, turn key
    callback: bool = False
    closed: bool = False

    @property
    def contact_hash(self) -> str | None:
        return None if self.contact is None else f"{self.contact.kind}:{self.contact.value}"

    @property
    def has_contact(self) -> bool:
        return self.contact is not None


@dataclass(frozen=True)
class State:
    conversation: Conversation | None
    held: HeldItem | None


@dataclass
class MemoryStore:
    held: dict[tuple[Channel, str], HeldItem] = field(default_factory=dict)
    conversations: dict[tuple[Channel, str], Conversation] = field(default_factory=dict)
    concerns: list[ConcernInput] = field(default_factory=list)
    outbox: list[tuple[str, dict, str]] = field(default_factory=list)  # recipient, payload, ref
    replies_to: dict[str, int] = field(default_factory=dict)
    answers: dict[str, tuple[str, str]] = field(default_factory=dict)  # key: thread, body
    tallies: dict[tuple[str, str], int] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def begin(self, channel: Channel, thread_ref: str) -> AsyncIterator[MemoryTurn]:
        yield MemoryTurn(self, channel, thread_ref)

    async def raise_concern(self, concern: ConcernInput, escalate_after: timedelta) -> str:
        self.concerns.append(concern)
        return uuid.uuid4().hex

    async def find(self, channel: Channel, thread_refs: list[str], contact: Contact) -> str | None:
        for ref in thread_refs:
            conversation = self.conversations.get((channel, ref))
            held = self.held.get((channel, ref))
            if conversation and conversation.contact == contact:
                return ref
            if held and held.state == "asking_consent" and held.contact == contact:
                return ref
        return None

    async def expire(self, on_expired: OnExpired, now: datetime | None = None) -> int:
        now = now or utcnow()
        gone = [key for key, item in self.held.items() if item.expires_at <= now]
        for key in gone:
            item = self.held.pop(key)
            if item.state != "declined":
                await on_expired(MemoryTurn(self, *key), item)
        return len(gone)


@dataclass
class MemoryTurn:
    store: MemoryStore
    channel: Channel
    thread_ref: str

    @property
    def _key(self) -> tuple[Channel, str]:
        return (self.channel, self.thread_ref)

    async def state(self) -> State:
        return State(self.store.conversations.get(self._key), self.store.held.get(self._key))

    async def hold(self, *, state, ttl, contact, texts, data, previous) -> HeldItem:  # noqa: ANN001
        now = utcnow()
        expires = min(previous.expires_at, now + ttl) if previous else now + ttl
        merged = {**(previous.data if previous else {}), **data}
        item = HeldItem("h", self.channel, self.thread_ref, state, contact, tuple(texts), merged)
        self.store.held[self._key] = replace(item, created_at=now, expires_at=expires)
        return self.store.held[self._key]

    async def mark_declined(self, ttl: timedelta) -> None:
        now = utcnow()
        item = HeldItem("d", self.channel, self.thread_ref, "declined", None, ())
        self.store.held[self._key] = replace(item, created_at=now, expires_at=now + ttl)
        await self.tally("declined")

    async def release(self, outcome: str | None) -> None:
        self.store.held.pop(self._key, None)
        if outcome:
            await self.tally(outcome)

    async def open_conversation(self, consent, contact, texts, turn_keys=(), details=None) -> str:  # noqa: ANN001
        keys = list(turn_keys) + [None] * (len(texts) - len(turn_keys))
        conversation = Conversation(
            uuid.uuid4().hex,
            consent,
            contact,
            [("in", t, k) for t, k in zip(texts, keys, strict=True)],
        )
        self.store.conversations[self._key] = conversation
        self.store.held.pop(self._key, None)
        return conversation.id

    def _conversation(self, conversation_id: str) -> Conversation:
        return next(c for c in self.store.conversations.values() if c.id == conversation_id)

    async def add_message(
        self, conversation_id, body, *, direction="in", turn_key, reply_to=None
    ) -> str | None:  # noqa: ANN001
        conversation = self._conversation(conversation_id)
        if turn_key is not None and any(k == turn_key for _, _, k in conversation.messages):
            return None
        conversation.messages.append((direction, body, turn_key))
        return uuid.uuid4().hex

    async def close_conversation(self, conversation_id: str, *, withdrawn: bool = False) -> None:
        if withdrawn:
            self.store.conversations.pop(self._key, None)
            return
        self._conversation(conversation_id).closed = True

    async def request_callback(self, conversation_id: str) -> None:
        self._conversation(conversation_id).callback = True

    async def queue(
        self, recipient: str, payload: dict, purpose: str, keep_for: timedelta | None = None
    ) -> None:
        self.store.outbox.append((recipient, payload, f"{purpose}:{self.thread_ref}"))

    async def discard(self, purpose: str) -> None:
        ref = f"{purpose}:{self.thread_ref}"
        self.store.outbox = [item for item in self.store.outbox if item[2] != ref]

    async def queued(self, purpose: str) -> bool:
        return any(item[2] == f"{purpose}:{self.thread_ref}" for item in self.store.outbox)

    async def once_an_hour(self, purpose: str, about: str) -> bool:
        key = f"once:{purpose}:{about}"
        first = key not in self.store.replies_to
        self.store.replies_to[key] = 1
        return first

    async def allow_auto_reply(self, contact: Contact, per_hour: int) -> bool:
        sent = self.store.replies_to.get(contact.value, 0)
        if sent >= per_hour:
            return False
        self.store.replies_to[contact.value] = sent + 1
        return True

    async def tally(self, outcome: str) -> None:
        key = (str(self.channel), outcome)
        self.store.tallies[key] = self.store.tallies.get(key, 0) + 1

    async def remembered(self, request_key: str) -> str | None:
        found = self.store.answers.get(request_key)
        return None if found is None else found[1]

    async def remember(self, request_key: str, body: str) -> str:
        return self.store.answers.setdefault(request_key, (self.thread_ref, body))[1]

    async def forget_answers(self) -> None:
        for key in [k for k, (t, _) in self.store.answers.items() if t == self.thread_ref]:
            del self.store.answers[key]
