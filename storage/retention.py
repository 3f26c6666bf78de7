"""Retention: closed conversations and decided safeguarding concerns are erased once their
periods have passed (INTAKE_RETENTION_DAYS, INTAKE_CONCERN_RETENTION_DAYS).

Why this shape: the notice "Why we keep information about you" promises that records go a set
time after we last hear from a parent, so the promise is kept by the service itself (the purge
worker) as well as on demand (`intake purge`). A conversation goes only once staff have closed
its case and the parent has been silent for the whole period; it is erased as a withdrawal
erases it: the messages, the casework (which cascades) and any adviser reply still in the
outbox go; a safeguarding concern on the thread stays, unlinked (the policy's exception, with
its own period); the consent record keeps only that consent was given and under which wording.
A concern goes only once the lead has recorded a decision on it and its own, longer period has
passed: an open or merely acknowledged concern is never purged. Each purge is audited with ids
and counts only, and on SQLite the freed pages and the WAL are erased afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from storage import alert_events, audit
from storage.database import Database
from storage.tables import Concern, ConsentRecord, Conversation, Message, OutboxItem
from storage.values import utcnow

BATCH = 200  # conversations or concerns erased per transaction


@dataclass(frozen=True)
class RetentionPlan:
    """What a purge erases (or, for a dry run, would erase): ids only, never content."""

    conversations: tuple[str, ...] = ()
    concerns: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.conversations) + len(self.concerns)


class Retention:
    """The retention periods applied to one database; a period of None keeps everything."""

    def __init__(
        self, db: Database, conversation_days: int | None, concern_days: int | None
    ) -> None:
        self._db = db
        self._conversation_days = conversation_days
        self._concern_days = concern_days

    async def due(self, now: datetime | None = None) -> RetentionPlan:
        """What is past its period now: the dry run."""
        now = now or utcnow()
        async with self._db.sessions() as session:
            conversations = await self._due_conversations(session, now)
            concerns = await self._due_concerns(session, now)
        return RetentionPlan(tuple(conversations), tuple(concerns))

    async def purge(self, now: datetime | None = None, actor: str = "retention") -> RetentionPlan:
        """Erase everything past its period, in small transactions, each audited."""
        now = now or utcnow()
        plan = await self.due(now)
        for start in range(0, len(plan.conversations), BATCH):
            await self._erase_conversations(plan.conversations[start : start + BATCH], now, actor)
        for start in range(0, len(plan.concerns), BATCH):
            await self._erase_concerns(plan.concerns[start : start + BATCH], now, actor)
        if plan.total:
            await self._db.erase_freed_pages()
        return plan

    async def purge_count(self) -> int:
        """For the purge worker: how many rows went this time."""
        return (await self.purge()).total

    async def _due_conversations(self, session, now: datetime) -> list[str]:  # noqa: ANN001
        if not self._conversation_days:
            return []
        cutoff = now - timedelta(days=self._conversation_days)
        c = Conversation
        last_heard = func.coalesce(c.last_inbound_at, c.created_at)
        query = (
            select(c.id)
            .where(c.case_closed_at.is_not(None), c.case_closed_at < cutoff, last_heard < cutoff)
            .order_by(last_heard, c.id)
        )
        return list(await session.scalars(query))

    async def _due_concerns(self, session, now: datetime) -> list[str]:  # noqa: ANN001
        if not self._concern_days:
            return []
        cutoff = now - timedelta(days=self._concern_days)
        query = (
            select(Concern.id)
            .where(
                Concern.status == "decided",
                Concern.decided_at.is_not(None),
                Concern.decided_at < cutoff,
            )
            .order_by(Concern.decided_at, Concern.id)
        )
        return list(await session.scalars(query))

    async def _erase_conversations(self, ids: tuple[str, ...], now: datetime, actor: str) -> None:
        c = Conversation
        async with self._db.transaction() as s:
            # still closed and still silent (a parent may have written a moment ago)
            cutoff = now - timedelta(days=self._conversation_days or 0)
            last_heard = func.coalesce(c.last_inbound_at, c.created_at)
            still = select(c.id, c.consent_id, c.thread_hash).where(
                c.id.in_(ids), c.case_closed_at.is_not(None), last_heard < cutoff
            )
            still = still.with_for_update(of=c, skip_locked=True)  # another process has it
            rows = (await s.execute(still)).all()
            if not rows:
                return
            found = [r.id for r in rows]
            threads = [r.thread_hash for r in rows]
            concerns = list(
                await s.scalars(
                    select(Concern.id).where(
                        (Concern.thread_hash.in_(threads)) | (Concern.conversation_id.in_(found))
                    )
                )
            )
            if concerns:
                unlink = update(Concern).where(Concern.id.in_(concerns))
                await s.execute(unlink.values(conversation_id=None))
                for concern_id in concerns:
                    await alert_events.write(s, concern_id, "conversation_purged", at=now)
            replies = select(Message.outbox_id).where(
                Message.conversation_id.in_(found), Message.outbox_id.is_not(None)
            )
            unsent = await s.execute(delete(OutboxItem).where(OutboxItem.id.in_(replies)))
            messages = await s.execute(delete(Message).where(Message.conversation_id.in_(found)))
            await s.execute(delete(Conversation).where(Conversation.id.in_(found)))
            consent = update(ConsentRecord).where(
                ConsentRecord.id.in_([r.consent_id for r in rows])
            )
            await s.execute(consent.values(answer_enc=None))
            await audit.record(
                s,
                actor,
                "retention.conversations_purged",
                "conversation",
                None,
                ids=",".join(found),
                count=len(found),
                messages=messages.rowcount,
                outbox_items=unsent.rowcount,
                concerns_kept=len(concerns),
                period_days=self._conversation_days,
            )

    async def _erase_concerns(self, ids: tuple[str, ...], now: datetime, actor: str) -> None:
        async with self._db.transaction() as s:
            cutoff = now - timedelta(days=self._concern_days or 0)
            still = select(Concern.id).where(
                Concern.id.in_(ids), Concern.status == "decided", Concern.decided_at < cutoff
            )
            still = still.with_for_update(skip_locked=True)
            found = list(await s.scalars(still))
            if not found:
                return
            # alerts and their chronology cascade with the concern
            await s.execute(delete(Concern).where(Concern.id.in_(found)))
            await audit.record(
                s,
                actor,
                "retention.concerns_purged",
                "concern",
                None,
                ids=",".join(found),
                count=len(found),
                period_days=self._concern_days,
            )
