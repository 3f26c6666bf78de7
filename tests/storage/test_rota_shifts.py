"""The on-call rota as shifts: a week entered ahead takes over when it starts, overlaps in a slot
are refused with nothing saved, `intake oncall set` still puts someone on call now, and who is
on call is one query. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, select, text

from storage.database import Database
from storage.migrate import HERE
from storage.rota import RotaError, RotaStore, ShiftClash
from storage.tables import AuditEntry, RotaShift
from storage.values import OnCallEntry, utcnow

SAM = ("Sam Lead", "07911 000111", "sam@council.example")
ALEX = ("Alex Cover", "07911 000222", "alex@council.example")
PAT = ("Pat Deputy", "07911 000333", "pat@council.example")


def entry(slot: str, person: tuple[str, str, str]) -> OnCallEntry:
    name, phone, email = person
    return OnCallEntry(slot, name, "+44" + phone.replace(" ", "")[1:], email)


async def audited(db: Database, action: str) -> int:
    async with db.sessions() as session:
        query = select(func.count()).where(AuditEntry.action == action)
        return await session.scalar(query.select_from(AuditEntry))


async def test_a_week_entered_ahead_is_on_call_during_that_week_only(db: Database):
    rota = RotaStore(db)
    week_starts = (utcnow() + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    await rota.add_shift("primary", *SAM, utcnow(), week_starts, actor="admin-1")
    await rota.add_shift(
        "primary", *ALEX, week_starts, week_starts + timedelta(days=7), actor="admin-1"
    )

    assert (await rota.show())["primary"] == entry("primary", SAM)
    midweek = week_starts + timedelta(days=2)
    assert await rota.show(now=midweek) == {"primary": entry("primary", ALEX), "deputy": None}
    assert (await rota.show(now=week_starts))["primary"] == entry("primary", ALEX)  # on the hour
    after = week_starts + timedelta(days=7, minutes=1)
    assert (await rota.show(now=after))["primary"] is None


async def test_an_overlapping_shift_in_the_same_slot_is_refused_and_nothing_is_saved(
    db: Database,
):
    rota = RotaStore(db)
    start = utcnow() + timedelta(days=1)
    first = await rota.add_shift("primary", *SAM, start, start + timedelta(days=7))

    with pytest.raises(ShiftClash) as refused:
        await rota.add_shift("primary", *ALEX, start + timedelta(days=3), None)
    assert refused.value.clash == first and refused.value.field == "starts"
    assert "Sam Lead" in str(refused.value)
    with pytest.raises(ShiftClash):  # from before it into it
        await rota.add_shift(
            "primary", *ALEX, start - timedelta(hours=1), start + timedelta(hours=1)
        )
    assert [s.id for s in await rota.shifts()] == [first.id]
    assert await audited(db, "oncall.shift_added") == 1

    # the next shift may start as the first ends, and the deputy's slot is its own
    await rota.add_shift("primary", *ALEX, first.ends_at, first.ends_at + timedelta(days=7))
    await rota.add_shift("deputy", *PAT, start, start + timedelta(days=7))
    assert len(await rota.shifts()) == 3


async def test_a_shift_until_further_notice_gives_way_to_one_planned_ahead(db: Database):
    rota = RotaStore(db)
    await rota.set("deputy", *PAT)
    later = utcnow() + timedelta(days=30)
    await rota.add_shift("deputy", *ALEX, later, later + timedelta(days=7))
    pat, alex = await rota.shifts()
    assert (pat.name, pat.ends_at) == ("Pat Deputy", later)  # on call until Alex begins
    assert (await rota.show())["deputy"] == entry("deputy", PAT)
    assert (await rota.show(now=later + timedelta(hours=1)))["deputy"] == entry("deputy", ALEX)
    assert await audited(db, "oncall.shift_ended") == 1
    with pytest.raises(ShiftClash):  # a shift with an end is never moved
        await rota.add_shift("deputy", *SAM, later + timedelta(days=1), None)


async def test_oncall_set_takes_over_now_and_leaves_a_planned_shift_to_start(db: Database):
    rota = RotaStore(db)
    await rota.set("primary", *SAM)
    later = utcnow() + timedelta(days=2)
    planned = await rota.add_shift("deputy", *ALEX, later, later + timedelta(days=1))
    await rota.set("deputy", *PAT)

    now = await rota.show()
    assert now == {"primary": entry("primary", SAM), "deputy": entry("deputy", PAT)}
    assert (await rota.show(now=later + timedelta(hours=1)))["deputy"] == entry("deputy", ALEX)
    [pat] = [s for s in await rota.shifts() if s.name == "Pat Deputy"]
    assert pat.ends_at == planned.starts_at  # until the planned shift, not over it

    await rota.set("primary", *ALEX)  # Sam's open-ended shift ends now
    assert (await rota.show())["primary"] == entry("primary", ALEX)
    assert "Sam Lead" not in {s.name for s in await rota.shifts()}
    assert await audited(db, "oncall.set") == 3


async def test_removing_a_shift_to_come_deletes_it_and_a_current_one_ends_now(db: Database):
    rota = RotaStore(db)
    await rota.set("primary", *SAM)
    [current] = await rota.shifts()
    soon = utcnow() + timedelta(days=1)
    future = await rota.add_shift("deputy", *PAT, soon, None)

    ended = await rota.remove_shift(current.id, actor="admin-1")
    assert ended.ends_at is not None and ended.ends_at <= utcnow()
    await rota.remove_shift(future.id, actor="admin-1")
    assert await rota.shifts() == []
    assert await rota.show() == {"primary": None, "deputy": None}
    async with db.sessions() as session:  # the past is kept: who was on call, and when
        assert await session.scalar(select(func.count()).select_from(RotaShift)) == 1
    with pytest.raises(LookupError):
        await rota.remove_shift(current.id)  # already over
    with pytest.raises(LookupError):
        await rota.remove_shift("0" * 32)
    assert await audited(db, "oncall.shift_ended") == 1
    assert await audited(db, "oncall.shift_removed") == 1


async def test_a_shift_needs_a_real_phone_and_address_and_an_end_after_its_start(db: Database):
    rota = RotaStore(db)
    start = utcnow() + timedelta(hours=1)
    shift = await rota.add_shift("primary", "Dee", "07911 222333", "Dee@Council.example", start)
    assert (shift.phone, shift.email, shift.ends_at) == (
        "+447911222333",
        "dee@council.example",
        None,
    )
    ok = {"slot": "deputy", "phone": "07911 222333", "email": "d@council.example"}
    past = utcnow() - timedelta(days=10)
    for wrong, starts, ends in (
        ({"phone": "12"}, start, None),
        ({"email": "not an address"}, start, None),
        ({"slot": "tertiary"}, start, None),
        ({}, start, start - timedelta(minutes=1)),  # ends before it starts
        ({}, past, past + timedelta(days=1)),  # over already
    ):
        given = {**ok, **wrong}
        with pytest.raises(RotaError) as refused:
            await rota.add_shift(given["slot"], "Dee", given["phone"], given["email"], starts, ends)
        assert refused.value.field == (next(iter(wrong), "ends"))
    with pytest.raises(RotaError, match="200 characters"):
        await rota.add_shift("deputy", "D" * 201, "07911 222333", "d@council.example", start)
    assert len(await rota.shifts()) == 1


async def test_who_is_on_call_now_is_one_query(db: Database):
    rota = RotaStore(db)
    await rota.set("primary", *SAM)
    await rota.set("deputy", *PAT)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.sessions() as session:
            await session.connection()
            statements.clear()
            shown = await rota.show(session)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert shown == {"primary": entry("primary", SAM), "deputy": entry("deputy", PAT)}
    assert len(statements) == 1, statements


async def test_who_was_on_call_before_the_upgrade_stays_on_call(db: Database):
    """Migration 0009 turns each row of the old oncall table into an open-ended shift."""

    def migrate_to(revision: str):  # noqa: ANN202
        def run(connection) -> None:  # noqa: ANN001
            config = Config()
            config.set_main_option("script_location", str(HERE / "migrations"))
            config.attributes["connection"] = connection
            if revision == "head":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)

        return run

    set_at = utcnow() - timedelta(days=30)
    async with db.engine.begin() as conn:
        await conn.run_sync(migrate_to("0008"))
        await conn.execute(
            text(
                "INSERT INTO oncall (slot, name, phone, email, updated_at) "
                "VALUES ('primary', 'Sam Lead', '+447911000111', 'sam@council.example', :at)"
            ),
            {"at": set_at if not db.is_sqlite else set_at.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
    async with db.engine.begin() as conn:
        await conn.run_sync(migrate_to("head"))

    rota = RotaStore(db)
    assert await rota.show() == {"primary": entry("primary", SAM), "deputy": None}
    [shift] = await rota.shifts()
    assert shift.starts_at == set_at and shift.ends_at is None
