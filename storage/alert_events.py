"""Each concern's alert chronology: every notification, delivery result, acknowledgement and
escalation, with its time.

Why a table of its own: a safeguarding lead reviewing a concern (and anyone auditing the
service) must be able to see who was told, by what, when, whether it arrived and when it was
picked up, long after the alert rows themselves have moved on. Lines name slots and channels,
never people's numbers or what a parent said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from storage.database import Database, Tx
from storage.tables import AlertEvent
from storage.values import utcnow


@dataclass(frozen=True)
class ChronologyLine:
    at: datetime
    event: str
    channel: str | None
    slot: str | None
    detail: str | None


async def write(
    tx: Tx,
    concern_id: str,
    event: str,
    *,
    channel: str | None = None,
    slot: str | None = None,
    detail: str | None = None,
    alert_id: str | None = None,
    at: datetime | None = None,
) -> None:
    """Add one line, in the caller's transaction (so it commits with what it describes)."""
    await tx.execute(
        insert(AlertEvent).values(
            concern_id=concern_id,
            alert_id=alert_id,
            at=at or utcnow(),
            event=event,
            channel=channel,
            slot=slot,
            detail=None if detail is None else detail[:200],
        )
    )


async def chronology(db: Database, concern_id: str) -> list[ChronologyLine]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(AlertEvent)
            .where(AlertEvent.concern_id == concern_id)
            .order_by(AlertEvent.at, AlertEvent.id)
        )
        return [ChronologyLine(r.at, r.event, r.channel, r.slot, r.detail) for r in rows]
