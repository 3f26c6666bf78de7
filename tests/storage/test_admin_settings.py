"""The admin's office hours and wording versions, kept the same way on SQLite and PostgreSQL:
all seven days saved together, a version's texts and review date as given, a name never used
twice, and each change audited."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from intake.core.wording import current_wording
from storage.admin_settings import AdminSettings, VersionTaken
from storage.database import Database
from storage.staff import StaffStore
from storage.tables import AuditEntry


async def _admin(db: Database) -> str:
    return (await StaffStore(db).add("ada@council.example", "Ada Admin", "admin", None)).id


async def test_hours_are_saved_whole_and_cleared_back_to_the_default(db: Database):
    store, admin = AdminSettings(db), await _admin(db)
    assert await store.office_hours() is None
    await store.save_office_hours({0: (time(9), time(17)), 5: (time(10), time(12, 30))}, admin)
    saved = await store.office_hours()
    assert saved is not None and saved.updated_by == "Ada Admin"
    assert saved.days[0] == (time(9), time(17)) and saved.days[5] == (time(10), time(12, 30))
    assert [saved.days[d] for d in (1, 2, 3, 4, 6)] == [None] * 5
    with pytest.raises(ValueError):
        await store.save_office_hours({1: (time(17), time(9))}, admin)
    assert (await store.office_hours()).days[0] == (time(9), time(17))  # nothing half-saved
    await store.clear_office_hours(admin)
    assert await store.office_hours() is None


async def test_a_wording_version_is_kept_as_given_and_its_name_used_once(db: Database):
    store, admin = AdminSettings(db), await _admin(db)
    texts = dict(current_wording().texts)
    await store.add_wording("2026-12c", texts, date(2027, 11, 30), "2026-12b", admin)
    [kept] = await store.wording_versions()
    assert kept.texts == texts and kept.review_by == date(2027, 11, 30)
    assert kept.based_on == "2026-12b" and kept.created_by == "Ada Admin"
    assert await store.wording_names() == {"2026-12c": date(2027, 11, 30)}
    with pytest.raises(VersionTaken):
        await store.add_wording("2026-12c", texts, date(2027, 11, 30), "2026-12b", admin)
    assert await store.consents_by_version() == {}
    async with db.sessions() as s:
        actions = set(await s.scalars(select(AuditEntry.action)))
    assert "wording.add" in actions
