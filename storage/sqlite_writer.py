"""The one writer's place of a SQLite file, taken in turn by this process's connections.

Why: SQLite lets one connection write at a time, and a connection that finds the file locked
spins in the busy handler, sleeping in steps of up to 100 ms. Writers in this process queue
here instead, in order of arrival, and each is woken the moment the one before it lets go.
A connection takes the place before the first trip of a transaction that changes something
and lets go when the transaction ends (storage.sqlite_driver), so the place is held for as
long as SQLite's own lock would be, and no longer.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading

from storage.sqlite_files import database_file

WAIT_SECONDS = 10.0  # as the connections' busy timeout (storage.engine)

_turns: dict[str, WriterTurn] = {}
_turns_guard = threading.Lock()


class WriterTurn:
    """One database file's writer's place. Taken and let go from any thread; waiters are
    woken on their own event loop, first come first served."""

    def __init__(self) -> None:
        self._taken = False
        self._waiting: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = (
            collections.deque()
        )
        self._guard = threading.Lock()

    def take_if_free(self) -> bool:
        """Take the place if nobody holds it or waits for it (no waiting)."""
        with self._guard:
            if self._taken:
                return False
            self._taken = True
            return True

    async def take(self, seconds: float = WAIT_SECONDS) -> None:
        """Wait for the place; after that many seconds, fail as SQLite would."""
        loop = asyncio.get_running_loop()
        with self._guard:
            if not self._taken:
                self._taken = True
                return
            waiter = loop.create_future()
            entry = (loop, waiter)
            self._waiting.append(entry)
        try:
            async with asyncio.timeout(seconds):
                await waiter
        except BaseException as error:
            with self._guard:
                queued = entry in self._waiting
                if queued:
                    self._waiting.remove(entry)
            if not queued and waiter.done() and not waiter.cancelled():
                self.let_go()  # it was ours just as we stopped waiting: pass it on
            # (handed over but not yet delivered: _hand_to sees the cancelled waiter)
            if isinstance(error, TimeoutError):
                raise sqlite3.OperationalError("database is locked") from None
            raise

    def let_go(self) -> None:
        """Give the place to the first waiter, or free it."""
        with self._guard:
            if not self._waiting:
                self._taken = False
                return
            loop, waiter = self._waiting.popleft()
        try:
            loop.call_soon_threadsafe(self._hand_to, waiter)
        except RuntimeError:  # that waiter's loop has closed: the next one
            self.let_go()

    def _hand_to(self, waiter: asyncio.Future) -> None:
        if waiter.cancelled():
            self.let_go()
        else:
            waiter.set_result(None)


def writer_turn(database: str) -> WriterTurn:
    """The place for this database file, shared by every connection to it in this process;
    an in-memory database is its own."""
    key = database_file(database)
    if key is None:
        return WriterTurn()
    with _turns_guard:
        turn = _turns.get(key)
        if turn is None:
            turn = _turns[key] = WriterTurn()
        return turn
