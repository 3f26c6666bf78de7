"""A "no" leaves nothing, checked as a data-protection officer would: every table's rows are
counted before the parent writes and after the decline is answered; only the anonymous daily
tally and, for an hour at most, the keyed-hash count of automatic replies may have grown."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import func, select

from storage.tables import Base
from storage.values import Contact
from tests.conftest import DPO, files_containing
from tests.mail.conftest import MailGateway, choose_on_page, parent_mail, reply_to

ALLOWED = {"daily_tallies", "auto_reply_rate_limit"}


async def _counts(gw: MailGateway) -> dict[str, int]:
    async with gw.services.db.sessions() as session:
        return {
            name: await session.scalar(select(func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()
        }


async def _counts_once_running(gw: MailGateway) -> dict[str, int]:
    """The counts once the gateway's own first writes are done (its heartbeat: a process name
    and a key id, nothing about anyone), so that only the parent's turns can change them."""
    for _ in range(500):
        counts = await _counts(gw)
        if counts["process_heartbeats"]:
            return counts
        await asyncio.sleep(0.01)
    raise AssertionError("the gateway never said it was running")


async def test_a_no_by_reply_leaves_no_row_about_the_parent(mail_gateway: MailGateway):
    gw = mail_gateway
    before = await _counts_once_running(gw)
    assert (await gw.send(parent_mail("Quillonfrey needs a school place")))[0] == 250
    [request] = await gw.relay.wait_for(1)
    assert (await gw.send(reply_to(request, "NO")))[0] == 250
    await gw.relay.wait_for(2)  # the "nothing was kept" reply went
    await gw.outbox_drained()
    after = await _counts(gw)
    grown = {t for t in after if after[t] > before[t]}
    assert grown <= ALLOWED, {t: (before[t], after[t]) for t in grown}


async def test_a_no_on_the_page_leaves_no_row_about_the_parent(mail_gateway: MailGateway):
    gw = mail_gateway
    before = await _counts_once_running(gw)
    assert (await gw.send(parent_mail("Quillonfrey needs a school place")))[0] == 250
    [request] = await gw.relay.wait_for(1)
    link = re.search(r"https://\S+/consent/(\S+)", request.get_content()).group(1)
    async with await choose_on_page(gw, link, "no") as response:
        assert response.status == 200
    await gw.relay.wait_for(2)
    await gw.outbox_drained()
    after = await _counts(gw)
    grown = {t for t in after if after[t] > before[t]}
    assert grown <= ALLOWED, {t: (before[t], after[t]) for t in grown}


async def test_an_unsendable_decline_reply_is_deleted_after_its_time(
    tmp_path, relay, risk_detector
):
    """With no relay (the default) the reply cannot go: after INTAKE_DECLINE_REPLY_TTL it is
    deleted all the same, and with it the parent's address."""
    from datetime import timedelta

    from storage.values import utcnow
    from tests.mail.conftest import mail_settings, running_gateway

    settings = mail_settings(tmp_path / "var", relay.port, INTAKE_SMTP_RELAY="")
    async with running_gateway(settings, relay, risk_detector) as gw:
        before = await _counts_once_running(gw)
        assert (await gw.send(parent_mail("Quillonfrey needs a school place")))[0] == 250
        token = await _only_thread_token(gw)
        assert await gw.services.mail.answer_by_link(token, False) != "consented"
        waiting = await _counts(gw)
        assert waiting["outbox"] == before["outbox"] + 1  # the reply, waiting for a relay
        outbox = gw.services.records.outbox
        assert await outbox.purge_expired(utcnow() + timedelta(minutes=59)) == 0
        assert await outbox.purge_expired(utcnow() + timedelta(minutes=61)) == 1
        after = await _counts(gw)
        grown = {t for t in after if after[t] > before[t]}
        assert grown <= ALLOWED, {t: (before[t], after[t]) for t in grown}
        await gw.services.db.erase_freed_pages()
        assert files_containing(gw.data_dir, [b"parent@example.org", b"Quillonfrey"]) == []


async def _only_thread_token(gw: MailGateway) -> str:
    """The thread token of the one consent request waiting in the outbox (as the link has it)."""
    [item] = await gw.services.records.outbox.claim(limit=5)
    ref = re.search(r"\[Ref: (\S+)\]", item.payload["subject"]).group(1)
    return ref


async def test_a_bare_yes_after_a_no_is_told_nothing_is_held_once(mail_gateway: MailGateway):
    gw = mail_gateway
    assert (await gw.send(parent_mail("Quillonfrey needs a school place")))[0] == 250
    [request] = await gw.relay.wait_for(1)
    assert (await gw.send(reply_to(request, "NO")))[0] == 250
    await gw.relay.wait_for(2)
    late = reply_to(request, "Yes")
    assert (await gw.send(late))[0] == 250
    assert (await gw.send(late))[0] == 250  # the same message redelivered: one reply
    messages = await gw.relay.wait_for(3)
    await gw.outbox_drained()
    assert len(gw.relay.messages) == 3
    told = messages[2].get_content()
    assert "We are not holding any message from you" in told
    assert "Quillonfrey" not in told
    sar = await gw.services.records.access.export(Contact.email("parent@example.org"), *DPO)
    assert sar["conversations"] == [] and sar["pending_hold"] == []
