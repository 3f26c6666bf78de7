"""One handle on the database: engine, sessions, field cipher, and SQLite housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage import key_material
from storage.crypto import FieldCipher, Keyring
from storage.engine import check_connection, is_sqlite, make_engine
from storage.held import HeldWrites
from storage.migrate import migrate
from storage.sqlite_driver import truncate_wal

log = logging.getLogger("storage.database")

# a caller's transaction: an ORM session, a connection, or a SQLite turn's (storage.held)
Tx = AsyncSession | AsyncConnection | HeldWrites


def new_id() -> str:
    return uuid.uuid4().hex


class Database:
    """Shared by every store; owns the engine's life."""

    def __init__(self, engine: AsyncEngine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        self.cipher = FieldCipher(keyring)
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
        # (SQLite's one writer is taken in turn by the connections: storage.sqlite_writer)
        self.is_sqlite = is_sqlite(engine)
        self._erase_requested = False
        self._eraser: asyncio.Task | None = None

    @classmethod
    async def open(cls, url: str, keyring: Keyring, *, run_migrations: bool = True) -> Database:
        engine = make_engine(url)
        try:
            await check_connection(engine)
            if run_migrations:
                await migrate(engine)
            keyring = await key_material.settle(engine, keyring)
        except BaseException:
            await engine.dispose()
            raise
        db = cls(engine, keyring)
        await db.erase_freed_pages()  # a crash may have left a purge's pages in the WAL
        return db

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction, committed on success and rolled back on error."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @contextlib.asynccontextmanager
    async def connection(self, *, begin: bool = False) -> AsyncIterator[AsyncConnection]:
        """A Core connection (in a transaction, committed at the end, if `begin`), closed
        directly when done.

        Why: the engine's own context managers close in a task of their own, so that a
        cancellation cannot cut the close short; that costs two rounds of the event loop,
        tens of milliseconds a turn under load. Here only a cancelled caller pays it."""
        conn = self.engine.connect()
        await conn.start()
        try:
            if begin:
                await conn.begin()
            yield conn
            if begin:
                await conn.commit()
        except asyncio.CancelledError:
            closing = asyncio.ensure_future(conn.close())  # not cut short by a second cancel
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(closing)
            raise
        except BaseException:
            await conn.close()  # a transaction still open is rolled back
            raise
        await conn.close()

    @contextlib.asynccontextmanager
    async def within(self, session: Tx | None) -> AsyncIterator[Tx]:
        """The caller's transaction when it has one (so a change commits with it), else a new
        one of our own."""
        if session is not None:
            yield session
            return
        async with self.transaction() as own:
            yield own

    async def close(self) -> None:
        if self._eraser is not None:
            await asyncio.gather(self._eraser, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.erase_freed_pages()
        await self.engine.dispose()

    async def server_data_directory(self) -> str | None:
        """Where PostgreSQL keeps its files, when this role may ask (superusers and
        pg_read_all_settings); None otherwise."""
        if self.is_sqlite:
            return None
        try:
            async with self.engine.connect() as conn:
                return await conn.scalar(text("SHOW data_directory"))
        except Exception:  # noqa: BLE001 - not allowed to know: the marker-file check remains
            return None

    async def ping(self) -> bool:
        try:
            await check_connection(self.engine)
        except Exception:  # noqa: BLE001 - readiness is a yes or no
            return False
        return True

    async def erase_freed_pages(self) -> None:
        """After a purge on SQLite, fold the WAL into the main file and truncate it.

        secure_delete has already zeroed the deleted cells; the checkpoint makes sure no earlier
        page image with the purged bytes is left in the -wal file.
        """
        if not self.is_sqlite:
            return
        # With the writer's place (no writer mid-way), readers of other processes may delay it.
        async with self.connection() as conn:
            for _ in range(200):
                if await conn.run_sync(truncate_wal):
                    return
                await asyncio.sleep(0.01)
        raise RuntimeError("could not checkpoint the SQLite WAL after a purge (database busy)")

    def erase_soon(self) -> None:
        """Erase freed pages in the background, coalescing requests that arrive meanwhile.

        For request paths (a caller saying no) that should not wait for the checkpoint; the
        purge itself has already committed and secure_delete has zeroed the rows.
        """
        if not self.is_sqlite:
            return
        self._erase_requested = True
        if self._eraser is None or self._eraser.done():
            self._eraser = asyncio.get_running_loop().create_task(self._erase_while_requested())

    async def _erase_while_requested(self) -> None:
        while self._erase_requested:
            self._erase_requested = False
            try:
                await self.erase_freed_pages()
            except Exception as exc:  # noqa: BLE001 - retried on the next purge and at close
                log.warning("erase_failed", extra={"fields": {"error": type(exc).__name__}})
