"""The Records repository, against SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from storage.conversations import ConsentRequired
from storage.database import Database
from storage.records import Records
from storage.tables import ConsentRecord, Conversation, Message, PendingItem
from storage.values import Channel, ConsentGiven, ConsentMethod, Contact
from tests.conftest import DPO

PARENT = Contact.phone("07911 123456")


def consent(thread: str, channel: Channel = Channel.VOICE) -> ConsentGiven:
    return ConsentGiven(
        channel=channel,
        method=ConsentMethod.KEYPAD,
        wording_version="2026-11",
        wording_text="May we keep a record?",
        given_at=datetime.now(UTC),
        thread_ref=thread,
    )


async def test_held_item_round_trips_and_is_ciphertext_at_rest(db: Database, records: Records):
    await records.pending.hold(
        Channel.EMAIL,
        "t-1",
        state="asking_consent",
        ttl=timedelta(hours=1),
        contact=Contact.email("Parent@Example.org"),
        texts=["my son needs help with reading"],
    )
    held = await records.pending.held(Channel.EMAIL, "t-1")
    assert held is not None
    assert held.contact == Contact("email", "parent@example.org")
    assert held.texts == ("my son needs help with reading",)
    async with db.sessions() as session:
        row = await session.scalar(select(PendingItem))
    assert b"reading" not in row.payload_enc and b"parent@" not in row.payload_enc
    assert "t-1" not in row.thread_hash


async def test_hold_never_extends_past_its_first_expiry(records: Records):
    first = await records.pending.hold(
        Channel.EMAIL, "t-2", state="asking_consent", ttl=timedelta(hours=1)
    )
    again = await records.pending.hold(
        Channel.EMAIL, "t-2", state="asking_consent", ttl=timedelta(days=9)
    )
    assert again.expires_at == first.expires_at


async def test_expired_hold_is_invisible_and_purged_as_no_answer(records: Records):
    await records.pending.hold(
        Channel.EMAIL,
        "t-3",
        state="asking_consent",
        ttl=timedelta(seconds=1),
        texts=["words"],
    )
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert await records.pending.held(Channel.EMAIL, "t-3", now=later) is None
    assert await records.pending.purge_expired(now=later) == 1
    assert await records.pending.ciphertext(Channel.EMAIL, "t-3") is None
    assert [(c, o, n) for _, c, o, n in await records.tallies.all()] == [("email", "no_answer", 1)]


async def test_a_conversation_cannot_be_opened_without_a_consent_record(
    db: Database, records: Records
):
    with pytest.raises(ConsentRequired):
        await records.conversations.open(None, contact=PARENT, texts=["hello"])  # type: ignore[arg-type]
    with pytest.raises(ConsentRequired):
        await records.conversations.add_message("no-such-conversation", "hello")
    async with db.sessions() as session:
        assert (await session.scalars(select(Conversation))).all() == []
        assert (await session.scalars(select(Message))).all() == []


def test_consent_record_must_name_its_wording():
    with pytest.raises(ValueError, match="wording"):
        ConsentGiven(Channel.VOICE, ConsentMethod.SPEECH, "", "", datetime.now(UTC), "x")
    with pytest.raises(ValueError, match="timezone"):
        ConsentGiven(Channel.VOICE, ConsentMethod.SPEECH, "v", "w", datetime.now(), "x")  # noqa: DTZ005


async def test_consent_opens_conversation_with_held_texts_and_releases_hold(
    db: Database, records: Records
):
    await records.pending.hold(
        Channel.VOICE,
        "CA1",
        state="asking_consent",
        ttl=timedelta(hours=1),
        contact=PARENT,
        texts=["first words"],
    )
    conversation_id = await records.conversations.open(
        consent("CA1"), contact=PARENT, texts=["first words"]
    )
    await records.conversations.add_message(conversation_id, "second words")
    view = await records.conversations.view(conversation_id)
    assert [m.text for m in view.messages] == ["first words", "second words"]
    assert view.contact == PARENT
    assert await records.pending.held(Channel.VOICE, "CA1") is None
    assert await records.conversations.id_for_thread(Channel.VOICE, "CA1") == conversation_id
    async with db.sessions() as session:
        record = await session.scalar(select(ConsentRecord))
        stored = await session.scalar(select(Conversation))
    assert record.method == "keypad" and record.wording_version == "2026-11"
    assert PARENT.value.encode() not in stored.contact_enc


async def test_subject_access_finds_everything_by_phone_and_nothing_for_a_stranger(
    records: Records,
):
    conversation_id = await records.conversations.open(
        consent("CA2"), contact=PARENT, texts=["about my daughter's EHCP"]
    )
    result = await records.access.export(Contact.phone("+44 7911 123456"), *DPO)
    assert [c["id"] for c in result["conversations"]] == [conversation_id]
    assert result["conversations"][0]["messages"][0]["text"] == "about my daughter's EHCP"
    assert result["consent_records"][0]["wording_version"] == "2026-11"

    empty = await records.access.export(Contact.phone("07911 654321"), *DPO)
    assert empty["conversations"] == [] and empty["consent_records"] == []
    assert empty["pending_hold"] == []


async def test_declining_leaves_only_a_contentless_marker(db: Database, records: Records):
    await records.pending.hold(
        Channel.VOICE,
        "CA3",
        state="asking_consent",
        ttl=timedelta(hours=1),
        contact=PARENT,
        texts=["something private"],
    )
    await records.pending.mark_declined(Channel.VOICE, "CA3", ttl=timedelta(hours=1))
    held = await records.pending.held(Channel.VOICE, "CA3")
    assert held is not None and held.state == "declined"
    assert held.contact is None and held.texts == ()
    assert (await records.access.export(PARENT, *DPO))["pending_hold"] == []
    assert await records.pending.purge(Channel.VOICE, "CA3")
    assert await records.pending.held(Channel.VOICE, "CA3") is None


async def test_audit_log_is_append_only(db: Database, records: Records):
    await records.conversations.open(consent("CA4"), contact=PARENT, texts=[])
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
    async with db.engine.connect() as conn:
        actions = (await conn.execute(text("SELECT action FROM audit_log"))).scalars().all()
    assert actions == ["conversation.open"]


async def test_tallies_count_per_channel_and_outcome(records: Records):
    for _ in range(3):
        await records.tallies.count(Channel.VOICE, "declined")
    await records.tallies.count(Channel.EMAIL, "declined")
    counts = {(c, o): n for _, c, o, n in await records.tallies.all()}
    assert counts == {("voice", "declined"): 3, ("email", "declined"): 1}


async def test_a_thread_has_one_conversation_however_often_yes_arrives(
    db: Database, records: Records
):
    first = await records.conversations.open(consent("CA5"), contact=PARENT, texts=["hello"])
    again = await records.conversations.open(consent("CA5"), contact=PARENT, texts=["hello"])
    assert again == first
    async with db.sessions() as session:
        assert len((await session.scalars(select(ConsentRecord))).all()) == 1
        assert len((await session.scalars(select(Message))).all()) == 1


async def test_a_redelivered_turn_is_kept_once(db: Database, records: Records):
    conversation_id = await records.conversations.open(consent("CA6"), contact=PARENT)
    assert await records.conversations.add_message(conversation_id, "words", turn_key="k1")
    assert await records.conversations.add_message(conversation_id, "words", turn_key="k1") is None
    assert await records.conversations.add_message(conversation_id, "more words", turn_key="k2")
    assert await records.conversations.add_message(conversation_id, "no key", turn_key=None)
    view = await records.conversations.view(conversation_id)
    assert [m.text for m in view.messages] == ["words", "more words", "no key"]
