"""The durable outbox: outbound mail (and later SMS and calls) waits here until it is sent.

Why durable: a reply the service promised must not be lost to a relay outage or a restart, and
a permanent failure must stay visible to staff instead of vanishing. Why careful: an item's
recipient is a parent's address, so recipients and payloads are ciphertext like every other
field, a sent item's row is deleted, and an item for a parent who has not consented is erased
from SQLite's freed pages and WAL once it is gone. Several gateway processes may share one
PostgreSQL database: due items are claimed with `SELECT ... FOR UPDATE SKIP LOCKED` and leased,
so each is sent by one process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from storage.database import Database, Tx, new_id
from storage.held import write
from storage.tables import OutboxItem, utcnow
from storage.values import OutboxMessage

RECIPIENT = "outbox.recipient"
PAYLOAD = "outbox.payload"
ERASED = "erased"  # what a failed item for a non-consenting parent keeps instead of its content
LEASE = timedelta(minutes=5)  # a claimed item is not claimed again for this long


@dataclass(frozen=True)
class OutboxFailure:
    """What staff see of an item that could not be delivered: no recipient, no content."""

    id: str
    kind: str
    reference: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    erased: bool


class Outbox:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cipher = db.cipher

    async def enqueue(
        self,
        kind: str,
        recipient: str,
        payload: dict,
        *,
        reference: str | None = None,
        session: Tx | None = None,
        now: datetime | None = None,
        keep_for: timedelta | None = None,
    ) -> str:
        """Queue one item; inside `session` when given, so it commits with the caller's change.
        With `keep_for`, the item is deleted after that long even if it could not be sent."""
        now = now or utcnow()
        item_id = new_id()
        statement = insert(OutboxItem.__table__).values(
            id=item_id,
            kind=kind,
            recipient_enc=self._cipher.seal(recipient, RECIPIENT, item_id),
            payload_enc=self._cipher.seal(json.dumps(payload), PAYLOAD, item_id),
            reference=reference,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            expires_at=None if keep_for is None else now + keep_for,
        )
        async with self._db.within(session) as s:
            await write(s, statement)
        return item_id

    async def waiting_for(self, recipient: str, since: datetime) -> list[dict]:
        """The payloads queued for one address since a time, oldest first, without taking
        them: what `intake simulate email` shows when there is no relay to send them."""
        async with self._db.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.status == "queued", OutboxItem.created_at >= since)
                    .order_by(OutboxItem.created_at)
                )
            ).all()
        wanted = recipient.strip().lower()
        return [
            json.loads(self._cipher.open(r.payload_enc, PAYLOAD, r.id))
            for r in rows
            if self._cipher.open(r.recipient_enc, RECIPIENT, r.id).lower() == wanted
        ]

    async def has_queued(self, reference: str) -> bool:
        async with self._db.sessions() as session:
            found = await session.scalar(
                select(OutboxItem.id)
                .where(OutboxItem.reference == reference, OutboxItem.status == "queued")
                .limit(1)
            )
        return found is not None

    async def purge_expired(self, now: datetime | None = None) -> int:
        """Delete every item past its `keep_for`, sent or not, and erase the freed pages: a
        decline's reply that cannot be sent must not keep the parent's address for ever."""
        now = now or utcnow()
        async with self._db.transaction() as session:
            gone = (
                await session.execute(
                    delete(OutboxItem).where(
                        OutboxItem.expires_at.is_not(None), OutboxItem.expires_at <= now
                    )
                )
            ).rowcount
        if gone:
            await self._db.erase_freed_pages()
        return gone

    async def claim(
        self, limit: int = 20, *, lease: timedelta = LEASE, now: datetime | None = None
    ) -> list[OutboxMessage]:
        """Take up to `limit` due items and lease them to this process for `lease`."""
        now = now or utcnow()
        query = (
            select(OutboxItem)
            .where(OutboxItem.status == "queued", OutboxItem.next_attempt_at <= now)
            .order_by(OutboxItem.next_attempt_at)
            .limit(limit)
        )
        if not self._db.is_sqlite:  # SQLite has one writer at a time anyway
            query = query.with_for_update(skip_locked=True)
        claimed = []
        async with self._db.transaction() as session:
            for row in await session.scalars(query):
                row.attempts += 1
                row.next_attempt_at = now + lease
                claimed.append(
                    OutboxMessage(
                        id=row.id,
                        kind=row.kind,
                        recipient=self._cipher.open(row.recipient_enc, RECIPIENT, row.id),
                        payload=json.loads(self._cipher.open(row.payload_enc, PAYLOAD, row.id)),
                        reference=row.reference,
                        attempts=row.attempts,
                        created_at=row.created_at,
                    )
                )
        return claimed

    async def mark_sent(self, item_id: str, *, erase: bool) -> None:
        """Sent: the row (a parent's address) is deleted; `erase` also clears freed pages."""
        async with self._db.transaction() as session:
            await session.execute(delete(OutboxItem).where(OutboxItem.id == item_id))
        if erase:
            await self._db.erase_freed_pages()

    async def retry_later(self, item_id: str, error: str, delay: timedelta) -> None:
        async with self._db.transaction() as session:
            row = await session.get(OutboxItem, item_id)
            if row is not None:
                row.next_attempt_at = utcnow() + delay
                row.last_error = error[:500]

    async def mark_failed(self, item_id: str, error: str, *, erase: bool) -> None:
        """A permanent failure stays visible to staff. For a parent who has not consented the
        address and words are replaced, so only the fact of the failure remains."""
        async with self._db.transaction() as session:
            row = await session.get(OutboxItem, item_id)
            if row is None:
                return
            row.status, row.last_error = "failed", error[:500]
            if erase:
                row.recipient_enc = self._cipher.seal(ERASED, RECIPIENT, row.id)
                row.payload_enc = self._cipher.seal(json.dumps({ERASED: True}), PAYLOAD, row.id)
        if erase:
            await self._db.erase_freed_pages()

    async def discard(self, reference: str, *, session: Tx | None = None) -> int:
        """Drop queued items for a reference (a consent request nobody needs any more)."""
        statement = delete(OutboxItem).where(
            OutboxItem.reference == reference, OutboxItem.status == "queued"
        )
        if session is not None:
            return (await session.execute(statement)).rowcount
        async with self._db.transaction() as own:
            count = (await own.execute(statement)).rowcount
        if count:
            await self._db.erase_freed_pages()
        return count

    async def failures(self, limit: int = 200) -> list[OutboxFailure]:
        async with self._db.sessions() as session:
            rows = list(
                await session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.status == "failed")
                    .order_by(OutboxItem.created_at.desc())
                    .limit(limit)
                )
            )
        return [
            OutboxFailure(
                r.id,
                r.kind,
                r.reference,
                r.attempts,
                r.last_error,
                r.created_at,
                self._cipher.open(r.recipient_enc, RECIPIENT, r.id) == ERASED,
            )
            for r in rows
        ]

    async def counts(self) -> dict[str, int]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            )
            return {status: count for status, count in rows}
