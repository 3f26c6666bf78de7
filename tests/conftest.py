"""Shared fixtures: real SQLite files, a real PostgreSQL database, and a test double for the
risk detector (the core is tested on its rules; the detector has its own tests under nlp)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from intake.core.gateway import Gateway
from intake.core.wording import current_wording
from nlp.risk import Assessment, Evidence
from storage.concerns import ConcernStore
from storage.crypto import Keyring
from storage.database import Database
from storage.records import Records
from storage.values import Role
from tests.private_postgres import private_postgres  # noqa: F401 - a fixture for every test

PG_ADMIN_URL = os.environ.get(
    "INTAKE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
DPO = ("staff-dpo", Role.ADMIN)  # who runs a subject access request in tests: an admin


class KeywordRisk:
    """Test double for the risk detector: flags the phrases it is given, nothing else."""

    def __init__(
        self,
        phrases: tuple[str, ...] = ("hits my son", "hurting her", "RISKY"),
        severity: str = "immediate",
    ) -> None:
        self._patterns = [(p, re.compile(re.escape(p), re.IGNORECASE)) for p in phrases]
        self._severity = severity

    def assess(self, text: str) -> Assessment:
        evidence = tuple(
            Evidence(m.start(), m.end(), m.group(0), "physical_abuse", f"test.{phrase}")
            for phrase, pattern in self._patterns
            for m in pattern.finditer(text)
        )
        if not evidence:
            return Assessment(False, None, (), ())
        return Assessment(True, self._severity, ("physical_abuse",), evidence)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.from_secret(TEST_SECRET)


def _pg_admin_dsn() -> str:
    return PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_reachable() -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(_pg_admin_dsn(), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def _run_outside_loop(coro):  # noqa: ANN001, ANN202
    """Run a coroutine to completion on its own loop in a thread (fixtures may be inside one)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    import asyncpg

    if not _run_outside_loop(_pg_reachable()):
        if os.environ.get("INTAKE_REQUIRE_POSTGRES") or os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required but not reachable")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    name = f"intake_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_pg_admin_dsn())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _run_outside_loop(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _run_outside_loop(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'intake.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, keyring: Keyring
) -> AsyncIterator[Database]:
    """The same tests run against SQLite and PostgreSQL."""
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'intake.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        await _truncate_all(url)  # before opening: the keys it settles on are this test's
    database = await Database.open(url, keyring)
    try:
        yield database
    finally:
        await database.close()
        if request.param == "postgres":  # a test that changed the keys leaves none behind
            await _truncate_all(url)


async def _truncate_all(url: str) -> None:
    """Empty every table the last test filled (nothing to do before the first migration)."""
    from sqlalchemy import inspect, text

    from storage.engine import make_engine
    from storage.tables import Base

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            if await conn.run_sync(lambda c: inspect(c).has_table("key_material")):
                names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path, keyring: Keyring) -> AsyncIterator[Database]:
    (tmp_path / "data").mkdir(exist_ok=True)
    database = await Database.open(
        f"sqlite+aiosqlite:///{tmp_path / 'data' / 'intake.db'}", keyring
    )
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def records(db: Database) -> Records:
    return Records(db)


@pytest.fixture
def concerns(records: Records) -> ConcernStore:
    return records.concerns


def make_gateway(database: Database, risk: object | None = None) -> Gateway:
    return Gateway(
        Records(database).turns,
        risk or KeywordRisk(),
        current_wording().for_service(timedelta(days=7).total_seconds()),
        pending_ttl=timedelta(days=7),
        escalate_after=timedelta(minutes=5),
    )


def files_containing(root: Path, needles: list[bytes]) -> list[tuple[str, bytes]]:
    """Every (file, needle) pair where a needle's bytes appear in a file under root."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found.extend((str(path), n) for n in needles if n and n in data)
    return found
