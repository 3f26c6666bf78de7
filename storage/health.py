"""The state of the service, for the admin and the maintainer: queues, the outbox, alerts that
could not be delivered, the processes' heartbeats, the database's size and schema version.
Counts and times only: nothing here names a parent or says what anyone wrote.

And the warnings that must find a person (nobody on call, an alert that could not be delivered,
a process that stopped beating): shown on every page for the lead and the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from storage.database import Database
from storage.key_material import ALIVE
from storage.migrate import current_revision
from storage.rota import RotaStore
from storage.tables import Alert, Conversation, OutboxItem, ProcessHeartbeat
from storage.values import utcnow

RECENT = timedelta(hours=24)  # an undelivered alert is a warning for a day


@dataclass(frozen=True)
class Process:
    name: str
    key_id: str
    started_at: datetime
    seen_at: datetime
    alive: bool


@dataclass(frozen=True)
class HealthReport:
    open_conversations: int
    unclaimed_conversations: int
    outbox: dict[str, int]
    undelivered_alerts: int
    processes: tuple[Process, ...]
    database_bytes: int | None
    schema_version: str | None


class Health:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def report(self) -> HealthReport:
        now = utcnow()
        async with self._db.sessions() as session:
            open_cases = await session.scalar(
                select(func.count()).where(Conversation.case_closed_at.is_(None))
            )
            unclaimed = await session.scalar(
                select(func.count()).where(
                    Conversation.case_closed_at.is_(None), Conversation.claimed_by.is_(None)
                )
            )
            counted = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            outbox = dict((await session.execute(counted)).all())
            beats = (await session.scalars(select(ProcessHeartbeat))).all()
            size = await self._size(session)
        return HealthReport(
            open_conversations=int(open_cases or 0),
            unclaimed_conversations=int(unclaimed or 0),
            outbox={str(k): int(v) for k, v in outbox.items()},
            undelivered_alerts=await self.undelivered_alerts(now),
            processes=tuple(
                Process(b.process, b.key_id, b.started_at, b.seen_at, now - b.seen_at < ALIVE)
                for b in sorted(beats, key=lambda b: b.seen_at, reverse=True)
            ),
            database_bytes=size,
            schema_version=await current_revision(self._db.engine),
        )

    async def undelivered_alerts(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        async with self._db.sessions() as session:
            count = await session.scalar(
                select(func.count()).where(
                    Alert.status.in_(("undeliverable", "no_oncall")),
                    Alert.created_at > now - RECENT,
                )
            )
        return int(count or 0)

    async def warnings(self) -> list[str]:
        """What someone must act on now, in words for the banner."""
        found = []
        rota = await RotaStore(self._db).show()
        if not any(rota.values()):
            found.append("Nobody is on call for safeguarding: set the on-call rota now.")
        undelivered = await self.undelivered_alerts()
        if undelivered:
            found.append(
                f"{undelivered} safeguarding alert{'s' if undelivered != 1 else ''} could not be "
                "delivered in the last 24 hours: check the concerns and the rota."
            )
        async with self._db.sessions() as session:
            beats = (await session.scalars(select(ProcessHeartbeat))).all()
        stopped = [b for b in beats if ALIVE <= utcnow() - b.seen_at < RECENT]
        if stopped:
            found.append(
                f"{len(stopped)} gateway process{'es' if len(stopped) != 1 else ''} stopped "
                "reporting: alerts and mail may not be going out. Check the servers."
            )
        return found

    async def _size(self, session) -> int | None:  # noqa: ANN001
        try:
            if self._db.is_sqlite:
                pages = await session.scalar(text("PRAGMA page_count"))
                page_size = await session.scalar(text("PRAGMA page_size"))
                return int(pages) * int(page_size)
            return int(await session.scalar(text("SELECT pg_database_size(current_database())")))
        except Exception:  # noqa: BLE001 - a size we may not read is shown as unknown
            return None
