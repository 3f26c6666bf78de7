"""What the admin sets in the console, kept: the office hours day by day and the wording
versions added there, each change audited in the same transaction.

Why in the database: every gateway process reads the same hours and wording (and picks up a
change within seconds, with no restart); the audit log says who changed them and when. A
wording version, once added, is never changed: consent records name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from storage import audit
from storage.admin_tables import OfficeHoursDay, WordingVersion
from storage.database import Database
from storage.tables import ConsentRecord, Staff
from storage.values import utcnow

DayHours = tuple[time, time] | None  # opens, closes; None: closed


class VersionTaken(ValueError):
    """Another admin added a version of that name a moment ago."""


@dataclass(frozen=True)
class SavedHours:
    days: dict[int, DayHours]  # every weekday, 0 is Monday
    updated_at: datetime
    updated_by: str  # the admin's name


@dataclass(frozen=True)
class StoredWording:
    version: str
    texts: dict[str, str]
    review_by: date
    based_on: str
    created_at: datetime
    created_by: str  # the admin's name


class AdminSettings:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- office hours ------------------------------------------------------------------------
    async def office_hours(self) -> SavedHours | None:
        """The admin's hours, or None when they never saved any (INTAKE_OFFICE_HOURS holds)."""
        query = select(OfficeHoursDay, Staff.name).join(
            Staff, Staff.id == OfficeHoursDay.updated_by
        )
        async with self._db.sessions() as session:
            rows = (await session.execute(query.order_by(OfficeHoursDay.weekday))).all()
        if not rows:
            return None
        days: dict[int, DayHours] = dict.fromkeys(range(7))
        for row, _name in rows:
            if row.opens and row.closes:
                days[row.weekday] = (time.fromisoformat(row.opens), time.fromisoformat(row.closes))
        newest = max(rows, key=lambda r: r[0].updated_at)
        return SavedHours(days, newest[0].updated_at, newest[1])

    async def save_office_hours(self, days: dict[int, DayHours], actor: str) -> None:
        """Every weekday's hours at once (a day not given is closed)."""
        now = utcnow()
        rows = []
        for weekday in range(7):
            hours = days.get(weekday)
            if hours is not None and hours[1] <= hours[0]:
                raise ValueError("a day closes before it opens")
            rows.append(
                {
                    "weekday": weekday,
                    "opens": None if hours is None else f"{hours[0]:%H:%M}",
                    "closes": None if hours is None else f"{hours[1]:%H:%M}",
                    "updated_by": actor,
                    "updated_at": now,
                }
            )
        async with self._db.transaction() as session:
            await session.execute(delete(OfficeHoursDay))
            await session.execute(insert(OfficeHoursDay), rows)
            open_days = sum(1 for r in rows if r["opens"])
            await audit.record(
                session, actor, "office_hours.save", "office_hours", None, open_days=open_days
            )

    async def clear_office_hours(self, actor: str) -> None:
        """Back to INTAKE_OFFICE_HOURS."""
        async with self._db.transaction() as session:
            await session.execute(delete(OfficeHoursDay))
            await audit.record(session, actor, "office_hours.reset", "office_hours", None)

    # -- wording -----------------------------------------------------------------------------
    async def wording_names(self) -> dict[str, date]:
        """Each added version's name and review date: cheap, for noticing a new one."""
        query = select(WordingVersion.version, WordingVersion.review_by)
        async with self._db.sessions() as session:
            return {r.version: r.review_by for r in (await session.execute(query)).all()}

    async def wording_versions(self) -> list[StoredWording]:
        query = select(WordingVersion, Staff.name).join(
            Staff, Staff.id == WordingVersion.created_by
        )
        async with self._db.sessions() as session:
            rows = (await session.execute(query.order_by(WordingVersion.version))).all()
        return [
            StoredWording(
                row.version,
                dict(row.texts),
                row.review_by,
                row.based_on,
                row.created_at,
                name,
            )
            for row, name in rows
        ]

    async def add_wording(
        self, version: str, texts: dict[str, str], review_by: date, based_on: str, actor: str
    ) -> None:
        try:
            async with self._db.transaction() as session:
                await session.execute(
                    insert(WordingVersion).values(
                        version=version,
                        texts=texts,
                        review_by=review_by,
                        based_on=based_on,
                        created_by=actor,
                        created_at=utcnow(),
                    )
                )
                await audit.record(
                    session,
                    actor,
                    "wording.add",
                    "wording",
                    version,
                    based_on=based_on,
                    review_by=review_by.isoformat(),
                )
        except IntegrityError:
            raise VersionTaken(version) from None

    async def consents_by_version(self) -> dict[str, int]:
        """How many consent records were given under each version."""
        query = select(ConsentRecord.wording_version, func.count()).group_by(
            ConsentRecord.wording_version
        )
        async with self._db.sessions() as session:
            return {str(v): int(n) for v, n in (await session.execute(query)).all()}
