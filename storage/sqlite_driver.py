"""SQLite for the async engine in one trip per statement, on the event loop.

Why: aiosqlite runs each connection's sqlite3 calls on a thread of its own, and SQLAlchemy's
adapter for it goes there and back for every cursor call: make the cursor, execute, fetch the
rows, close it; then a commit, and a rollback when the connection goes back to the pool. Each
trip costs a wake-up of that thread and of the event loop, and while a writer makes them every
other writer waits. Here one statement is one trip (execute, fetch every row, close), and a
commit or rollback with no transaction open makes no trip at all.

A trip runs on the event loop itself (the connection is only ever used by one task at a time,
and SQLite in WAL mode never makes a reader wait): a hand-off to the thread and back costs
two wake-ups, and under load each wake-up waits for a full round of the loop. Before a trip
that changes something the connection takes its file's one writer's place
(storage.sqlite_writer), waiting for it without blocking the loop, so the trip itself never
meets a lock held in this process; the place is let go when the transaction ends. A trip
that may wait on purpose (`waits`, a checkpoint) still goes to the thread.

A commit is on disk before it returns, as with synchronous=FULL, but the sync to disk is not
made on the event loop, nor with the writer's place held: SQLite commits with
synchronous=NORMAL (the WAL written, not yet synced), lets the place go, and the connection's
thread then syncs the WAL file while the loop goes on. Commits that meet there share the
disk's flush (the file system joins them), and the next writer need not wait for it.

A caller may also hold statements back (`held`): changes whose result it does not read. They
are compiled as usual, and go, in order, with the connection's next trip (a statement or the
commit); an error in one is raised from that trip. A rollback drops them unsent. The
statements, their order on the connection and the transactions are the same.
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

from storage.sqlite_files import sync_wal, wal_file
from storage.sqlite_writer import WriterTurn, writer_turn

# What one trip brings back: description, rows, rowcount, lastrowid.
_Outcome = tuple[Any, list, int, int | None]
_Statement = tuple[str, Any, bool]  # operation, parameters, executemany
_NOT_RUN: _Outcome = (None, [], -1, None)  # what a held statement shows until it is sent


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the statement, and everything the caller may ask of it."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _held() -> None:
    """Nothing to wait for: the statement was held."""


def _changes(operation: str) -> bool:
    """Whether a statement may write: anything but a query."""
    return operation.lstrip()[:6].upper() != "SELECT"


def _run_held(conn: sqlite3.Connection, held: list[_Statement]) -> None:
    for operation, parameters, many in held:
        _run(conn, operation, parameters, many)


class OneTripCursor:
    """A DBAPI cursor whose results arrive whole with its one trip (never server-side)."""

    server_side = False

    def __init__(self, connection: OneTripConnection) -> None:
        self._adapted = connection
        self._rows: collections.deque = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        if self._adapted.holding:
            self._adapted.held.append((operation, parameters, many))
            await_(_held())  # SQLAlchemy's async engine insists that each execution awaits
            outcome = _NOT_RUN
        else:
            try:
                writes = _changes(operation)
                outcome = self._adapted.call(_run, operation, parameters, many, writes=writes)
            except Exception as error:  # noqa: BLE001 - re-raised as SQLAlchemy expects
                self._adapted._handle_exception(error)
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._trip(operation, seq_of_parameters, many=True)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list:
        size = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    def fetchall(self) -> list:
        rows, self._rows = list(self._rows), collections.deque()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def setinputsizes(self, *sizes: Any) -> None:
        """Nothing to do for SQLite."""

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """The sqlite3 cursor was closed on its thread already."""


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection, each statement and transaction end one trip."""

    SYNCHRONOUS = "NORMAL"  # SQLite's own setting: the connection syncs each commit itself
    __slots__ = (
        "_queued",
        "_ran",
        "_writer",
        "_writing",
        "_wal",
        "_dir_synced",
        "held",
        "holding",
        "commit_after",
    )

    def __init__(
        self, dbapi: Any, connection: aiosqlite.Connection, writer: WriterTurn, wal: str | None
    ) -> None:
        super().__init__(dbapi, connection)
        self._writer = writer
        self._wal = wal  # the file a commit syncs before it returns (None: in memory)
        self._dir_synced = False
        self._writing = False  # this connection holds the writer's place
        # trips handed to the thread, and trips it has finished (each counted by one thread)
        self._queued = 0
        self._ran = 0
        self.held: list[_Statement] = []  # statements waiting for the next trip
        self.holding = False  # while True, statements are held rather than sent
        self.commit_after = False  # the next statement's trip also commits

    @contextlib.contextmanager
    def holding_back(self) -> Iterator[None]:
        """Statements executed meanwhile are held for the next trip, not sent."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False

    def call(
        self, fn: Callable[..., Any], *args: Any, writes: bool = False, waits: bool = False
    ) -> Any:
        """Run fn(sqlite3 connection, *args) in one trip, the held statements first, in order.

        A trip that `writes` (or sends held statements) takes the writer's place first; one
        that `waits` (for a lock, on purpose) goes to the connection's thread."""
        conn = self._connection._conn
        held, self.held = self.held, []
        commit, self.commit_after = self.commit_after, False
        if (writes or held) and not self._writing:
            if not self._writer.take_if_free():
                await_(self._writer.take())
            self._writing = True

        committed = False

        def trip() -> Any:
            nonlocal committed
            try:
                if held:
                    _run_held(conn, held)
                outcome = fn(conn, *args)
                if commit and conn.in_transaction:
                    conn.commit()
                    committed = True
                return outcome
            finally:
                self._ran += 1
                if self._writing and not conn.in_transaction:
                    self._let_writer_go()

        inline = not waits and self._ran == self._queued  # nothing of ours on the thread
        self._queued += 1
        if inline:
            await_(_held())  # SQLAlchemy's async engine insists that each execution awaits
            outcome = trip()
        else:
            outcome = await_(self._connection._execute(trip))
        if committed:
            self._to_disk()
        return outcome

    def _to_disk(self) -> None:
        """What was just committed, synced to disk on the connection's thread (see above)."""
        if self._wal is not None:
            first, self._dir_synced = not self._dir_synced, True
            await_(self._connection._execute(sync_wal, self._wal, first))

    def _commit(self, conn: sqlite3.Connection) -> bool:
        if not conn.in_transaction:
            return False
        conn.commit()
        return True

    def _let_writer_go(self) -> None:
        if self._writing:
            self._writing = False
            self._writer.let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_writer_go()

    def _terminate_force_close(self) -> None:
        try:
            super()._terminate_force_close()
        finally:
            self._let_writer_go()

    def _idle_outside_transaction(self) -> bool:
        """Nothing under way on the thread, nothing held and no transaction open: ending one
        is a no-op."""
        conn = self._connection._connection
        return conn is None or (
            self._ran == self._queued and not self.held and not conn.in_transaction
        )

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)
        return OneTripCursor(self)

    def commit(self) -> None:
        if self._idle_outside_transaction():
            return
        try:
            if self.call(self._commit):
                self._to_disk()
        except Exception as error:  # noqa: BLE001 - re-raised as SQLAlchemy expects
            self._handle_exception(error)

    def rollback(self) -> None:
        self.held = []  # never sent: nothing of them to undo
        if self._idle_outside_transaction():
            return
        try:
            self.call(lambda conn: conn.rollback())
        except Exception as error:  # noqa: BLE001 - re-raised as SQLAlchemy expects
            self._handle_exception(error)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI module for SQLAlchemy, handing out OneTripConnections."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's own adapter does
        database = str(arg[0] if arg else kw.get("database", ""))
        adapted = await_(connection)
        return OneTripConnection(self, adapted, writer_turn(database), wal_file(database))


def one_trip_dbapi() -> OneTripDBAPI:
    """The module to give create_async_engine (``module=``) for a sqlite+aiosqlite URL."""
    return OneTripDBAPI(aiosqlite, sqlite3)


def truncate_wal(sync_conn: Any) -> bool:
    """For `run_sync`: fold the WAL into the main file and truncate it, holding the writer's
    place, on the connection's thread (it writes and syncs the main file: the loop goes on);
    False when a reader of another process is in the way (try again soon)."""

    def checkpoint(conn: sqlite3.Connection) -> bool:
        wait_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute("PRAGMA busy_timeout=0")  # holding the writer's place: never wait here
        try:
            return conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(wait_ms)}")

    raw = sync_conn.connection.dbapi_connection
    if isinstance(raw, OneTripConnection):
        return raw.call(checkpoint, writes=True, waits=True)
    return sync_conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0] == 0
