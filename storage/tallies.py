"""Anonymous daily counts per channel and outcome: the only trace a declined parent leaves, and
the service's statistics."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.database import Database, Tx
from storage.held import write
from storage.tables import DailyTally
from storage.values import Channel, utcnow


class Tallies:
    def __init__(self, db: Database) -> None:
        self._db = db
        insert = sqlite_insert if db.is_sqlite else pg_insert
        # built once; the values come with each execution
        self._count = insert(DailyTally).on_conflict_do_update(
            index_elements=["day", "channel", "outcome"],
            set_={"count": DailyTally.count + 1},
        )

    async def count(self, channel: Channel | str, outcome: str, session: Tx | None = None) -> None:
        """Add one to today's count, inside the caller's transaction when given."""
        values = {"day": utcnow().date(), "channel": str(channel), "outcome": outcome, "count": 1}
        async with self._db.within(session) as s:
            await write(s, self._count, values)

    async def all(self) -> list[tuple[date, str, str, int]]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(
                    DailyTally.day, DailyTally.channel, DailyTally.outcome, DailyTally.count
                ).order_by(DailyTally.day, DailyTally.channel, DailyTally.outcome)
            )
            return [tuple(r) for r in rows]
