"""Erasing a parent's records at their request, and a withdrawal told to an adviser.

Why its own module: the right to erasure reaches every record of one parent (all their
conversations, found by the keyed hash of their contact, a message held for their answer, a
call-back owed), and must stop at the policy's exception: a safeguarding concern, its evidence
and chronology stay under local safeguarding procedures, and the lead is told in that
chronology. The erased words go from the database, its freed pages and the WAL; the audit keeps
only that an erasure happened, by whom and why. The consent records stay as proof that consent
was given and when it ended, without the parent's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from storage import alert_events, audit
from storage.database import Database
from storage.tables import (
    CallbackRequest,
    Concern,
    ConsentRecord,
    Conversation,
    Message,
    OutboxItem,
    PendingItem,
)
from storage.values import utcnow

MAX_REASON = 500


class ErasureError(ValueError):
    """An erasure that cannot go ahead as asked; the message says why."""


@dataclass(frozen=True)
class ErasurePlan:
    """What an erasure would remove and what it must keep: counts only, for the lead to read
    before pressing Erase."""

    conversations: tuple[str, ...]
    messages: int
    held: int
    callbacks: int
    concerns_kept: int
    open_concerns: int


class Erasure:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def plan(self, conversation_id: str) -> ErasurePlan:
        async with self._db.sessions() as s:
            return await self._plan(s, conversation_id)

    async def _plan(self, s, conversation_id: str) -> ErasurePlan:  # noqa: ANN001
        row = await s.get(Conversation, conversation_id)
        if row is None:
            raise LookupError(conversation_id)
        if row.contact_hash:  # this parent's records: every conversation from that contact
            found = select(Conversation.id).where(Conversation.contact_hash == row.contact_hash)
            ids = tuple(await s.scalars(found.order_by(Conversation.created_at)))
        else:
            ids = (conversation_id,)
        threads = select(Conversation.thread_hash).where(Conversation.id.in_(ids))
        concerns = (
            await s.execute(
                select(Concern.status).where(
                    (Concern.conversation_id.in_(ids)) | (Concern.thread_hash.in_(threads))
                )
            )
        ).all()
        messages = await s.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id.in_(ids))
        )
        held = callbacks = 0
        if row.contact_hash:
            held = await s.scalar(
                select(func.count())
                .select_from(PendingItem)
                .where(PendingItem.contact_hash == row.contact_hash)
            )
            callbacks = await s.scalar(
                select(func.count())
                .select_from(CallbackRequest)
                .where(CallbackRequest.phone_hash == row.contact_hash)
            )
        return ErasurePlan(
            ids,
            int(messages or 0),
            int(held or 0),
            int(callbacks or 0),
            len(concerns),
            sum(1 for (status,) in concerns if status in ("open", "acknowledged")),
        )

    async def erase(
        self, conversation_id: str, staff_id: str, reason: str, *, withdrawn: bool = False
    ) -> ErasurePlan:
        """Erase this parent's records (or, `withdrawn`, the one conversation whose consent
        the parent took back by telling an adviser). POLICY EXCEPTION: concerns are kept."""
        reason = " ".join((reason or "").split())
        if not reason:
            raise ErasureError("Enter the reason for the erasure")
        if len(reason) > MAX_REASON:
            raise ErasureError(f"The reason must be {MAX_REASON} characters or fewer")
        now = utcnow()
        async with self._db.transaction() as s:
            plan = await self._plan(s, conversation_id)
            if withdrawn:
                await withdraw(s, conversation_id, staff_id, reason)
            else:
                await self._erase_parent(s, plan, conversation_id, staff_id, reason, now)
        await self._db.erase_freed_pages()
        return plan

    async def _erase_parent(  # noqa: PLR0913
        self,
        s,
        plan: ErasurePlan,
        conversation_id: str,
        staff_id: str,
        reason: str,
        now,  # noqa: ANN001
    ) -> None:
        ids = plan.conversations
        rows = list(await s.scalars(select(Conversation).where(Conversation.id.in_(ids))))
        threads = [r.thread_hash for r in rows]
        kept = list(
            await s.scalars(
                select(Concern.id).where(
                    (Concern.conversation_id.in_(ids)) | (Concern.thread_hash.in_(threads))
                )
            )
        )
        for concern_id in kept:  # the lead is told, in the concern's own chronology
            await alert_events.write(s, concern_id, "parent_erased", at=now)
        await s.execute(update(Concern).where(Concern.id.in_(kept)).values(conversation_id=None))
        sent = select(Message.outbox_id).where(
            Message.conversation_id.in_(ids), Message.outbox_id.is_not(None)
        )
        await s.execute(delete(OutboxItem).where(OutboxItem.id.in_(sent)))  # our replies
        await s.execute(delete(Message).where(Message.conversation_id.in_(ids)))
        await s.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        await s.execute(
            update(ConsentRecord)
            .where(ConsentRecord.id.in_([r.consent_id for r in rows]))
            .values(withdrawn_at=now, answer_enc=None)
        )
        if contact := (rows[0].contact_hash if rows else None):
            await s.execute(delete(PendingItem).where(PendingItem.contact_hash == contact))
            await s.execute(delete(CallbackRequest).where(CallbackRequest.phone_hash == contact))
        await audit.record(
            s, staff_id, "parent.erased", "conversation", conversation_id,
            reason=reason, conversations=len(ids), concerns_kept=len(kept),
        )  # fmt: skip


async def withdraw(s, conversation_id: str, actor: str, reason: str | None = None) -> int:  # noqa: ANN001
    """One conversation whose consent the parent took back (the consent page, a reply, an
    adviser told): it goes at once, with its messages and our replies still in the outbox; a
    safeguarding concern on the thread stays (POLICY EXCEPTION) and its chronology tells the
    lead; the consent record keeps only that consent was given and withdrawn. Only execute and
    scalars: it runs inside a turn too. Returns how many concerns were kept."""
    now = utcnow()
    found = select(Conversation.consent_id, Conversation.thread_hash).where(
        Conversation.id == conversation_id
    )
    if (row := (await s.execute(found)).first()) is None:
        raise LookupError(conversation_id)
    on_thread = (Concern.thread_hash == row.thread_hash) | (
        Concern.conversation_id == conversation_id
    )
    concerns = list(await s.scalars(select(Concern.id).where(on_thread)))
    await s.execute(update(Concern).where(Concern.id.in_(concerns)).values(conversation_id=None))
    for concern_id in concerns:
        await alert_events.write(s, concern_id, "consent_withdrawn", at=now)
    sent = select(Message.outbox_id).where(
        Message.conversation_id == conversation_id, Message.outbox_id.is_not(None)
    )
    await s.execute(delete(OutboxItem).where(OutboxItem.id.in_(sent)))
    await s.execute(delete(Message).where(Message.conversation_id == conversation_id))
    await s.execute(delete(Conversation).where(Conversation.id == conversation_id))
    await s.execute(
        update(ConsentRecord)
        .where(ConsentRecord.id == row.consent_id)
        .values(withdrawn_at=now, answer_enc=None)
    )
    detail = {"reason": reason} if reason else {}
    await audit.record(
        s, actor, "conversation.withdrawn", "conversation", conversation_id,
        concerns_kept=len(concerns), **detail,
    )  # fmt: skip
    return len(concerns)
