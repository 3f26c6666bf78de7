"""SQLite's one writer, taken in turn: writers of one process queue in order and never meet
"database is locked"; readers never wait for them; a writer that fails or gives up lets go."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.engine import make_engine
from storage.sqlite_writer import WriterTurn, writer_turn


@pytest.fixture
async def engine(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    yield engine
    await engine.dispose()


async def test_a_second_writer_waits_for_the_first_to_commit_and_both_land(engine):
    first_wrote, let_first_commit = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (who) VALUES ('first')"))
            first_wrote.set()
            await let_first_commit.wait()
            order.append("first committed")

    async def second() -> None:
        await first_wrote.wait()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (who) VALUES ('second')"))
            order.append("second wrote")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_wrote.wait()
    await asyncio.sleep(0.2)  # the second has long since tried to write
    assert order == []
    let_first_commit.set()
    await asyncio.gather(*tasks)
    assert order == ["first committed", "second wrote"]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT who FROM t ORDER BY id"))).scalars().all() == [
            "first",
            "second",
        ]


async def test_a_reader_does_not_wait_for_a_writer(engine):
    async with engine.connect() as writer, engine.connect() as reader:
        await writer.execute(text("INSERT INTO t (who) VALUES ('unseen')"))
        count = await asyncio.wait_for(reader.scalar(text("SELECT count(*) FROM t")), 2)
        assert count == 0  # the writer has not committed
        await writer.commit()
        assert await reader.scalar(text("SELECT count(*) FROM t")) == 1


async def test_a_failed_write_rolled_back_lets_the_next_writer_in(engine):
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (id, who) VALUES (1, 'one')"))
    with pytest.raises(Exception, match="UNIQUE"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (id, who) VALUES (1, 'again')"))
    async with engine.begin() as conn:
        await asyncio.wait_for(conn.execute(text("INSERT INTO t (who) VALUES ('next')")), 2)


async def test_waiters_get_the_place_first_come_first_served():
    turn = WriterTurn()
    assert turn.take_if_free()
    order: list[int] = []

    async def wait(n: int) -> None:
        await turn.take()
        order.append(n)
        turn.let_go()

    tasks = []
    for n in range(5):
        tasks.append(asyncio.create_task(wait(n)))
        await asyncio.sleep(0)
    assert not turn.take_if_free()
    turn.let_go()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert turn.take_if_free()  # the last one let go


async def test_a_waiter_that_gives_up_passes_its_turn_on():
    turn = WriterTurn()
    assert turn.take_if_free()
    quitter = asyncio.create_task(turn.take())
    stayer = asyncio.create_task(turn.take())
    await asyncio.sleep(0)
    turn.let_go()  # handed to the quitter, who is cancelled before it hears
    quitter.cancel()
    await asyncio.wait_for(stayer, 2)
    assert quitter.cancelled()
    turn.let_go()
    assert turn.take_if_free()


async def test_waiting_too_long_fails_as_sqlite_would():
    turn = WriterTurn()
    assert turn.take_if_free()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await turn.take(0.05)
    turn.let_go()
    assert turn.take_if_free()  # the one that gave up is not still queued


async def test_a_writer_letting_go_on_another_thread_wakes_the_waiter():
    turn = WriterTurn()
    assert turn.take_if_free()
    waiter = asyncio.create_task(turn.take())
    await asyncio.sleep(0)
    threading.Thread(target=turn.let_go).start()
    await asyncio.wait_for(waiter, 2)


def test_one_file_has_one_place_and_memory_its_own(tmp_path: Path):
    path = tmp_path / "x.db"
    assert writer_turn(str(path)) is writer_turn(str(tmp_path / "." / "x.db"))
    assert writer_turn(":memory:") is not writer_turn(":memory:")


async def test_a_commit_is_on_disk_before_it_returns(engine, tmp_path: Path, monkeypatch):
    """SQLite commits without syncing (synchronous=NORMAL); the driver syncs the WAL itself,
    off the event loop, and the commit returns only after that."""
    import os

    import storage.sqlite_files as files

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(files.os, "fsync", fsync)
    wal = str((tmp_path / "w.db-wal").resolve())
    async with engine.connect() as conn:
        assert await conn.scalar(text("PRAGMA synchronous")) == 1  # NORMAL
        await conn.execute(text("INSERT INTO t (who) VALUES ('kept')"))
        assert synced == []
        await conn.commit()
        assert wal in synced
        synced.clear()
        await conn.execute(text("SELECT count(*) FROM t"))
        await conn.commit()  # nothing to commit: nothing to sync
        assert synced == []
