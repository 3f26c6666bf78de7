"""A SQLite turn's connection: the changes whose result the turn does not read are held back,
and reach the database together with its next statement or its commit, in one trip.

Why: SQLite has one writer at a time, and a turn keeps that writer's place from its first
change to its commit (storage.sqlite_writer); every trip in between (storage.sqlite_driver)
keeps every other turn waiting. Held back, a turn's changes take one trip, and the writer's
place is taken only then; the turn's last change (its answer, `last`) takes the commit with
it. The statements, their order and the one transaction are the same; an error in a held
change is raised by the trip that sends it, and fails the turn as before.
Elsewhere (PostgreSQL, a store's own transaction) `write` executes at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable

from storage.sqlite_driver import OneTripConnection


class HeldWrites:
    """The statements of one SQLite turn; the connection takes the writer's place itself,
    before the first trip that carries a change."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._changed = False  # a held change waits for the next trip
        self._committed = False  # the last change went, and committed the turn with it
        self._one_trip: OneTripConnection | None | bool = False  # False: not looked up yet

    @property
    def changed(self) -> bool:
        """A held change waits for the next trip."""
        return self._changed

    async def hold(self, statement: Executable, params: Any = None) -> None:
        """A change whose result nobody reads: sent with the turn's next trip."""
        self._open()
        driver = await self._driver()
        if driver is None:  # not the one-trip driver: nothing to hold it in
            await self.conn.execute(statement, params)
            return
        with driver.holding_back():
            await self.conn.execute(statement, params)
        self._changed = True

    async def execute(self, statement: Executable, params: Any = None, **kw: Any) -> Result:
        if self._changed or statement.is_dml:
            self._open()
        return await self.conn.execute(statement, params, **kw)

    async def last(self, statement: Executable, params: Any = None) -> Result:
        """The turn's last change, sent with the held ones and the commit in one trip; after
        it the turn may read, but not change anything."""
        driver = await self._driver()
        if driver is None:
            return await self.execute(statement, params)
        self._open()
        driver.commit_after = True
        try:
            result = await self.conn.execute(statement, params)
        finally:
            driver.commit_after = False
        self._changed, self._committed = False, True
        return result

    async def scalar(self, statement: Executable, params: Any = None, **kw: Any) -> Any:
        return (await self.execute(statement, params, **kw)).scalar()

    async def scalars(self, statement: Executable, params: Any = None, **kw: Any) -> Any:
        return (await self.execute(statement, params, **kw)).scalars()

    async def commit(self) -> None:
        await self.conn.commit()
        self._changed = False

    async def rollback(self) -> None:
        await self.conn.rollback()  # held changes are dropped unsent
        self._changed = False

    def _open(self) -> None:
        if self._committed:
            raise RuntimeError("the turn has committed with its last change: nothing may follow")

    async def _driver(self) -> OneTripConnection | None:
        if self._one_trip is False:
            raw = (await self.conn.get_raw_connection()).dbapi_connection
            self._one_trip = raw if isinstance(raw, OneTripConnection) else None
        return self._one_trip


async def write(
    tx: AsyncSession | AsyncConnection | HeldWrites, statement: Executable, params: Any = None
) -> None:
    """A change whose result the caller does not read: held back in a SQLite turn (HeldWrites),
    else executed at once."""
    if isinstance(tx, HeldWrites):
        await tx.hold(statement, params)
    else:
        await tx.execute(statement, params)
