"""Many callers disclosing harm at the same moment, on PostgreSQL, more than the pool has
connections: every one is put through to the lead and every concern is kept. (A call's turn
holds a connection while its concern is written in a transaction of its own; turns must leave
connections for that, or the concerns would wait for ever and be lost with their turns.)"""

from __future__ import annotations

import asyncio

import pytest

from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver
from storage.rota import RotaStore
from storage.tables import Concern, ConsentRecord
from tests.multiprocess.conftest import count
from tests.voice.conftest import AUTH_TOKEN, LEAD, PUBLIC_URL

pytestmark = pytest.mark.postgres

CALLS = 40  # over the PostgreSQL pool's 20 connections


async def test_simultaneous_disclosures_all_reach_the_lead_and_all_are_kept(
    process, shared_db, http
):
    await RotaStore(shared_db).set("primary", "Sam Lead", LEAD, "lead@council.example")
    async with process("a") as a:

        async def disclose(n: int) -> str | None:
            call = CallDriver(
                http, a.url, TwilioSignature(AUTH_TOKEN, PUBLIC_URL), f"+4479115{n:05d}"
            )
            asked = await call.start()
            said = await call.answer(asked, speech="no, but my partner hits my son at night")
            return said.dial_number

        dialled = await asyncio.wait_for(asyncio.gather(*(disclose(n) for n in range(CALLS))), 120)
    assert dialled == [LEAD] * CALLS
    assert await count(shared_db, Concern) == CALLS
    assert await count(shared_db, ConsentRecord) == 0
