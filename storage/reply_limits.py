"""The automatic-reply limit: at most so many automatic replies to one address an hour, and at
most PER_MINUTE to anyone in a minute, however many gateway processes share the database, so a
forged or looping sender (or a flood of forged senders) cannot make the service mail people
without end. Addresses are kept only as keyed hashes, for an hour."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Integer, bindparam, delete, func, insert, select, text

from storage.database import Database, Tx
from storage.keys import LookupKeys
from storage.tables import AutoReplyRateLimit
from storage.values import Contact, utcnow

WINDOW = timedelta(hours=1)
PER_MINUTE = 60  # automatic replies to all addresses together, in any minute
_TABLE = AutoReplyRateLimit.__table__
# One statement: count this reply only if fewer than :limit went to the address in the window
# (older rows are the purge worker's to delete).
_SENT = (
    select(func.count())
    .select_from(_TABLE)
    .where(_TABLE.c.contact_hash == bindparam("key"), _TABLE.c.sent_at > bindparam("since"))
    .scalar_subquery()
)
_SENT_TO_ANYONE = (
    select(func.count())
    .select_from(_TABLE)
    .where(_TABLE.c.sent_at > bindparam("minute_ago"))
    .scalar_subquery()
)
_COUNT_ONE = insert(_TABLE).from_select(
    ["contact_hash", "sent_at"],
    select(
        bindparam("key", type_=_TABLE.c.contact_hash.type),
        bindparam("now", type_=_TABLE.c.sent_at.type),
    ).where(
        bindparam("limit", type_=Integer()) > _SENT,
        bindparam("ceiling", type_=Integer()) > _SENT_TO_ANYONE,
    ),
)


def advisory_key(value: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, from a hex digest."""
    return int.from_bytes(bytes.fromhex(value[:16]), "big", signed=True)


class AutoReplyLimit:
    def __init__(self, db: Database, keys: LookupKeys) -> None:
        self._db = db
        self._keys = keys

    async def allow(
        self,
        contact: Contact,
        per_hour: int,
        *,
        session: Tx | None = None,
        per_minute: int = PER_MINUTE,
    ) -> bool:
        """Count one automatic reply to `contact` if fewer than `per_hour` went to it in the
        last hour and fewer than `per_minute` to anyone in the last minute; False (and nothing
        counted) otherwise. Inside the caller's transaction, so the count commits with the reply
        it allows. (On PostgreSQL two processes may each let one more through the ceiling at
        the same instant: it bounds a flood, not a single reply.)"""
        return await self.allow_key(self._keys.contact(contact), per_hour, session, per_minute)

    async def allow_key(
        self, key: str, per_hour: int, session: Tx | None = None, per_minute: int = PER_MINUTE
    ) -> bool:
        """The same for any keyed hash (a thread's "nothing is held" reply: once an hour)."""
        now = utcnow()
        async with self._db.within(session) as s:
            if not self._db.is_sqlite:  # SQLite has one writer; PostgreSQL takes turns here
                await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(key)})
            counted = await s.execute(
                _COUNT_ONE,
                {
                    "key": key,
                    "now": now,
                    "since": now - WINDOW,
                    "limit": per_hour,
                    "minute_ago": now - timedelta(minutes=1),
                    "ceiling": per_minute,
                },
            )
        return bool(counted.rowcount)

    async def purge_expired(self) -> int:
        async with self._db.transaction() as session:
            gone = await session.execute(
                delete(_TABLE).where(_TABLE.c.sent_at <= utcnow() - WINDOW)
            )
        return gone.rowcount
