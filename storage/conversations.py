"""The consent gate and what it opens: consent records, conversations and their messages.

Why this shape: the consent gate is structural. A conversation (and so any message or contact
handle) can only be opened by handing over a ConsentGiven, built by the core when a parent said
yes; the consent record, the conversation, its first messages and the release of the pending
hold are one transaction. Nothing else in the code base writes a conversation.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.database import Database, Tx, new_id
from storage.held import HeldWrites, write
from storage.keys import LookupKeys
from storage.pending import DROP_HOLD
from storage.tables import ConsentRecord, Conversation, Message
from storage.tallies import Tallies
from storage.values import Channel, ConsentGiven, Contact, utcnow

CONTACT = "conversations.contact"
NAME = "conversations.name"
DETAILS = "conversations.details"
BODY = "messages.body"
ANSWER = "consent_records.answer"
_CONVERSATIONS = Conversation.__table__
_MESSAGES = Message.__table__
# built once; the values (and the key, as a bound parameter) come with each execution
_INSERT_CONSENT, _INSERT_CONVERSATION = insert(ConsentRecord.__table__), insert(_CONVERSATIONS)
_INSERT_MESSAGE = insert(_MESSAGES)
_TOUCH = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("conversation"))


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


@dataclass(frozen=True)
class ThreadConversation:
    """A thread's conversation as a turn needs it: no decryption, the contact by hash only."""

    id: str
    contact_hash: str | None
    has_contact: bool


class Conversations:
    def __init__(self, db: Database, keys: LookupKeys, tallies: Tallies) -> None:
        self._db = db
        self._cipher = db.cipher
        self._keys = keys
        self._tallies = tallies
        insert_once = sqlite_insert if db.is_sqlite else pg_insert
        # a redelivered turn is stored once, whichever process has it
        self._insert_turn = insert_once(_MESSAGES).on_conflict_do_nothing(
            index_elements=["conversation_id", "turn_key"]
        )

    async def open(
        self,
        consent: ConsentGiven,
        *,
        contact: Contact | None,
        texts: tuple[str, ...] | list[str] = (),
        turn_keys: tuple[str | None, ...] = (),
        details: dict[str, str] | None = None,
        actor: str = "gateway",
        session: Tx | None = None,
    ) -> str:
        """Write the consent record, the conversation and its first messages, and release the
        thread's pending hold, in one transaction (the caller's, when given). `turn_keys`, one
        per text where known, keep a redelivered message from being stored twice."""
        if not isinstance(consent, ConsentGiven):
            raise ConsentRequired("a conversation can only be opened with a consent record")
        now = utcnow()
        channel = str(consent.channel)
        thread = self._keys.thread(channel, consent.thread_ref)
        consent_id, conversation_id = new_id(), new_id()
        try:
            async with self._db.within(session) as s:
                await write(
                    s,
                    _INSERT_CONSENT,
                    dict(
                        id=consent_id,
                        channel=channel,
                        method=str(consent.method),
                        wording_version=consent.wording_version,
                        wording_text=consent.wording_text,
                        answer_enc=self._cipher.seal_optional(
                            consent.answer_words, ANSWER, consent_id
                        ),
                        given_at=consent.given_at,
                    ),
                )
                await write(
                    s,
                    _INSERT_CONVERSATION,
                    dict(
                        id=conversation_id,
                        consent_id=consent_id,
                        channel=channel,
                        thread_hash=thread,
                        contact_kind=None if contact is None else contact.kind,
                        contact_enc=None
                        if contact is None
                        else self._cipher.seal(contact.value, CONTACT, conversation_id),
                        contact_hash=None if contact is None else self._keys.contact(contact),
                        name_enc=None
                        if contact is None
                        else self._cipher.seal_optional(contact.name, NAME, conversation_id),
                        status="open",
                        created_at=now,
                        updated_at=now,
                        last_inbound_at=now,
                        details_enc=self._cipher.seal(
                            json.dumps(details or {}), DETAILS, conversation_id
                        ),
                    ),
                )
                if texts:  # held order kept: one microsecond apart
                    rows = [
                        self._message(conversation_id, text, "in", None, now + timedelta(0, 0, n))
                        for n, text in enumerate(texts)
                    ]
                    for row, key in zip(rows, turn_keys, strict=False):
                        row["turn_key"] = key
                    await write(s, _INSERT_MESSAGE, rows)
                await write(s, DROP_HOLD, {"key": thread})
                await self._tallies.count(channel, "consented", session=s)
                await audit.record(
                    s,
                    actor,
                    "conversation.open",
                    "conversation",
                    conversation_id,
                    consent_id=consent_id,
                    method=str(consent.method),
                    wording_version=consent.wording_version,
                )
        except IntegrityError:
            # The same yes, handled at the same moment elsewhere: the thread has its one
            # conversation already, and nothing of this attempt was written. (Inside a turn,
            # whose lock rules this out, the caller's transaction fails and is retried.)
            existing = None if session else await self.for_thread(channel, consent.thread_ref)
            if existing is None:
                raise
            return existing.id
        return conversation_id

    async def for_thread(
        self, channel: Channel | str, thread_ref: str, *, session: Tx | None = None
    ) -> ThreadConversation | None:
        key = self._keys.thread(channel, thread_ref)
        query = select(
            _CONVERSATIONS.c.id, _CONVERSATIONS.c.contact_hash, _CONVERSATIONS.c.contact_kind
        ).where(_CONVERSATIONS.c.thread_hash == key)
        if session is not None:
            row = (await session.execute(query)).first()
        else:
            async with self._db.sessions() as s:
                row = (await s.execute(query)).first()
        if row is None:
            return None
        return ThreadConversation(row.id, row.contact_hash, row.contact_kind is not None)

    async def id_for_thread(self, channel: Channel | str, thread_ref: str) -> str | None:
        found = await self.for_thread(channel, thread_ref)
        return None if found is None else found.id

    async def add_message(
        self,
        conversation_id: str,
        text: str,
        *,
        direction: str = "in",
        author_staff_id: str | None = None,
        turn_key: str | None = None,
        reply_to: str | None = None,
        outbox_id: str | None = None,
        session: Tx | None = None,
    ) -> str | None:
        """Add a message; None when `turn_key` says this turn was stored already. A parent's
        message puts the conversation back in the staff queue; `reply_to` (an email's
        Message-ID) is what an adviser's reply will answer."""
        now = utcnow()
        row = self._message(conversation_id, text, direction, author_staff_id, now)
        row["turn_key"], row["outbox_id"] = turn_key, outbox_id
        changes: dict = {"conversation": conversation_id, "updated_at": now}
        if direction == "in":
            changes.update(last_inbound_at=now, case_closed_at=None)
        statement = _INSERT_MESSAGE if turn_key is None else self._insert_turn
        stored = None
        async with self._db.within(session) as s:
            if reply_to:
                changes["details_enc"] = await self._details_with(s, conversation_id, reply_to)
            if isinstance(s, HeldWrites) and not s.changed:
                # a SQLite turn, one trip: the message first (its foreign key proves the
                # conversation is there), then the touch, held for the turn's next trip
                with contextlib.suppress(IntegrityError):
                    stored = await s.execute(statement, row)
                    await write(s, _TOUCH, changes)
            elif (await s.execute(_TOUCH, changes)).rowcount:
                stored = await s.execute(statement, row)
            if stored is None:
                raise ConsentRequired("no consented conversation with that id")
        return row["id"] if stored.rowcount else None

    async def _details_with(self, s: Tx, conversation_id: str, reply_to: str) -> bytes:
        sealed = await s.scalar(
            select(_CONVERSATIONS.c.details_enc).where(_CONVERSATIONS.c.id == conversation_id)
        )
        details = self.details_of(conversation_id, sealed)
        details.update(reply_to=reply_to)
        return self._cipher.seal(json.dumps(details), DETAILS, conversation_id)

    def details_of(self, conversation_id: str, sealed: bytes | None) -> dict[str, str]:
        """The subject, thread reference and Message-ID to reply to, as far as they are known."""
        if sealed is None:
            return {}
        return json.loads(self._cipher.open(sealed, DETAILS, conversation_id))

    async def request_callback(
        self, conversation_id: str, actor: str = "gateway", *, session: Tx | None = None
    ) -> None:
        """A consented caller asked an adviser to call back: it shows in the staff queue."""
        now = utcnow()
        async with self._db.within(session) as s:
            touched = await s.execute(
                _TOUCH,
                {"conversation": conversation_id, "callback_requested_at": now, "updated_at": now},
            )
            if not touched.rowcount:
                raise ConsentRequired("a call-back needs a consented conversation")
            await audit.record(s, actor, "callback.request", "conversation", conversation_id)

    async def close(
        self, conversation_id: str, actor: str = "gateway", *, session: Tx | None = None
    ) -> None:
        async with self._db.within(session) as s:
            touched = await s.execute(
                _TOUCH,
                {"conversation": conversation_id, "status": "closed", "updated_at": utcnow()},
            )
            if not touched.rowcount:
                raise NotFound(conversation_id)
            await audit.record(s, actor, "conversation.close", "conversation", conversation_id)

    async def withdraw(
        self, conversation_id: str, actor: str = "gateway", *, session: Tx | None = None
    ) -> None:
        """The parent took back their consent: erased at once, concerns kept (storage.erasure)."""
        from storage.erasure import withdraw  # erasure builds on this module

        async with self._db.within(session) as s:
            await withdraw(s, conversation_id, actor)

    async def view(self, conversation_id: str) -> ConversationView:
        async with self._db.sessions() as session:
            row = await session.get(Conversation, conversation_id)
            if row is None:
                raise NotFound(conversation_id)
            return await self.view_of(session, row)

    async def view_of(self, session: AsyncSession, row: Conversation) -> ConversationView:
        """A conversation row with its messages, decrypted."""
        messages = await session.scalars(
            select(Message)
            .where(Message.conversation_id == row.id)
            .order_by(Message.created_at, Message.id)
        )
        contact = None
        if row.contact_enc is not None and row.contact_kind:
            contact = Contact(
                row.contact_kind,
                self._cipher.open(row.contact_enc, CONTACT, row.id),
                self._cipher.open_optional(row.name_enc, NAME, row.id),
            )
        return ConversationView(
            id=row.id,
            channel=row.channel,
            status=row.status,
            contact=contact,
            consent_id=row.consent_id,
            created_at=row.created_at,
            messages=tuple(
                MessageView(
                    m.id, m.direction, self._cipher.open(m.body_enc, BODY, m.id), m.created_at
                )
                for m in messages
            ),
        )

    def _message(
        self, conversation_id: str, text: str, direction: str, author: str | None, at: datetime
    ) -> dict:
        if direction not in ("in", "out", "note"):
            raise ValueError("direction is 'in', 'out' or 'note'")
        message_id = new_id()
        return {
            "id": message_id,
            "conversation_id": conversation_id,
            "direction": direction,
            "body_enc": self._cipher.seal(text, BODY, message_id),
            "author_staff_id": author,
            "turn_key": None,
            "created_at": at,
        }
