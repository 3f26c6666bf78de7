"""The durable outbox: retries with back-off, visible permanent failures, encrypted rows, and
one sender per item when several gateways share PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from intake.mail.sender import OutboxSender
from storage.database import Database
from storage.outbox import Outbox
from storage.tables import OutboxItem
from tests.conftest import files_containing
from tests.mail.conftest import MailGateway, parent_mail

PAYLOAD = {"from": "help@pps.example.org", "subject": "s", "body": "b", "erase": True}


async def test_rows_are_ciphertext(db: Database):
    outbox = Outbox(db)
    await outbox.enqueue("email", "secret.parent@example.org", {**PAYLOAD, "body": "canary-words"})
    async with db.sessions() as session:
        row = await session.scalar(select(OutboxItem))
    assert b"secret.parent" not in row.recipient_enc and b"canary" not in row.payload_enc
    [item] = await outbox.claim()
    assert item.recipient == "secret.parent@example.org" and item.attempts == 1
    assert await outbox.claim() == []  # leased: not claimed twice


async def test_postgres_claims_are_disjoint(db: Database):
    outbox = Outbox(db)
    for n in range(40):
        await outbox.enqueue("email", f"p{n}@example.org", PAYLOAD)
    first, second = await asyncio.gather(outbox.claim(25), outbox.claim(25))
    ids = [i.id for i in first] + [i.id for i in second]
    assert len(ids) == len(set(ids)) == 40


async def test_permanent_failure_is_visible_and_erased(mail_gateway: MailGateway):
    gw = mail_gateway
    gw.relay.refuse_with = "550 5.1.1 <parent@example.org> no such user"
    assert (await gw.send(parent_mail("Quillonfrey needs help")))[0] == 250
    await gw.outbox_drained()
    [failure] = await gw.services.outbox.failures()
    assert failure.erased and failure.last_error == "smtp 550"
    assert "parent@" not in (failure.last_error or "")
    await gw.services.db.erase_freed_pages()
    # The hold still has the parent (it expires on its own); the outbox keeps nothing of them.
    async with gw.services.db.sessions() as session:
        row = await session.scalar(select(OutboxItem))
    assert row.status == "failed"
    assert (
        gw.services.outbox._cipher.open(row.recipient_enc, "outbox.recipient", row.id) == "erased"
    )


async def test_temporary_failure_is_retried_then_sent(mail_gateway: MailGateway):
    gw = mail_gateway
    gw.relay.refuse_with = "451 4.3.0 try later"
    assert (await gw.send(parent_mail("Quillonfrey needs help")))[0] == 250
    for _ in range(600):  # up to 30 s: a busy machine must not make this flaky
        async with gw.services.db.sessions() as session:
            row = await session.scalar(select(OutboxItem))
        if row is not None and row.attempts >= 2:
            break
        await asyncio.sleep(0.05)
    assert row.status == "queued" and row.last_error == "smtp 451"
    gw.relay.refuse_with = None
    await gw.relay.wait_for(1)
    await gw.outbox_drained()
    assert await gw.services.outbox.counts() == {}


async def test_relay_down_is_retried_with_backoff(db: Database, tmp_path):
    outbox = Outbox(db)
    sender = OutboxSender(outbox, "127.0.0.1:1", domain="pps.example.org", base_delay=60)
    await outbox.enqueue("email", "p@example.org", PAYLOAD)
    assert await sender.deliver_due() == 1
    assert await sender.deliver_due() == 0  # backed off
    async with db.sessions() as session:
        row = await session.scalar(select(OutboxItem))
    assert row.status == "queued" and row.attempts == 1 and row.last_error
    assert files_containing(tmp_path, [b"p@example.org"]) == []
