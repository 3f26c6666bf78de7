"""Many calls at once, more than the database has connections: every caller is answered and
every decision is kept. (A turn waiting for SQLite's one writer holds a pooled connection; the
writer must never wait for a connection those turns hold, or every call would hang.)"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.tables import ConsentRecord, PendingItem
from tests.voice.conftest import ADVISER, Gateway

CALLS = 64  # over the SQLite pool's 30 connections


async def test_more_calls_than_connections_are_all_answered(gateway: Gateway):
    async def one(n: int) -> tuple[str | None, int]:
        call = gateway.call(f"+4479115{n:05d}")
        asked = await call.start()
        answered = await call.answer(asked, digits="1" if n % 2 else "2")  # half say no
        helped = await call.answer(answered, speech="I need help with an EHC plan review")
        if helped.dial_number is None:  # a consented caller is offered the notice, then on
            helped = await call.answer(helped, digits="2")
        ended = await call.hang_up("completed")
        return helped.dial_number, ended.status

    # A liveness bound, not a speed test: before the fix this hung on the pool for ever.
    results = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(CALLS))), 120)
    assert results == [(ADVISER, 204)] * CALLS
    async with gateway.services.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ConsentRecord)) == CALLS // 2
        assert await s.scalar(select(func.count()).select_from(PendingItem)) == 0
