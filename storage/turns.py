"""One turn of one thread as one transaction: the unit of work the core carries out.

Why: a turn reads where its thread stands, then changes it (hold, consent, message, reply
queued); doing that in one transaction, with the thread locked, is both cheaper (one commit, one
sync to disk) and correct when several gateway processes share the database: the turns of one
thread take turns (PostgreSQL advisory lock; SQLite has a single writer), so a retry that
reaches another process sees what the first one did.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import ThreadConversation
from storage.reply_limits import advisory_key
from storage.tables import Conversation, OutboxItem, PendingItem
from storage.values import Channel, ConcernInput, ConsentGiven, Contact, HeldItem, utcnow

if TYPE_CHECKING:
    from storage.records import Records

OnExpired = Callable[["ThreadTurn", HeldItem], Awaitable[None]]


@dataclass(frozen=True)
class ThreadState:
    """Where a thread stands: its conversation if consented, else what is held, else nothing."""

    conversation: ThreadConversation | None
    held: HeldItem | None


class ThreadTurn:
    """The operations of one turn, all in its transaction."""

    def __init__(
        self, records: Records, session: AsyncSession, channel: Channel, thread_ref: str
    ) -> None:
        self._r = records
        self._s = session
        self.channel = channel
        self.thread_ref = thread_ref
        self.purged = False  # freed pages to erase once committed

    async def state(self) -> ThreadState:
        conversation = await self._r.conversations.for_thread(
            self.channel, self.thread_ref, session=self._s
        )
        if conversation is not None:
            return ThreadState(conversation, None)
        return ThreadState(
            None, await self._r.pending.held(self.channel, self.thread_ref, session=self._s)
        )

    def contact_key(self, contact: Contact) -> str:
        return self._r.keys.contact(contact)

    async def hold(
        self,
        *,
        state: str,
        ttl: timedelta,
        contact: Contact | None,
        texts: tuple[str, ...] | list[str],
        data: dict,
        previous: HeldItem | None,
    ) -> HeldItem:
        return await self._r.pending.hold(
            self.channel,
            self.thread_ref,
            state=state,
            ttl=ttl,
            contact=contact,
            texts=texts,
            data=data,
            session=self._s,
            previous=previous,
        )

    async def mark_declined(self, ttl: timedelta) -> None:
        await self._r.pending.mark_declined(self.channel, self.thread_ref, ttl, session=self._s)
        self.purged = True

    async def release(self, outcome: str | None) -> None:
        """Delete what is held (a hang-up), counting the outcome."""
        await self._r.pending.purge(self.channel, self.thread_ref, outcome, session=self._s)
        self.purged = True

    async def open_conversation(
        self,
        consent: ConsentGiven,
        contact: Contact | None,
        texts: tuple[str, ...],
        turn_keys: tuple[str | None, ...] = (),
    ) -> str:
        return await self._r.conversations.open(
            consent, contact=contact, texts=texts, turn_keys=turn_keys, session=self._s
        )

    async def add_message(
        self, conversation_id: str, body: str, *, direction: str = "in", turn_key: str | None
    ) -> str | None:
        return await self._r.conversations.add_message(
            conversation_id, body, direction=direction, turn_key=turn_key, session=self._s
        )

    async def close_conversation(self, conversation_id: str) -> None:
        await self._r.conversations.close(conversation_id, session=self._s)

    async def request_callback(self, conversation_id: str) -> None:
        await self._r.conversations.request_callback(conversation_id, session=self._s)

    async def queue(self, recipient: str, payload: dict, purpose: str) -> None:
        """Queue an email to the parent, committed with the turn (never without it)."""
        await self._r.outbox.enqueue(
            "email", recipient, payload, reference=self.reference(purpose), session=self._s
        )

    async def discard(self, purpose: str) -> None:
        """Drop a queued email of this thread nobody needs any more (an unsent request)."""
        if await self._r.outbox.discard(self.reference(purpose), session=self._s):
            self.purged = True

    async def queued(self, purpose: str) -> bool:
        found = await self._s.scalar(
            select(OutboxItem.id)
            .where(OutboxItem.reference == self.reference(purpose), OutboxItem.status == "queued")
            .limit(1)
        )
        return found is not None

    async def allow_auto_reply(self, contact: Contact, per_hour: int) -> bool:
        return await self._r.reply_limit.allow(contact, per_hour, session=self._s)

    async def tally(self, outcome: str) -> None:
        await self._r.tallies.count(self.channel, outcome, session=self._s)

    async def remember(self, request_key: str, body: str) -> str:
        return await self._r.replays.keep(request_key, self.thread_ref, body, session=self._s)

    async def forget_answers(self) -> None:
        await self._r.replays.forget_call(self.thread_ref, session=self._s)

    def reference(self, purpose: str) -> str:
        return outbox_reference(self._r, self.channel, purpose, self.thread_ref)


def outbox_reference(records: Records, channel: Channel, purpose: str, thread_ref: str) -> str:
    """The keyed reference of a thread's outbound email, so it can be found again or dropped."""
    return records.keys.thread(f"outbox-{channel}", f"{purpose}:{thread_ref}")


class ThreadTurns:
    def __init__(self, records: Records) -> None:
        self._r = records
        self._db = records.db

    @contextlib.asynccontextmanager
    async def begin(self, channel: Channel, thread_ref: str) -> AsyncIterator[ThreadTurn]:
        """A turn of one thread: locked against the thread's other turns, committed at the end
        (or rolled back if the turn fails), freed pages erased after a purge."""
        async with self._db.transaction() as session:
            if not self._db.is_sqlite:
                key = advisory_key(self._r.keys.thread(channel, thread_ref))
                await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            turn = ThreadTurn(self._r, session, channel, thread_ref)
            yield turn
        if turn.purged:
            await self._r.pending.erase_after_commit(wait=False)

    async def raise_concern(self, concern: ConcernInput, escalate_after: timedelta) -> str:
        """POLICY EXCEPTION: a child may be at risk, so this is kept whatever the consent state.

        Its own transaction, before the turn's: a concern is never lost with a turn that fails."""
        async with self._db.transaction() as session:
            found = await self._r.conversations.for_thread(
                concern.channel, concern.thread_ref, session=session
            )
            if found is not None:
                concern = dataclasses.replace(concern, conversation_id=found.id)
            return await self._r.concerns.raise_concern(concern, escalate_after, session=session)

    async def find(self, channel: Channel, thread_refs: list[str], contact: Contact) -> str | None:
        """The first of `thread_refs` that is this contact's conversation, or their thread still
        waiting for an answer; matched by keyed hash, nothing decrypted. Another person's thread
        with the same reference is a separate enquiry: not found."""
        if not thread_refs:
            return None
        by_key = {self._r.keys.thread(channel, ref): ref for ref in thread_refs}
        contact_key = self._r.keys.contact(contact)
        async with self._db.sessions() as session:
            found = set(
                await session.scalars(
                    select(Conversation.thread_hash).where(
                        Conversation.thread_hash.in_(by_key),
                        Conversation.contact_hash == contact_key,
                    )
                )
            )
            found |= set(
                await session.scalars(
                    select(PendingItem.thread_hash).where(
                        PendingItem.thread_hash.in_(by_key),
                        PendingItem.contact_hash == contact_key,
                        PendingItem.state == "asking_consent",
                        PendingItem.expires_at > utcnow(),
                    )
                )
            )
        return next((ref for key, ref in by_key.items() if key in found), None)

    async def expire(self, on_expired: OnExpired, now: datetime | None = None) -> int:
        """Purge every hold past its TTL; `on_expired` sees each one still waiting for an
        answer, as a turn of its thread inside the purge's transaction (a channel's "nothing was
        kept" reply is queued if and only if the hold is purged)."""

        async def before_purge(session: AsyncSession, items: list[HeldItem]) -> None:
            for item in items:
                thread_ref = str(item.data.get("thread") or "")
                if thread_ref:
                    item = dataclasses.replace(item, thread_ref=thread_ref)
                await on_expired(ThreadTurn(self._r, session, item.channel, thread_ref), item)

        return await self._r.pending.purge_expired(now, before_purge=before_purge)
