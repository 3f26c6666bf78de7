"""One handle on the database: engine, sessions, field cipher, and SQLite housekeeping."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.crypto import FieldCipher, Keyring
from storage.engine import check_connection, is_sqlite, make_engine
from storage.migrate import migrate


def new_id() -> str:
    return uuid.uuid4().hex


class Database:
    """Shared by every store; owns the engine's life."""

    def __init__(self, engine: AsyncEngine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        self.cipher = FieldCipher(keyring)
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
        self.is_sqlite = is_sqlite(engine)

    @classmethod
    async def open(cls, url: str, keyring: Keyring, *, run_migrations: bool = True) -> Database:
        engine = make_engine(url)
        try:
            await check_connection(engine)
            if run_migrations:
                await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, keyring)

    async def close(self) -> None:
        await self.engine.dispose()

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
        for _ in range(50):
            async with self.engine.connect() as conn:
                row = (await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
            if row[0] == 0:
                return
            await asyncio.sleep(0.02)
        raise RuntimeError("could not checkpoint the SQLite WAL after a purge (database busy)")
