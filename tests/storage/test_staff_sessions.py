"""Server-side sessions, on SQLite and PostgreSQL: a session ends after 30 minutes unused, 12
hours after sign-in, when signed out, and at once when the account is disabled; the database
holds only a keyed hash of the cookie's token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from storage.database import Database
from storage.records import Records
from storage.staff import StaffStore
from storage.staff_sessions import StaffSessions
from storage.tables import Staff, StaffSession

PASSWORD = "a long staff password 4 tests"


async def _signed_in(db: Database) -> tuple[StaffSessions, str, str]:
    member = await StaffStore(db).add("ann@council.example", "Ann Adviser", "adviser", PASSWORD)
    sessions = StaffSessions(db, Records(db).keys)
    return sessions, member.id, await sessions.start(member.id)


async def _age(db: Database, **back: timedelta) -> None:
    async with db.transaction() as session:
        row = await session.scalar(select(StaffSession))
        for column, by in back.items():
            setattr(row, column, getattr(row, column) - by)


async def test_a_live_session_opens_and_its_token_is_not_stored(db: Database):
    sessions, staff_id, token = await _signed_in(db)
    found = await sessions.resolve(token)
    assert found is not None and found.staff.id == staff_id
    async with db.sessions() as session:
        stored = await session.scalar(select(StaffSession.id))
    assert token not in stored and len(stored) == 64
    assert await sessions.resolve(token + "x") is None and await sessions.resolve(None) is None


async def test_thirty_minutes_unused_ends_it(db: Database):
    sessions, _, token = await _signed_in(db)
    await _age(db, last_seen_at=timedelta(minutes=31))
    assert await sessions.resolve(token) is None
    async with db.sessions() as session:
        assert await session.scalar(select(StaffSession)) is None  # gone, not just refused


async def test_twelve_hours_after_sign_in_ends_it_however_busy(db: Database):
    sessions, _, token = await _signed_in(db)
    await _age(db, created_at=timedelta(hours=12, minutes=1))
    assert await sessions.resolve(token) is None


async def test_a_page_refreshing_itself_does_not_keep_it_alive(db: Database):
    sessions, _, token = await _signed_in(db)
    await _age(db, last_seen_at=timedelta(minutes=5))
    async with db.sessions() as session:
        before = await session.scalar(select(StaffSession.last_seen_at))
    assert await sessions.resolve(token, touch=False) is not None
    async with db.sessions() as session:
        assert await session.scalar(select(StaffSession.last_seen_at)) == before
    assert await sessions.resolve(token) is not None
    async with db.sessions() as session:
        assert await session.scalar(select(StaffSession.last_seen_at)) > before


async def test_signing_out_or_disabling_the_account_ends_it_at_once(db: Database):
    sessions, staff_id, token = await _signed_in(db)
    second = await sessions.start(staff_id)
    await sessions.end(token, actor=staff_id)
    assert await sessions.resolve(token) is None and await sessions.resolve(second) is not None
    async with db.transaction() as session:
        await session.execute(update(Staff).where(Staff.id == staff_id).values(active=False))
    assert await sessions.resolve(second) is None
