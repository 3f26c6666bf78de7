"""Keys, as a data-protection officer checks them: every ciphertext names its key and is bound
to its row; `rotate-key` moves every field to a new key while the service writes, can be stopped
and resumed, and leaves nothing the old key is needed for. SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, text, update

from intake.mail.threads import sign_link, token_for_message, verify_link
from storage.crypto import VERSION, FieldCipher, Keyring, SecretKeyError
from storage.database import Database
from storage.records import Records
from storage.rotation import SEALED, KeyRotation
from storage.tables import Base, Conversation
from storage.values import Channel, ConcernInput, ConsentGiven, ConsentMethod, Contact
from tests.conftest import DPO, TEST_SECRET

NEW_SECRET = "a-brand-new-secret-key-from-the-secret-store-7Qx2"
PARENT = Contact.email("canary.parent@example.org")


def _consent(thread: str) -> ConsentGiven:
    return ConsentGiven(
        channel=Channel.EMAIL,
        method=ConsentMethod.EMAIL_REPLY,
        wording_version="2026-11",
        wording_text="May we keep a record?",
        given_at=datetime.now(UTC),
        thread_ref=thread,
    )


async def _reopen(db: Database, keyring: Keyring) -> Database:
    url = db.engine.url.render_as_string(hide_password=False)
    return await Database.open(url, keyring)


async def _fill(records: Records, n: int = 3) -> list[str]:
    """One of every kind of sealed row: conversations and messages, a hold, a concern, an outbox
    item and a webhook answer."""
    ids = []
    for i in range(n):
        ids.append(
            await records.conversations.open(
                _consent(f"thread-{i}"), contact=PARENT, texts=[f"first words {i}"]
            )
        )
        await records.conversations.add_message(ids[-1], f"more words {i}")
    await records.pending.hold(
        Channel.EMAIL, "held", state="asking_consent", ttl=timedelta(hours=1), texts=["held"]
    )
    await records.concerns.raise_concern(
        ConcernInput(
            channel=Channel.EMAIL,
            severity="immediate",
            categories=("physical_abuse",),
            evidence="he hits my son",
            thread_ref="thread-0",
            contact=PARENT,
            rules=("physical.hit",),
        ),
        timedelta(minutes=5),
    )
    await records.outbox.enqueue("email", "canary.parent@example.org", {"subject": "s"})
    await records.replays.keep(records.replays.request_key("fp"), "CA1", "<Response/>")
    return ids


async def _sealed_values(db: Database) -> list[bytes]:
    values = []
    async with db.engine.connect() as conn:
        for spec in SEALED:
            for row in await conn.execute(select(*(spec.table.c[c] for c in spec.columns))):
                values.extend(v for v in row if v is not None)
    return values


async def _readable(db: Database, conversation_ids: list[str]) -> None:
    records = Records(db)
    for i, cid in enumerate(conversation_ids):
        view = await records.conversations.view(cid)
        assert [m.text for m in view.messages] == [f"first words {i}", f"more words {i}"]
        assert view.contact.value == PARENT.value
    assert (await records.pending.held(Channel.EMAIL, "held")).texts == ("held",)
    [summary] = await records.concerns.list()
    detail = await records.concerns.read(summary.id, _lead(), "lead")
    assert detail.evidence == "he hits my son"
    [item] = await records.outbox.claim()
    assert item.recipient == "canary.parent@example.org"
    assert await records.replays.answer_for(records.replays.request_key("fp")) == "<Response/>"
    export = await records.access.export(PARENT, *DPO)  # found by the blind index, unchanged
    assert len(export["conversations"]) == len(conversation_ids)


def _lead():
    from storage.values import Role

    return Role.SAFEGUARDING_LEAD


def test_every_sealed_column_is_known_to_the_rotation():
    """A new *_enc column that rotate-key did not know would be lost with the old key."""
    known = {(s.table.name, c) for s in SEALED for c in s.columns}
    sealed = {
        (t.name, c.name)
        for t in Base.metadata.sorted_tables
        for c in t.c
        if c.name.endswith("_enc")
    }
    assert sealed == known


async def test_a_ciphertext_names_its_key_and_cannot_move_to_another_row(db: Database):
    """The attack: copy one parent's sealed address over another row's. It must not open."""
    records = Records(db)
    first = await records.conversations.open(_consent("a"), contact=PARENT, texts=["a"])
    second = await records.conversations.open(
        _consent("b"), contact=Contact.email("other@example.org"), texts=["b"]
    )
    async with db.engine.begin() as conn:
        sealed = await conn.scalar(select(Conversation.contact_enc).where(Conversation.id == first))
        assert sealed[:5] == VERSION + db.cipher.key_id
        await conn.execute(
            update(Conversation).where(Conversation.id == second).values(contact_enc=sealed)
        )
    with pytest.raises(InvalidTag):
        await records.conversations.view(second)
    assert (await records.conversations.view(first)).contact.value == PARENT.value


async def test_values_sealed_before_key_ids_are_still_read(keyring: Keyring):
    cipher = FieldCipher(keyring)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = b"\x01" * 12  # an old value may even begin like a new one
    old_form = nonce + AESGCM(keyring.current.key).encrypt(nonce, b"old words", b"messages.body")
    assert cipher.open(old_form, "messages.body", "any-row") == "old words"
    assert not cipher.is_current(old_form)
    with pytest.raises(InvalidTag):
        cipher.open(old_form, "conversations.contact", "any-row")


async def test_rotation_moves_every_field_to_the_new_key(db: Database):
    ids = await _fill(Records(db))
    token = token_for_message(db.keyring, PARENT.value, "<sent-before@example.org>")
    link = sign_link(db.keyring, token, datetime.now(UTC) + timedelta(days=1))
    old_id = db.cipher.key_id
    rotating = await _reopen(db, Keyring.from_secret(NEW_SECRET, [TEST_SECRET]))
    try:
        progress = await KeyRotation(rotating, batch=2).reseal_all()
        assert progress.total == len(await _sealed_values(rotating)) and not progress.unreadable
        assert await KeyRotation(rotating).remaining() == {}
        assert not any(v[1:5] == old_id for v in await _sealed_values(rotating))
    finally:
        await rotating.close()
    after = await _reopen(db, Keyring.from_secret(NEW_SECRET))  # the old key is gone
    try:
        await _readable(after, ids)
        assert verify_link(after.keyring, link) is not None  # links already emailed still work
        assert token_for_message(after.keyring, PARENT.value, "<sent-before@example.org>") == token
    finally:
        await after.close()


async def test_without_the_old_key_the_database_is_refused_clearly(db: Database):
    await _fill(Records(db), 1)
    with pytest.raises(SecretKeyError, match="INTAKE_OLD_SECRET_KEY"):
        await _reopen(db, Keyring.from_secret(NEW_SECRET))


async def test_rotation_stopped_half_way_resumes_and_everything_stays_readable(db: Database):
    ids = await _fill(Records(db), 6)
    rotating = await _reopen(db, Keyring.from_secret(NEW_SECRET, [TEST_SECRET]))
    try:

        def stop_after_first_batch(table: str, count: int) -> None:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C

        with pytest.raises(KeyboardInterrupt):
            await KeyRotation(rotating, batch=2).reseal_all(stop_after_first_batch)
        left = await KeyRotation(rotating).remaining()
        assert left and sum(left.values()) < len(await _sealed_values(rotating))
        await _readable(rotating, ids)  # half old, half new: both keys open
        await Records(rotating).outbox.enqueue("email", "x@example.org", {})  # put it back
        await KeyRotation(rotating, batch=2).reseal_all()
        assert await KeyRotation(rotating).remaining() == {}
    finally:
        await rotating.close()


async def test_rotation_runs_while_the_service_writes(db: Database):
    """A process already on the new key keeps taking messages during the rotation."""
    ids = await _fill(Records(db), 4)
    rotating = await _reopen(db, Keyring.from_secret(NEW_SECRET, [TEST_SECRET]))
    serving = await _reopen(db, Keyring.from_secret(NEW_SECRET, [TEST_SECRET]))
    try:
        stop = asyncio.Event()

        async def parents_write() -> int:
            written = 0
            while not stop.is_set():
                await Records(serving).conversations.add_message(ids[0], "during")
                written += 1
                await asyncio.sleep(0)
            return written

        writer = asyncio.create_task(parents_write())
        await KeyRotation(rotating, batch=1).reseal_all()
        stop.set()
        written = await writer
        assert written > 0
        assert await KeyRotation(rotating).remaining() == {}
    finally:
        await serving.close()
        await rotating.close()
    after = await _reopen(db, Keyring.from_secret(NEW_SECRET))
    try:
        view = await Records(after).conversations.view(ids[0])
        assert [m.text for m in view.messages].count("during") == written
    finally:
        await after.close()


async def test_key_material_holds_no_plaintext_key(db: Database):
    async with db.engine.connect() as conn:
        [sealed] = (await conn.execute(text("SELECT secret_enc FROM key_material"))).scalars()
    assert db.keyring.lookup_key.hex().encode() not in sealed
    assert db.keyring.lookup_key not in sealed
    assert "lookup" not in repr(db.keyring) or db.keyring.lookup_key.hex() not in repr(db.keyring)
    assert db.keyring.current.key.hex() not in repr(db.keyring)  # never printed by accident
