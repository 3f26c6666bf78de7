"""The Records repository: the one interface the core uses to keep anything about a parent.

Why this shape: the consent gate is structural. A conversation (and so any message or contact
handle) can only be opened by handing over a ConsentGiven; before that, a thread's state lives
only in the pending hold, which is encrypted, expires, and is purged so that nothing remains,
not even in SQLite's freed pages or write-ahead log.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.database import Database, new_id
from storage.tables import (
    ConsentRecord,
    Conversation,
    DailyTally,
    Message,
    PendingItem,
    utcnow,
)
from storage.values import Channel, ConsentGiven, Contact, HeldItem

PAYLOAD = "pending_items.payload"
CONTACT = "conversations.contact"
NAME = "conversations.name"
BODY = "messages.body"


class ConsentRequired(PermissionError):
    """Raised when anything tries to open a conversation without a consent record."""


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class MessageView:
    id: str
    direction: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ConversationView:
    id: str
    channel: str
    status: str
    contact: Contact | None
    consent_id: str
    created_at: datetime
    messages: tuple[MessageView, ...]


class Records:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cipher = db.cipher

    # -- hashing -------------------------------------------------------------------------------
    def thread_hash(self, channel: Channel | str, thread_ref: str) -> str:
        return self._cipher.lookup_hash("thread", f"{channel}:{thread_ref}")

    def contact_hash(self, contact: Contact) -> str:
        return self._cipher.lookup_hash(contact.kind, contact.value)

    # -- the pending hold ----------------------------------------------------------------------
    async def hold(
        self,
        channel: Channel,
        thread_ref: str,
        *,
        state: str,
        ttl: timedelta,
        contact: Contact | None = None,
        texts: tuple[str, ...] | list[str] = (),
        data: dict | None = None,
        now: datetime | None = None,
    ) -> HeldItem:
        """Keep (or replace) a thread's pre-consent state, encrypted, until `now + ttl`.

        The old row is deleted rather than updated so its ciphertext is erased by secure_delete.
        An existing row keeps its original expiry: a held item never lives past its first TTL.
        Keys of `data` replace the old row's; other keys (a channel adapter's notes, such as an
        email thread's reply details) are kept.
        """
        now = now or utcnow()
        key = self.thread_hash(channel, thread_ref)
        payload = {
            "contact": None
            if contact is None
            else {"kind": contact.kind, "value": contact.value, "name": contact.name},
            "texts": list(texts),
            "data": data or {},
        }
        async with self._db.transaction() as session:
            old = await session.scalar(select(PendingItem).where(PendingItem.thread_hash == key))
            created, expires = now, now + ttl
            if old is not None:
                created, expires = old.created_at, min(old.expires_at, now + ttl)
                if old.payload_enc is not None:
                    payload["data"] = {**self._held_view(old, thread_ref).data, **payload["data"]}
                await session.delete(old)
                await session.flush()
            row = PendingItem(
                id=new_id(),
                channel=str(channel),
                thread_hash=key,
                state=state,
                contact_hash=None if contact is None else self.contact_hash(contact),
                payload_enc=self._cipher.seal(json.dumps(payload), PAYLOAD),
                created_at=created,
                expires_at=expires,
            )
            session.add(row)
        return self._held_view(row, thread_ref)

    async def annotate_hold(
        self,
        channel: Channel,
        thread_ref: str,
        data: dict,
        within: Callable[[AsyncSession], Awaitable[object]] | None = None,
    ) -> HeldItem | None:
        """Merge a channel adapter's notes into a held item's data (its texts and contact are
        untouched); None if nothing is held for the thread. `within` runs in the same
        transaction (e.g. queueing the reply the notes record), only if the item exists."""
        key = self.thread_hash(channel, thread_ref)
        async with self._db.transaction() as session:
            row = await session.scalar(select(PendingItem).where(PendingItem.thread_hash == key))
            if row is None or row.payload_enc is None:
                return None
            payload = json.loads(self._cipher.open(row.payload_enc, PAYLOAD))
            payload["data"] = {**payload.get("data", {}), **data}
            row.payload_enc = self._cipher.seal(json.dumps(payload), PAYLOAD)
            if within is not None:
                await within(session)
        return self._held_view(row, thread_ref)

    async def held(
        self, channel: Channel, thread_ref: str, now: datetime | None = None
    ) -> HeldItem | None:
        now = now or utcnow()
        key = self.thread_hash(channel, thread_ref)
        async with self._db.sessions() as session:
            row = await session.scalar(select(PendingItem).where(PendingItem.thread_hash == key))
        if row is None or row.expires_at <= now:
            return None
        return self._held_view(row, thread_ref)

    async def held_ciphertext(self, channel: Channel, thread_ref: str) -> bytes | None:
        """The stored bytes of a held item: for tests and audits that prove a purge erased them."""
        key = self.thread_hash(channel, thread_ref)
        async with self._db.sessions() as session:
            return await session.scalar(
                select(PendingItem.payload_enc).where(PendingItem.thread_hash == key)
            )

    async def purge_held(
        self, channel: Channel, thread_ref: str, outcome: str | None = None, *, wait: bool = True
    ) -> bool:
        """Delete every row of a pending item and erase it from disk; count the outcome.

        With wait=False the erasure of freed pages runs in the background (request paths)."""
        key = self.thread_hash(channel, thread_ref)
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(PendingItem).where(PendingItem.thread_hash == key)
            )
            if outcome:
                await self._tally(session, str(channel), outcome)
        await self._erase(wait)
        return bool(result.rowcount)

    async def mark_declined(
        self, channel: Channel, thread_ref: str, ttl: timedelta, *, wait: bool = True
    ) -> None:
        """The parent said no: erase everything held for the thread, keeping only a marker (no
        contact, no text) so the rest of the call is not recorded or asked again."""
        key = self.thread_hash(channel, thread_ref)
        now = utcnow()
        async with self._db.transaction() as session:
            await session.execute(delete(PendingItem).where(PendingItem.thread_hash == key))
            session.add(
                PendingItem(
                    id=new_id(),
                    channel=str(channel),
                    thread_hash=key,
                    state="declined",
                    contact_hash=None,
                    payload_enc=None,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
            await self._tally(session, str(channel), "declined")
        await self._erase(wait)

    async def purge_expired(
        self,
        now: datetime | None = None,
        before_purge: Callable[[AsyncSession, list[HeldItem]], Awaitable[None]] | None = None,
    ) -> int:
        """Purge every held item past its TTL (a parent who never answered): tally as no_answer.

        `before_purge` sees the expired items that were still waiting for an answer (decrypted,
        thread_ref unknown) inside the purge's transaction: an adapter can queue its "nothing was
        kept" reply so that it is queued if and only if the hold is purged.
        """
        now = now or utcnow()
        async with self._db.transaction() as session:
            expired = list(
                await session.scalars(select(PendingItem).where(PendingItem.expires_at <= now))
            )
            if not expired:
                return 0
            if before_purge is not None:
                waiting = [self._held_view(r, "") for r in expired if r.state != "declined"]
                if waiting:
                    await before_purge(session, waiting)
            await session.execute(
                delete(PendingItem).where(PendingItem.id.in_([r.id for r in expired]))
            )
            for row in expired:
                if row.state != "declined":
                    await self._tally(session, row.channel, "no_answer")
        await self._db.erase_freed_pages()
        return len(expired)

    async def _erase(self, wait: bool) -> None:
        if wait:
            await self._db.erase_freed_pages()
        else:
            self._db.erase_soon()

    def _held_view(self, row: PendingItem, thread_ref: str) -> HeldItem:
        payload = json.loads(self._cipher.open(row.payload_enc, PAYLOAD)) if row.payload_enc else {}
        raw_contact = payload.get("contact")
        contact = Contact(**raw_contact) if raw_contact else None
        return HeldItem(
            id=row.id,
            channel=Channel(row.channel),
            thread_ref=thread_ref,
            state=row.state,
            contact=contact,
            texts=tuple(payload.get("texts", ())),
            data=payload.get("data", {}),
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    # -- the consent gate ----------------------------------------------------------------------
    async def open_conversation(
        self,
        consent: ConsentGiven,
        *,
        contact: Contact | None,
        texts: tuple[str, ...] | list[str] = (),
        actor: str = "gateway",
    ) -> str:
        """Write the consent record, the conversation and its first messages in one transaction,
        and release the thread's pending hold. Nothing else in the code base writes a
        conversation."""
        if not isinstance(consent, ConsentGiven):
            raise ConsentRequired("a conversation can only be opened with a consent record")
        now = utcnow()
        channel = str(consent.channel)
        thread = self.thread_hash(channel, consent.thread_ref)
        consent_row = ConsentRecord(
            id=new_id(),
            channel=channel,
            method=str(consent.method),
            wording_version=consent.wording_version,
            wording_text=consent.wording_text,
            given_at=consent.given_at,
        )
        conversation = Conversation(
            id=new_id(),
            consent_id=consent_row.id,
            channel=channel,
            thread_hash=thread,
            contact_kind=None if contact is None else contact.kind,
            contact_enc=None if contact is None else self._cipher.seal(contact.value, CONTACT),
            contact_hash=None if contact is None else self.contact_hash(contact),
            name_enc=None if contact is None else self._cipher.seal_optional(contact.name, NAME),
            status="open",
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._db.transaction() as session:
                session.add(consent_row)
                await session.flush()
                session.add(conversation)
                await session.flush()
                for n, text in enumerate(texts):  # held order kept: one microsecond apart
                    at = now + timedelta(microseconds=n)
                    session.add(self._message_row(conversation.id, text, "in", None, at))
                await session.execute(delete(PendingItem).where(PendingItem.thread_hash == thread))
                await self._tally(session, channel, "consented")
                audit.record(
                    session,
                    actor,
                    "conversation.open",
                    "conversation",
                    conversation.id,
                    consent_id=consent_row.id,
                    method=str(consent.method),
                    wording_version=consent.wording_version,
                )
        except IntegrityError:
            # The same yes, handled at the same moment elsewhere: the thread has its one
            # conversation already, and nothing of this attempt was written.
            existing = await self.conversation_for_thread(channel, consent.thread_ref)
            if existing is None:
                raise
            return existing
        return conversation.id

    async def thread_state(
        self, channel: Channel, thread_ref: str, now: datetime | None = None
    ) -> tuple[str | None, HeldItem | None]:
        """Where a thread stands, in one session: its conversation, else its pending hold."""
        now = now or utcnow()
        key = self.thread_hash(channel, thread_ref)
        async with self._db.sessions() as session:
            conversation_id = await session.scalar(
                select(Conversation.id)
                .where(Conversation.thread_hash == key)
                .order_by(Conversation.created_at.desc())
                .limit(1)
            )
            if conversation_id is not None:
                return conversation_id, None
            row = await session.scalar(select(PendingItem).where(PendingItem.thread_hash == key))
        if row is None or row.expires_at <= now:
            return None, None
        return None, self._held_view(row, thread_ref)

    async def conversation_for_thread(self, channel: Channel | str, thread_ref: str) -> str | None:
        key = self.thread_hash(channel, thread_ref)
        async with self._db.sessions() as session:
            return await session.scalar(
                select(Conversation.id)
                .where(Conversation.thread_hash == key)
                .order_by(Conversation.created_at.desc())
                .limit(1)
            )

    async def add_message(
        self,
        conversation_id: str,
        text: str,
        *,
        direction: str = "in",
        author_staff_id: str | None = None,
        turn_key: str | None = None,
    ) -> str | None:
        """Add a message; None when `turn_key` says this turn was stored already."""
        now = utcnow()
        try:
            async with self._db.transaction() as session:
                conversation = await session.get(Conversation, conversation_id)
                if conversation is None:
                    raise ConsentRequired("no consented conversation with that id")
                row = self._message_row(conversation_id, text, direction, author_staff_id, now)
                row.turn_key = turn_key
                session.add(row)
                conversation.updated_at = now
        except IntegrityError:
            if turn_key is None:
                raise
            return None  # a redelivered turn: stored once already
        return row.id

    async def request_callback(self, conversation_id: str, actor: str = "gateway") -> None:
        """A consented caller asked an adviser to call back: it shows in the staff queue."""
        async with self._db.transaction() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise ConsentRequired("a call-back needs a consented conversation")
            conversation.callback_requested_at = conversation.updated_at = utcnow()
            audit.record(session, actor, "callback.request", "conversation", conversation_id)

    async def close_conversation(self, conversation_id: str, actor: str = "gateway") -> None:
        async with self._db.transaction() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound(conversation_id)
            conversation.status, conversation.updated_at = "closed", utcnow()
            audit.record(session, actor, "conversation.close", "conversation", conversation_id)

    async def conversation(self, conversation_id: str) -> ConversationView:
        async with self._db.sessions() as session:
            row = await session.get(Conversation, conversation_id)
            if row is None:
                raise NotFound(conversation_id)
            messages = await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.created_at, Message.id)
            )
            return self._conversation_view(row, list(messages))

    def _message_row(
        self, conversation_id: str, text: str, direction: str, author: str | None, at: datetime
    ) -> Message:
        if direction not in ("in", "out"):
            raise ValueError("direction is 'in' or 'out'")
        return Message(
            id=new_id(),
            conversation_id=conversation_id,
            direction=direction,
            body_enc=self._cipher.seal(text, BODY),
            author_staff_id=author,
            created_at=at,
        )

    def _conversation_view(self, row: Conversation, messages: list[Message]) -> ConversationView:
        contact = None
        if row.contact_enc is not None and row.contact_kind:
            contact = Contact(
                row.contact_kind,
                self._cipher.open(row.contact_enc, CONTACT),
                self._cipher.open_optional(row.name_enc, NAME),
            )
        return ConversationView(
            id=row.id,
            channel=row.channel,
            status=row.status,
            contact=contact,
            consent_id=row.consent_id,
            created_at=row.created_at,
            messages=tuple(
                MessageView(m.id, m.direction, self._cipher.open(m.body_enc, BODY), m.created_at)
                for m in messages
            ),
        )

    # -- subject access ------------------------------------------------------------------------
    async def subject_access(self, contact: Contact, actor: str = "cli") -> dict:
        """Everything held about one phone number or address, decrypted, as plain data."""
        key = self.contact_hash(contact)
        async with self._db.transaction() as session:
            conversations = list(
                await session.scalars(
                    select(Conversation)
                    .where(Conversation.contact_hash == key)
                    .order_by(Conversation.created_at)
                )
            )
            result_conversations, consents = [], []
            for row in conversations:
                consent = await session.get(ConsentRecord, row.consent_id)
                if consent is not None:
                    consents.append(_consent_json(consent))
                messages = list(
                    await session.scalars(
                        select(Message)
                        .where(Message.conversation_id == row.id)
                        .order_by(Message.created_at, Message.id)
                    )
                )
                result_conversations.append(
                    _conversation_json(self._conversation_view(row, messages))
                )
            pending = list(
                await session.scalars(select(PendingItem).where(PendingItem.contact_hash == key))
            )
            held = [
                {
                    "channel": p.channel,
                    "state": p.state,
                    "held_until": p.expires_at.isoformat(),
                    "texts": list(self._held_view(p, "").texts),
                }
                for p in pending
            ]
            audit.record(
                session,
                actor,
                "subject_access",
                "contact",
                key[:16],
                conversations=len(conversations),
            )
        return {
            "contact": {"kind": contact.kind, "value": contact.value},
            "consent_records": consents,
            "conversations": result_conversations,
            "pending_hold": held,
        }

    # -- anonymous statistics ------------------------------------------------------------------
    async def tally(self, channel: Channel | str, outcome: str) -> None:
        async with self._db.transaction() as session:
            await self._tally(session, str(channel), outcome)

    async def tallies(self) -> list[tuple[date, str, str, int]]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(
                    DailyTally.day, DailyTally.channel, DailyTally.outcome, DailyTally.count
                ).order_by(DailyTally.day, DailyTally.channel, DailyTally.outcome)
            )
            return [tuple(r) for r in rows]

    async def _tally(self, session: AsyncSession, channel: str, outcome: str) -> None:
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        statement = insert(DailyTally).values(
            day=utcnow().date(), channel=channel, outcome=outcome, count=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=["day", "channel", "outcome"],
            set_={"count": DailyTally.count + 1},
        )
        await session.execute(statement)


def _consent_json(row: ConsentRecord) -> dict:
    return {
        "id": row.id,
        "channel": row.channel,
        "method": row.method,
        "wording_version": row.wording_version,
        "wording_text": row.wording_text,
        "given_at": row.given_at.isoformat(),
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
    }


def _conversation_json(view: ConversationView) -> dict:
    return {
        "id": view.id,
        "channel": view.channel,
        "status": view.status,
        "consent_id": view.consent_id,
        "created_at": view.created_at.isoformat(),
        "contact": None
        if view.contact is None
        else {"kind": view.contact.kind, "value": view.contact.value, "name": view.contact.name},
        "messages": [
            {"direction": m.direction, "text": m.text, "at": m.created_at.isoformat()}
            for m in view.messages
        ],
    }
