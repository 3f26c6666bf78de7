"""One turn of one thread as one transaction: the unit of work the core carries out.

Why: a turn reads where its thread stands, then changes it (hold, consent, message, reply
queued); doing that in one transaction, with the thread locked, is both cheaper (one commit, one
sync to disk) and correct when several gateway processes share the database: the turns of one
thread take turns (PostgreSQL advisory lock; SQLite has a single writer), so a retry that
reaches another process sees what the first one did.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, literal_column, null, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import ThreadConversation
from storage.database import Tx
from storage.held import HeldWrites
from storage.reply_limits import advisory_key
from storage.tables import Conversation, OutboxItem, PendingItem, WebhookReplay
from storage.values import Channel, ConcernInput, ConsentGiven, Contact, HeldItem, utcnow

if TYPE_CHECKING:
    from storage.records import Records

OnExpired = Callable[["ThreadTurn", HeldItem], Awaitable[None]]
_C, _P = Conversation.__table__.c, PendingItem.__table__.c
# Where a thread stands, in one round trip: its held item and its conversation, by keyed hash.
# (For a conversation, "state" carries the contact's kind, or NULL when there is no contact.)
_STATE = union_all(
    select(
        literal_column("'held'").label("kind"),
        _P.id,
        _P.channel,
        _P.state,
        _P.payload_enc,
        _P.created_at,
        _P.expires_at,
        _P.contact_hash,
    ).where(_P.thread_hash == bindparam("key")),
    select(
        literal_column("'conversation'"),
        _C.id,
        _C.channel,
        _C.contact_kind,
        null(),
        null(),
        null(),
        _C.contact_hash,
    ).where(_C.thread_hash == bindparam("key")),
)
_R = WebhookReplay.__table__.c
# The same, with the answer kept for a request (a webhook's retry), for turns that keep one.
_STATE_AND_ANSWER = union_all(
    *_STATE.selects,
    select(
        literal_column("'answer'"),
        _R.request_hash,
        null(),
        null(),
        _R.body_enc,
        _R.created_at,
        _R.expires_at,
        null(),
    ).where(_R.request_hash == bindparam("request")),
)
TURNS_AT_ONCE = 16  # below either engine's pool of connections (storage.engine)


@dataclass(frozen=True)
class ThreadState:
    """Where a thread stands: its conversation if consented, else what is held, else nothing."""

    conversation: ThreadConversation | None
    held: HeldItem | None


class ThreadTurn:
    """The operations of one turn, all in its transaction. On SQLite (HeldWrites) a change
    whose result the turn does not read is held back and sent with the turn's next statement or
    its commit; the database's one writer's place is taken by the first trip that carries a
    change: a turn's reads do not keep other threads' turns waiting."""

    def __init__(self, records: Records, session: Tx, channel: Channel, thread_ref: str) -> None:
        self._r = records
        self._s = session
        self.channel = channel
        self.thread_ref = thread_ref
        self.purged = False  # freed pages to erase once committed
        self._prefetched: list | None = None

    async def state(self) -> ThreadState:
        """Its conversation, else what is held (unexpired): one query for both (none, when
        `remembered` read it already)."""
        rows, self._prefetched = self._prefetched, None
        if rows is None:
            key = self._r.keys.thread(self.channel, self.thread_ref)
            rows = (await self._s.execute(_STATE, {"key": key})).all()
        for row in rows:
            if row.kind == "conversation":
                found = ThreadConversation(row.id, row.contact_hash, row.state is not None)
                return ThreadState(found, None)
        held = next((r for r in rows if r.kind == "held" and r.expires_at > utcnow()), None)
        return ThreadState(
            None, None if held is None else self._r.pending.view(held, self.thread_ref)
        )

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
        await self._r.pending.release(self.channel, self.thread_ref, outcome, session=self._s)
        self.purged = True

    async def open_conversation(
        self,
        consent: ConsentGiven,
        contact: Contact | None,
        texts: tuple[str, ...],
        turn_keys: tuple[str | None, ...] = (),
        details: dict[str, str] | None = None,
    ) -> str:
        kept = {"texts": texts, "turn_keys": turn_keys, "details": details}
        return await self._r.conversations.open(consent, contact=contact, session=self._s, **kept)

    async def add_message(self, conversation_id: str, body: str, **how: str | None) -> str | None:
        """`how`: direction, turn_key and reply_to, as Conversations.add_message takes them."""
        return await self._r.conversations.add_message(
            conversation_id, body, session=self._s, **how
        )

    async def close_conversation(self, conversation_id: str, *, withdrawn: bool = False) -> None:
        """The call ended; or (withdrawn) the parent took back their consent: erased at once."""
        end = self._r.conversations.withdraw if withdrawn else self._r.conversations.close
        await end(conversation_id, session=self._s)
        self.purged = self.purged or withdrawn

    async def request_callback(self, conversation_id: str) -> None:
        await self._r.conversations.request_callback(conversation_id, session=self._s)

    async def queue(
        self, recipient: str, payload: dict, purpose: str, keep_for: timedelta | None = None
    ) -> None:
        """Queue an email to the parent, committed with the turn (never without it); with
        `keep_for`, deleted after that long even if it could not be sent."""
        ref = self.reference(purpose)
        await self._r.outbox.enqueue(
            "email", recipient, payload, reference=ref, session=self._s, keep_for=keep_for
        )

    async def discard(self, purpose: str) -> None:
        """Drop a queued email of this thread nobody needs (an unsent request)."""
        if await self._r.outbox.discard(self.reference(purpose), session=self._s):
            self.purged = True

    async def queued(self, purpose: str) -> bool:
        waiting = (OutboxItem.reference == self.reference(purpose), OutboxItem.status == "queued")
        return await self._s.scalar(select(OutboxItem.id).where(*waiting).limit(1)) is not None

    async def allow_auto_reply(self, contact: Contact, per_hour: int) -> bool:
        return await self._r.reply_limit.allow(contact, per_hour, session=self._s)

    async def once_an_hour(self, purpose: str, about: str) -> bool:
        """True the first time in an hour `about` asks (a keyed hash, kept an hour)."""
        key = self._r.keys.of("once", f"{purpose}:{self.channel}:{about}")
        return await self._r.reply_limit.allow_key(key, 1, session=self._s)

    async def tally(self, outcome: str) -> None:
        await self._r.tallies.count(self.channel, outcome, session=self._s)

    async def remembered(self, request_key: str) -> str | None:
        """The answer kept for this request, read with the thread's state in one query."""
        key = self._r.keys.thread(self.channel, self.thread_ref)
        rows = (
            await self._s.execute(_STATE_AND_ANSWER, {"key": key, "request": request_key})
        ).all()
        self._prefetched = [r for r in rows if r.kind != "answer"]
        answer = next((r for r in rows if r.kind == "answer"), None)
        if answer is None:
            return None
        return self._r.replays.open_answer(request_key, answer.payload_enc, answer.expires_at)

    async def remember(self, request_key: str, body: str) -> str:
        """The turn's last change: on SQLite it goes with the commit, in one trip."""
        return await self._r.replays.keep(request_key, self.thread_ref, body, session=self._s)

    async def forget_answers(self) -> None:
        await self._r.replays.forget_in_turn(self.thread_ref, self._s)

    def reference(self, purpose: str) -> str:
        """The keyed reference of this thread's outbound email, to find it again or drop it."""
        return self._r.keys.thread(f"outbox-{self.channel}", f"{purpose}:{self.thread_ref}")


class ThreadTurns:
    def __init__(self, records: Records) -> None:
        self._r = records
        self._db = records.db
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Turns hold pooled connections while they wait (for SQLite's one writer, or a thread's
        # advisory lock); leave some for what a turn itself needs besides (a concern raised in
        # its own transaction, a rota read) and for the workers, so every turn can finish.
        self._room = asyncio.Semaphore(TURNS_AT_ONCE)

    @contextlib.asynccontextmanager
    async def begin(self, channel: Channel, thread_ref: str) -> AsyncIterator[ThreadTurn]:
        """A turn of one thread: locked against the thread's other turns, committed at the end
        (or rolled back if the turn fails), freed pages erased after a purge."""
        key = self._r.keys.thread(channel, thread_ref)
        # A Core connection, not an ORM session: every statement of a turn is Core, and a
        # session's bookkeeping costs about half as much again per statement.
        if not self._db.is_sqlite:
            async with self._room, self._db.connection(begin=True) as conn:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(key)}
                )
                turn = ThreadTurn(self._r, conn, channel, thread_ref)
                yield turn
        else:  # one process: the thread's turns queue here; the one writer is taken at need
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = asyncio.Lock()
            async with lock, self._room, self._db.connection() as conn:
                held = HeldWrites(conn)
                turn = ThreadTurn(self._r, held, channel, thread_ref)
                try:
                    yield turn
                    await held.commit()
                except BaseException:
                    await held.rollback()
                    raise
        if turn.purged:
            await self._r.pending.erase_after_commit(wait=False)

    async def raise_concern(self, concern: ConcernInput, escalate_after: timedelta) -> str:
        """POLICY EXCEPTION: a child may be at risk, so this is kept whatever the consent state.

        Its own transaction (and connection): a concern is never lost with a turn that fails."""
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
