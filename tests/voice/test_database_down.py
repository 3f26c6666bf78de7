"""With the database stopped in the middle of a call, every webhook still answers with TwiML that
puts the caller through to a person; once the database is back, calls go as usual again, with no
restart. A private throwaway PostgreSQL cluster is stopped for this, never the shared server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from intake.app import SERVICES, create_app
from intake.settings import Settings
from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver
from storage.database import Database
from storage.rota import RotaStore
from tests.private_postgres import PrivatePostgres
from tests.voice.conftest import ADVISER, AUTH_TOKEN, CLOSED, LEAD, OPEN, PUBLIC_URL, voice_settings

pytestmark = pytest.mark.slow


@contextlib.asynccontextmanager
async def running(settings: Settings, risk_detector, clock: list) -> AsyncIterator[str]:  # noqa: ANN001
    settings.prepare_data_dir()
    db = await Database.open(settings.database_url, settings.keyring())
    await RotaStore(db).set("primary", "Sam Lead", LEAD, "lead@council.example")
    await db.close()
    app = create_app(settings, risk=risk_detector, clock=lambda: clock[0], smtp=False)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        assert app[SERVICES].settings.database_url.startswith("postgresql")
        yield str(server.make_url("/")).rstrip("/")
    finally:
        await server.close()


async def test_callers_reach_a_person_while_the_database_is_down_and_calls_recover(
    tmp_path: Path, private_postgres: PrivatePostgres, risk_detector, twilio_rest
):
    settings = replace(
        voice_settings(tmp_path / "var", twilio_rest.url),
        database_url=private_postgres.url,
    )
    clock = [OPEN]
    async with running(settings, risk_detector, clock) as url, aiohttp.ClientSession() as http:
        signature = TwilioSignature(AUTH_TOKEN, PUBLIC_URL)
        call = CallDriver(http, url, signature, "+447911555070")
        asked = await call.start()
        assert asked.gather_action and "/consent" in asked.gather_action

        private_postgres.stop()
        during = await call.answer(asked, digits="1")
        assert during.status == 200 and during.dial_number == ADVISER  # a person, in hours
        clock[0] = CLOSED
        late = await CallDriver(http, url, signature, "+447911555071").start()
        assert late.status == 200 and late.dial_number == LEAD  # the lead out of hours

        private_postgres.start()
        clock[0] = OPEN
        after = CallDriver(http, url, signature, "+447911555072")
        again = await after.start()
        assert again.gather_action and "/consent" in again.gather_action
        kept = await after.answer(again, digits="1")
        assert "<Dial" not in kept.raw and kept.gather_action  # asked how we can help
