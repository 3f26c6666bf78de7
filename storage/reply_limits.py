"""The automatic-reply limit: at most so many automatic replies to one address an hour, however
many gateway processes share the database, so a forged or looping sender cannot make the
service mail someone without end. Addresses are kept only as keyed hashes, for an hour."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.keys import LookupKeys
from storage.tables import AutoReplyRateLimit
from storage.values import Contact, utcnow

WINDOW = timedelta(hours=1)
_TABLE = AutoReplyRateLimit.__table__


def advisory_key(value: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, from a hex digest."""
    return int.from_bytes(bytes.fromhex(value[:16]), "big", signed=True)


class AutoReplyLimit:
    def __init__(self, db: Database, keys: LookupKeys) -> None:
        self._db = db
        self._keys = keys

    async def allow(
        self, contact: Contact, per_hour: int, *, session: AsyncSession | None = None
    ) -> bool:
        """Count one automatic reply to `contact` if fewer than `per_hour` went in the last
        hour; False (and nothing counted) otherwise. Inside the caller's transaction, so the
        count commits with the reply it allows."""
        key = self._keys.contact(contact)
        now = utcnow()
        async with self._db.within(session) as s:
            if not self._db.is_sqlite:  # SQLite has one writer; PostgreSQL takes turns here
                await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(key)})
            sent = await s.scalar(  # older rows are the purge worker's to delete
                select(func.count())
                .select_from(_TABLE)
                .where(_TABLE.c.contact_hash == key, _TABLE.c.sent_at > now - WINDOW)
            )
            if (sent or 0) >= per_hour:
                return False
            await s.execute(insert(_TABLE).values(contact_hash=key, sent_at=now))
        return True

    async def purge_expired(self) -> int:
        async with self._db.transaction() as session:
            gone = await session.execute(
                delete(_TABLE).where(_TABLE.c.sent_at <= utcnow() - WINDOW)
            )
        return gone.rowcount
