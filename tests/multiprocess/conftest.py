"""Several gateway processes on one PostgreSQL database: each is a whole app (HTTP, SMTP,
workers) with its own engine, data directory and SMTP port, sharing nothing but the database
and the secret key, as `intake serve` runs on more than one host."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from intake.app import SERVICES, SMTP, Services, create_app
from intake.settings import Settings
from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver
from storage.crypto import Keyring
from storage.database import Database
from storage.outbox import PAYLOAD, RECIPIENT
from storage.tables import OutboxItem
from tests.conftest import TEST_SECRET, KeywordRisk, _truncate_all
from tests.mail.conftest import SERVICE, SmtpClient
from tests.voice.conftest import ADVISER, AUTH_TOKEN, OPEN, PUBLIC_URL


def gateway_settings(data_dir: Path, database_url: str) -> Settings:
    """One process's settings: its own data directory and SMTP port, the shared database."""
    return Settings.from_env(
        {
            "INTAKE_DATA_DIR": str(data_dir),
            "INTAKE_DATABASE_URL": database_url,
            "INTAKE_SECRET_KEY": TEST_SECRET,
            "INTAKE_PUBLIC_URL": PUBLIC_URL,
            "INTAKE_MAIL_ADDRESS": SERVICE,
            "INTAKE_SMTP_HOST": "127.0.0.1",
            "INTAKE_SMTP_PORT": "0",  # any free port: each process listens on its own
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "INTAKE_ADVISER_NUMBER": ADVISER,
            "INTAKE_OFFICE_HOURS": "Mon-Fri 09:00-17:00",
        }
    )


@dataclass
class Process:
    """One running gateway process, reached only over the network."""

    services: Services
    server: TestServer
    smtp_port: int

    @property
    def url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")

    async def send(self, raw: bytes, *, mail_from: str) -> tuple[int, str]:
        """One message over a fresh SMTP session to this process."""
        async with SmtpClient(self.smtp_port) as client:
            return await client.send(raw, mail_from=mail_from, rcpt=SERVICE)

    def twilio(self, session: aiohttp.ClientSession) -> CallDriver:
        """Twilio placing a call to this process; its `post` also carries another call's forms
        (a retry reaching this process)."""
        return CallDriver(session, self.url, TwilioSignature(AUTH_TOKEN, PUBLIC_URL))


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Process]:
    app = create_app(settings, risk=KeywordRisk(), clock=lambda: OPEN)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Process(app[SERVICES], server, app[SMTP].port)
    finally:
        await server.close()


@pytest.fixture
async def shared_db(pg_database: str) -> AsyncIterator[Database]:
    """The session's PostgreSQL database, emptied: what every process sees."""
    await _truncate_all(pg_database)
    db = await Database.open(pg_database, Keyring.from_secret(TEST_SECRET))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def process(
    tmp_path: Path, pg_database: str, shared_db: Database
) -> Callable[[str], contextlib.AbstractAsyncContextManager[Process]]:
    """`async with process("a") as a:` runs a gateway process over the shared database."""
    return lambda name: running(gateway_settings(tmp_path / name, pg_database))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def count(db: Database, table: type, *where: object) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table).where(*where))


async def queued_mail(db: Database) -> list[tuple[str, dict]]:
    """Every outbox item as (recipient, payload), opened with the shared key."""
    async with db.sessions() as session:
        rows = (await session.scalars(select(OutboxItem))).all()
    return [
        (
            db.cipher.open(r.recipient_enc, RECIPIENT, r.id),
            json.loads(db.cipher.open(r.payload_enc, PAYLOAD, r.id)),
        )
        for r in rows
    ]
