"""Retention as a data-protection officer checks it: a closed conversation past its period is
gone (on SQLite from every byte of the database file and its WAL), an open one or a recent one
stays, a safeguarding concern outlives the conversation it came from, and only a decided
concern past its own, longer period goes. The audit log says what went by id and count only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from intake.core.types import Inbound, Turn
from storage.database import Database
from storage.records import Records
from storage.retention import Retention
from storage.staff import StaffStore
from storage.tables import (
    AuditEntry,
    Concern,
    ConsentRecord,
    Conversation,
    Message,
)
from storage.values import Channel, Contact, utcnow
from tests.conftest import files_containing, make_gateway

YEAR = 365


async def _call(db: Database, thread: str, words: str, phone: str) -> str:
    """A caller says yes to a record, then tells us `words`; returns the conversation's id."""
    gateway, contact = make_gateway(db), Contact.phone(phone)
    await gateway.handle(Inbound(Channel.VOICE, thread, Turn.START, contact=contact))
    await gateway.handle(Inbound(Channel.VOICE, thread, Turn.ANSWER, digits="1", contact=contact))
    await gateway.handle(Inbound(Channel.VOICE, thread, Turn.MESSAGE, text=words, contact=contact))
    found = await Records(db).conversations.id_for_thread(Channel.VOICE, thread)
    assert found is not None
    return found


async def _age(db: Database, conversation_id: str, *, days: int, closed: bool = True) -> None:
    """As if the parent last wrote `days` ago and staff closed the case then."""
    then = utcnow() - timedelta(days=days)
    async with db.transaction() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_inbound_at=then, created_at=then, case_closed_at=then if closed else None)
        )


async def _count(db: Database, table: type, *where: object) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def test_a_closed_conversation_past_its_period_is_erased_and_others_stay(db: Database):
    words = f"about the annual review {uuid.uuid4().hex}"
    old = await _call(db, "CAold", words, "07911 100001")
    still_open = await _call(db, "CAopen", "an open case", "07911 100002")
    recent = await _call(db, "CArecent", "a recent case", "07911 100003")
    await _age(db, old, days=2 * YEAR + 1)
    await _age(db, still_open, days=3 * YEAR, closed=False)
    await _age(db, recent, days=YEAR)
    retention = Retention(db, 2 * YEAR, None)

    planned = await retention.due()
    assert planned.conversations == (old,) and planned.concerns == ()
    assert await _count(db, Conversation) == 3  # the dry run changed nothing

    done = await retention.purge()

    assert done.conversations == (old,)
    assert await _count(db, Conversation, Conversation.id == old) == 0
    assert await _count(db, Message, Message.conversation_id == old) == 0
    assert await _count(db, Conversation) == 2
    view = await Records(db).conversations.view(still_open)
    assert view.messages[0].text == "an open case"
    async with db.sessions() as s:
        consent = await s.scalar(select(ConsentRecord).where(ConsentRecord.given_at.is_not(None)))
        records = list(await s.scalars(select(ConsentRecord)))
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "retention.conversations_purged")
        )
    assert consent is not None and len(records) == 3  # that consent was given is kept
    assert sum(r.answer_enc is None for r in records) == 1
    assert entry.detail["ids"] == old and entry.detail["count"] == 1
    assert words not in str(entry.detail)
    assert (await retention.purge()).total == 0  # nothing twice


async def test_a_concern_outlives_its_conversation_and_goes_only_once_decided(db: Database):
    conversation = await _call(db, "CArisk", "my partner hits my son", "07911 200001")
    [concern] = await Records(db).concerns.list()
    await _age(db, conversation, days=3 * YEAR)
    retention = Retention(db, 2 * YEAR, 6 * YEAR)

    assert (await retention.purge()).conversations == (conversation,)
    async with db.sessions() as s:
        kept = await s.get(Concern, concern.id)
    assert kept is not None and kept.conversation_id is None  # kept, unlinked

    async def aged(days: int, status: str) -> None:
        async with db.transaction() as s:
            then = utcnow() - timedelta(days=days)
            await s.execute(
                update(Concern)
                .where(Concern.id == concern.id)
                .values(raised_at=then, decided_at=then if status == "decided" else None)
            )

    await aged(7 * YEAR, "acknowledged")
    await Records(db).concerns.acknowledge(concern.id, "Lee Lead")
    assert (await retention.purge()).concerns == ()  # acknowledged but undecided: kept

    lead = await StaffStore(db).add("lee@council.example", "Lee Lead", "safeguarding_lead", None)
    await Records(db).concerns.decide(concern.id, lead, "advice", "Advice given by phone.")
    await aged(5 * YEAR, "decided")
    assert (await retention.purge()).concerns == ()  # decided, but within its period
    await aged(6 * YEAR + 1, "decided")
    assert (await retention.purge()).concerns == (concern.id,)
    assert await _count(db, Concern) == 0


async def test_without_periods_nothing_is_purged(db: Database):
    conversation = await _call(db, "CAkeep", "keep me", "07911 300001")
    await _age(db, conversation, days=20 * YEAR)
    assert (await Retention(db, None, None).purge()).total == 0
    assert await _count(db, Conversation) == 1


async def test_a_parent_who_writes_again_is_not_purged(db: Database):
    conversation = await _call(db, "CAback", "first call", "07911 400001")
    await _age(db, conversation, days=3 * YEAR)
    await Records(db).conversations.add_message(conversation, "I am back")  # reopens the case
    assert (await Retention(db, 2 * YEAR, None).purge()).total == 0


async def test_sqlite_purged_words_are_in_no_byte_of_the_database_or_wal(
    sqlite_db: Database, tmp_path: Path
):
    canary = f"canary-{uuid.uuid4().hex}"
    old = await _call(sqlite_db, "CAcanary", f"{canary} " * 50, "07911 500001")
    for n in range(10):  # live rows share the purged rows' pages
        await _call(sqlite_db, f"CAlive{n}", f"unrelated {n}", f"07911 5001{n:02d}")
    async with sqlite_db.sessions() as s:
        sealed = await s.scalar(select(Message.body_enc).where(Message.conversation_id == old))
    needles = [canary.encode(), sealed[17:49], sealed[-32:]]
    assert files_containing(tmp_path / "data", [sealed[17:49]]), "on disk before the purge"
    await _age(sqlite_db, old, days=3 * YEAR)

    assert (await Retention(sqlite_db, 2 * YEAR, None).purge()).conversations == (old,)

    assert files_containing(tmp_path / "data", needles) == []
    assert await _count(sqlite_db, Conversation) == 10
