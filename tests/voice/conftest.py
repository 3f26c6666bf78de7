"""A running gateway (real aiohttp server on loopback, real SQLite file) and a Twilio-like
client that signs its requests the way Twilio does."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from intake.app import SERVICES, Services, create_app
from intake.logs import configure_logging
from intake.settings import Settings
from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver
from storage.database import Database
from storage.rota import RotaStore
from tests.fakes.twilio_rest import FakeTwilioRest

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC_URL = "https://intake.council.example"
ADVISER = "+441632960001"
LEAD, DEPUTY = "+447700900111", "+447700900222"
OPEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday morning
CLOSED = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)  # a Saturday night


@dataclass
class Gateway:
    services: Services
    server: TestServer
    session: aiohttp.ClientSession
    data_dir: Path
    clock: list[datetime]
    twilio: FakeTwilioRest

    @property
    def url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")

    def call(self, caller: str | None = "+447911123456") -> CallDriver:
        return CallDriver(self.session, self.url, TwilioSignature(AUTH_TOKEN, PUBLIC_URL), caller)


ACCOUNT_SID = "AC" + "1" * 32


def voice_settings(data_dir: Path, twilio_api_url: str) -> Settings:
    return Settings.from_env(
        {
            "INTAKE_DATA_DIR": str(data_dir),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "INTAKE_TWILIO_API_URL": twilio_api_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_PHONE_NUMBER": "+441632960000",
            "INTAKE_PUBLIC_URL": PUBLIC_URL,
            "INTAKE_ADVISER_NUMBER": ADVISER,
            "INTAKE_OFFICE_HOURS": "Mon-Fri 09:00-17:00",
            "INTAKE_SMTP_PORT": "0",  # any free port: tests run side by side
        }
    )


@pytest.fixture
def risk_detector():
    from nlp.risk import get_detector

    return get_detector()


@pytest.fixture
async def twilio_rest() -> AsyncIterator[FakeTwilioRest]:
    fake = FakeTwilioRest(ACCOUNT_SID, AUTH_TOKEN)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def gateway(
    tmp_path: Path, risk_detector, twilio_rest: FakeTwilioRest
) -> AsyncIterator[Gateway]:
    data_dir = tmp_path / "var"
    settings = voice_settings(data_dir, twilio_rest.url)
    settings.prepare_data_dir()
    configure_logging(data_dir, "DEBUG")
    db = await Database.open(settings.database_url, settings.keyring())
    await RotaStore(db).set("primary", "Sam Lead", LEAD, "lead@council.example")
    await db.close()  # the app opens its own, as `intake serve` does
    clock = [OPEN]
    app = create_app(settings, risk=risk_detector, clock=lambda: clock[0])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    try:
        yield Gateway(app[SERVICES], server, session, data_dir, clock, twilio_rest)
    finally:
        await session.close()
        await server.close()
        for handler in list(logging.getLogger().handlers):
            handler.close()
            logging.getLogger().removeHandler(handler)
