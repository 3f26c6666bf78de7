"""Casework on consented conversations: the advisers' queue, claiming, notes, replies, closing.

Why its own module: the console needs the conversations as advisers work them (who has one,
whether the parent is waiting for an answer, whether a safeguarding concern sits on the same
thread) without reaching into the consent gate. Every view and change writes its audit entry in
the same transaction. A parent's words are decrypted only for a member of staff who may read
them, and only when a page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.conversations import ANSWER, BODY, CONTACT, NAME, Conversations
from storage.database import Database, new_id
from storage.outbox import Outbox
from storage.tables import Concern, ConsentRecord, Conversation, Message, OutboxItem, Staff
from storage.values import Contact, utcnow

# the most serious tier of the concerns on a conversation's thread, for its badge
_RANK = case((Concern.severity == "immediate", 3), (Concern.severity == "concern", 2), else_=1)
_TIERS = {3: "immediate", 2: "concern", 1: "review"}
CALLBACK_TEXT = "The caller asked for an adviser to call them back."
MAX_TEXT = 20_000  # characters in one note or reply: refused above, never cut short


class CaseError(ValueError):
    """A casework change that cannot be made; the message says why, for the page."""


@dataclass(frozen=True)
class QueueItem:
    id: str
    channel: str
    subject: str | None  # email: the parent's first subject line
    contact: Contact | None
    created_at: datetime
    last_inbound_at: datetime | None
    claimed_by: str | None  # staff id
    claimed_by_name: str | None
    awaiting_reply: bool  # the parent wrote after anyone last answered
    concern: str | None  # the most serious open concern's tier on the same thread
    callback_requested: bool
    closed: bool


@dataclass(frozen=True)
class TimelineEntry:
    id: str
    kind: str  # "in" (the parent), "out" (to the parent), "note" (staff only), "callback"
    text: str
    at: datetime
    author: str | None  # staff name, for replies and notes
    delivery: str | None  # for a reply: queued | sent | failed


@dataclass(frozen=True)
class ConsentSummary:
    """How the parent agreed: when, how, under which wording, and in their own words."""

    method: str
    given_at: datetime
    wording_version: str
    words: str | None


@dataclass(frozen=True)
class CaseView:
    item: QueueItem
    details: dict[str, str]
    timeline: tuple[TimelineEntry, ...]
    callback_requested_at: datetime | None
    consent: ConsentSummary | None = None


class Casework:
    def __init__(self, db: Database, conversations: Conversations, outbox: Outbox) -> None:
        self._db = db
        self._cipher = db.cipher
        self._conversations = conversations
        self._outbox = outbox

    async def queue(self, limit: int = 300) -> list[QueueItem]:
        """Open casework: those waiting for an answer first (longest waiting first), then the
        rest, oldest first."""
        async with self._db.sessions() as session:
            rows = await self._rows(session, Conversation.case_closed_at.is_(None), limit)
        return sorted(rows, key=lambda q: (not q.awaiting_reply, q.last_inbound_at or q.created_at))

    async def case(self, conversation_id: str, viewer: str) -> CaseView:
        """One conversation, every entry in order; the view is audited."""
        async with self._db.transaction() as session:
            [item] = await self._rows(session, Conversation.id == conversation_id, 1) or [None]
            if item is None:
                raise LookupError(conversation_id)
            row = await session.get(Conversation, conversation_id)
            given = await session.get(ConsentRecord, row.consent_id)
            messages = (
                await session.execute(
                    select(Message, Staff.name, OutboxItem.status)
                    .outerjoin(Staff, Staff.id == Message.author_staff_id)
                    .outerjoin(OutboxItem, OutboxItem.id == Message.outbox_id)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.created_at, Message.id)
                )
            ).all()
            await audit.record(session, viewer, "conversation.view", "conversation", row.id)
        timeline = tuple(
            TimelineEntry(
                m.id,
                m.direction,
                self._cipher.open(m.body_enc, BODY, m.id),
                m.created_at,
                author,
                None if m.outbox_id is None else (status or "sent"),
            )
            for m, author, status in messages
        )
        if row.callback_requested_at is not None:  # shown in its place among the messages
            asked = TimelineEntry(
                "callback", "callback", CALLBACK_TEXT, row.callback_requested_at, None, None
            )
            timeline = tuple(sorted((*timeline, asked), key=lambda e: e.at))
        details = self._conversations.details_of(row.id, row.details_enc)
        consent = given and ConsentSummary(
            given.method,
            given.given_at,
            given.wording_version,
            self._cipher.open_optional(given.answer_enc, ANSWER, given.id),
        )
        return CaseView(item, details, timeline, row.callback_requested_at, consent)

    async def claim(self, conversation_id: str, staff_id: str) -> None:
        await self._change(
            conversation_id,
            staff_id,
            "conversation.claim",
            claimed_by=staff_id,
            claimed_at=utcnow(),
        )

    async def unclaim(self, conversation_id: str, staff_id: str) -> None:
        await self._change(
            conversation_id, staff_id, "conversation.unclaim", claimed_by=None, claimed_at=None
        )

    async def close(self, conversation_id: str, staff_id: str) -> None:
        await self._change(
            conversation_id, staff_id, "conversation.close_case", case_closed_at=utcnow()
        )

    async def reopen(self, conversation_id: str, staff_id: str) -> None:
        await self._change(conversation_id, staff_id, "conversation.reopen", case_closed_at=None)

    async def add_note(self, conversation_id: str, staff_id: str, text: str) -> str:
        text = _checked(text, "note")
        async with self._db.transaction() as session:
            await self._must_exist(session, conversation_id)
            message_id = await self._conversations.add_message(
                conversation_id, text, direction="note", author_staff_id=staff_id, session=session
            )
            await audit.record(
                session, staff_id, "conversation.note", "conversation", conversation_id
            )
        return message_id or ""

    async def reply(
        self, conversation_id: str, staff_id: str, text: str, recipient: str, payload: dict
    ) -> str:
        """The adviser's reply: kept in the conversation and queued in the outbox together, so
        it is never shown as sent without being queued, nor queued without being shown."""
        text = _checked(text, "reply")
        async with self._db.transaction() as session:
            await self._must_exist(session, conversation_id)
            outbox_id = await self._outbox.enqueue(
                "email", recipient, payload, reference=f"reply:{new_id()}", session=session
            )
            await self._conversations.add_message(
                conversation_id,
                text,
                direction="out",
                author_staff_id=staff_id,
                outbox_id=outbox_id,
                session=session,
            )
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.claimed_by.is_(None))
                .values(claimed_by=staff_id, claimed_at=utcnow())
            )
            await audit.record(
                session, staff_id, "conversation.reply", "conversation", conversation_id
            )
        return outbox_id

    async def _change(self, conversation_id: str, staff_id: str, action: str, **values) -> None:  # noqa: ANN003
        async with self._db.transaction() as session:
            done = await session.execute(
                update(Conversation).where(Conversation.id == conversation_id).values(**values)
            )
            if not done.rowcount:
                raise LookupError(conversation_id)
            await audit.record(session, staff_id, action, "conversation", conversation_id)

    async def _must_exist(self, session: AsyncSession, conversation_id: str) -> None:
        if await session.get(Conversation, conversation_id) is None:
            raise LookupError(conversation_id)

    async def _rows(self, session: AsyncSession, where, limit: int) -> list[QueueItem]:  # noqa: ANN001
        last_out = (
            select(func.max(Message.created_at))
            .where(Message.conversation_id == Conversation.id, Message.direction == "out")
            .correlate(Conversation)
            .scalar_subquery()
        )
        concern = (
            select(func.max(_RANK))
            .where(
                Concern.thread_hash == Conversation.thread_hash,
                Concern.status.in_(("open", "acknowledged")),
            )
            .correlate(Conversation)
            .scalar_subquery()
        )
        result = await session.execute(
            select(Conversation, Staff.name, last_out.label("last_out"), concern.label("tier"))
            .outerjoin(Staff, Staff.id == Conversation.claimed_by)
            .where(where)
            .order_by(Conversation.created_at)
            .limit(limit)
        )
        return [self._item(row, name, last, tier) for row, name, last, tier in result.all()]

    def _item(self, row: Conversation, name, last_out, tier) -> QueueItem:  # noqa: ANN001
        details = self._conversations.details_of(row.id, row.details_enc)
        contact = None
        if row.contact_enc is not None and row.contact_kind:
            contact = Contact(
                row.contact_kind,
                self._cipher.open(row.contact_enc, CONTACT, row.id),
                self._cipher.open_optional(row.name_enc, NAME, row.id),
            )
        inbound = row.last_inbound_at or row.created_at
        return QueueItem(
            id=row.id,
            channel=row.channel,
            subject=details.get("subject") or None,
            contact=contact,
            created_at=row.created_at,
            last_inbound_at=row.last_inbound_at,
            claimed_by=row.claimed_by,
            claimed_by_name=name,
            awaiting_reply=last_out is None or _aware(last_out) < inbound,
            concern=_TIERS.get(tier),
            callback_requested=row.callback_requested_at is not None,
            closed=row.case_closed_at is not None,
        )


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _checked(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CaseError(f"Write the {what} before sending it")
    if len(text) > MAX_TEXT:
        raise CaseError(
            f"The {what} is {len(text):,} characters long; the most is {MAX_TEXT:,}. "
            "Nothing was saved: shorten it and try again."
        )
    return text
