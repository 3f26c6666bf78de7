"""Engine creation for SQLite (embedded default) and PostgreSQL.

Why: SQLite must run with WAL, foreign keys and secure_delete so a purge really erases; a
database that cannot be reached must fail with a message that names it without its password.
"""

from __future__ import annotations

from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.sqlite_driver import one_trip_dbapi

BUSY_TIMEOUT_MS = 10_000  # a writer of another process: wait this long before "locked"
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA temp_store=MEMORY",
)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or used."""


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as a kind, not echoed
        return "<unparsable database URL>"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # aiosqlite, one trip per statement, on the event loop (storage.sqlite_driver)
        one_trip = parsed.get_driver_name() == "aiosqlite"
        driver = {"module": one_trip_dbapi()} if one_trip else {}
        # the one-trip driver runs statements on the event loop's thread, not aiosqlite's
        same_thread = {"check_same_thread": False} if one_trip else {}
        engine = create_async_engine(
            # more than storage.turns.TURNS_AT_ONCE: turns may wait holding one each
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, **same_thread},
            pool_size=20,
            max_overflow=10,
            **driver,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cursor = dbapi_conn.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            # FULL, unless the driver syncs each commit to disk itself, off the event loop
            synchronous = getattr(dbapi_conn, "SYNCHRONOUS", "FULL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.close()

        return engine
    # more than storage.turns.TURNS_AT_ONCE, as for SQLite
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


async def check_connection(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any driver error means the same to an operator
        reason = type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot reach the database at {safe_url(engine.url.render_as_string(False))}"
            f" ({reason})"
        ) from None
