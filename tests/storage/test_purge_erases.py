"""A purge leaves nothing: not the canary, not even the ciphertext bytes, in any file."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.database import Database
from storage.records import Records
from storage.tables import PendingItem
from storage.values import Channel, Contact
from tests.conftest import files_containing


async def _hold_canary(records: Records, thread: str) -> tuple[str, bytes]:
    canary = f"canary-{uuid.uuid4().hex}"
    # Enough text to spill over several pages, as a long email would.
    await records.pending.hold(
        Channel.EMAIL,
        thread,
        state="asking_consent",
        ttl=timedelta(days=7),
        contact=Contact.email(f"{canary}@example.org"),
        texts=[canary * 200, "short " + canary],
    )
    sealed = await records.pending.ciphertext(Channel.EMAIL, thread)
    assert sealed is not None
    return canary, sealed


async def test_sqlite_purge_erases_canary_and_ciphertext_from_db_and_wal(
    sqlite_db: Database, tmp_path: Path
):
    records = Records(sqlite_db)
    data_dir = tmp_path / "data"
    # Other threads' rows stay, so the purged row shares pages with live data.
    for n in range(20):
        await records.pending.hold(
            Channel.EMAIL,
            f"other-{n}",
            state="asking_consent",
            ttl=timedelta(days=7),
            texts=["unrelated"],
        )
    canary, sealed = await _hold_canary(records, "thread-canary")
    needles = [canary.encode(), sealed[17:49], sealed[-32:]]
    assert files_containing(data_dir, [sealed[17:49]]), "the ciphertext should be on disk first"

    assert await records.pending.purge(Channel.EMAIL, "thread-canary", outcome="declined")

    assert files_containing(data_dir, needles) == []
    assert len(list(data_dir.glob("intake.db*"))) >= 1
    async with sqlite_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PendingItem)) == 20


async def test_sqlite_expiry_purge_erases_too(sqlite_db: Database, tmp_path: Path):
    from datetime import UTC, datetime

    records = Records(sqlite_db)
    canary, sealed = await _hold_canary(records, "thread-expiring")
    await records.pending.purge_expired(now=datetime.now(UTC) + timedelta(days=8))
    assert files_containing(tmp_path / "data", [canary.encode(), sealed[17:49]]) == []


async def test_purge_removes_every_row_on_either_backend(db: Database):
    records = Records(db)
    await _hold_canary(records, "thread-any")
    await records.pending.purge(Channel.EMAIL, "thread-any")
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PendingItem)) == 0
