"""Concerns (the policy's one exception), staff accounts and the on-call rota."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.concerns import ConcernStore, NotPermitted
from storage.database import Database
from storage.rota import RotaError, RotaStore
from storage.staff import StaffError, StaffStore
from storage.tables import Concern, Staff
from storage.values import Channel, ConcernInput, Contact, Role


def concern_input(**overrides) -> ConcernInput:
    values = dict(
        channel=Channel.VOICE,
        severity="immediate",
        categories=("physical_abuse",),
        evidence="my partner hits my son",
        thread_ref="CA9",
        contact=Contact.phone("07911 123456"),
        rules=("physical.hit",),
    )
    values.update(overrides)
    return ConcernInput(**values)


async def test_concern_keeps_minimum_encrypted_and_only_lead_reads_it(
    db: Database, concerns: ConcernStore
):
    await RotaStore(db).set("primary", "Sam Lead", "07911 000111", "lead@council.example")
    concern_id = await concerns.raise_concern(concern_input(), timedelta(minutes=5))

    [summary] = await concerns.list()
    assert summary.id == concern_id and summary.alert_status == "queued"
    assert summary.alerted == "Sam Lead"
    assert not hasattr(summary, "evidence")

    with pytest.raises(NotPermitted):
        await concerns.read(concern_id, Role.ADVISER, "staff-1")
    detail = await concerns.read(concern_id, Role.SAFEGUARDING_LEAD, "staff-2")
    assert detail.evidence == "my partner hits my son"
    assert detail.contact == Contact("phone", "+447911123456")

    async with db.sessions() as session:
        row = await session.scalar(select(Concern))
    assert b"hits" not in row.evidence_enc and b"7911" not in (row.contact_enc or b"")


async def test_concern_with_nobody_on_call_says_so(concerns: ConcernStore):
    await concerns.raise_concern(concern_input(contact=None), timedelta(minutes=5))
    [summary] = await concerns.list()
    assert summary.alert_status == "no_oncall"


async def test_acknowledging_a_concern_stops_its_alerts(concerns: ConcernStore):
    concern_id = await concerns.raise_concern(concern_input(), timedelta(minutes=5))
    await concerns.acknowledge(concern_id, "lead")
    [summary] = await concerns.list()
    assert summary.status == "acknowledged"


async def test_staff_accounts_refuse_duplicates_and_unknown_roles(db: Database):
    staff = StaffStore(db)
    await staff.add("Adviser@Council.example", "Ann Adviser", "adviser", "correct horse battery")
    with pytest.raises(StaffError, match="already exists"):
        await staff.add("adviser@council.example", "Someone Else", "admin")
    with pytest.raises(StaffError, match="unknown role"):
        await staff.add("new@council.example", "New", "superuser")
    with pytest.raises(StaffError, match="email"):
        await staff.add("not-an-address", "New", "adviser")
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Staff)) == 1
        stored = await session.scalar(select(Staff.password_hash))
    assert stored.startswith("$argon2") and "horse" not in stored
    assert await staff.verify("adviser@council.example", "correct horse battery")
    assert await staff.verify("adviser@council.example", "wrong password!!") is None
    assert await staff.verify("nobody@council.example", "correct horse battery") is None


async def test_rota_normalises_phone_numbers_and_refuses_bad_ones(db: Database):
    rota = RotaStore(db)
    entry = await rota.set("deputy", "Dee Deputy", "07911 222333", "Deputy@Council.example")
    assert entry.phone == "+447911222333" and entry.email == "deputy@council.example"
    with pytest.raises(RotaError, match="phone"):
        await rota.set("primary", "P", "12", "p@council.example")
    with pytest.raises(RotaError, match="slot"):
        await rota.set("tertiary", "P", "07911 222333", "p@council.example")
    shown = await rota.show()
    assert shown["primary"] is None and shown["deputy"] == entry
