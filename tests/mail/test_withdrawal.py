"""A parent who changes their mind: a no after a yes on the consent page withdraws consent. The
conversation and its words go at once (from the database file and its WAL too); a safeguarding
concern on the thread stays, and its chronology tells the lead; the page says what happened."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from storage.tables import Concern, ConsentRecord, Conversation, Message
from storage.values import Contact
from tests.conftest import DPO, files_containing
from tests.mail.conftest import MailGateway, choose_on_page, parent_mail

PARENT = "parent@example.org"
CANARY = "Zanzibarquill"


async def _consented(gw: MailGateway, text: str) -> str:
    assert (await gw.send(parent_mail(text)))[0] == 250
    [request] = await gw.relay.wait_for(1)
    link = re.search(r"/consent/(\S+)", request.get_content()).group(1)
    assert (await choose_on_page(gw, link, "yes")).status == 200
    return link


async def _count(gw: MailGateway, table) -> int:  # noqa: ANN001
    async with gw.services.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)))


async def test_a_no_after_a_yes_erases_the_conversation_and_says_so(mail_gateway: MailGateway):
    gw = mail_gateway
    link = await _consented(gw, f"{CANARY} needs a new school placement")
    async with gw.session.get(f"{gw.url}/consent/{link}") as page:
        text = await page.text()
    assert "If you have changed your mind" in text and "No, delete what you keep" in text
    response = await choose_on_page(gw, link, "no")
    body = await response.text()
    assert response.status == 200 and "You have withdrawn your consent" in body
    assert "We have deleted your messages" in body and "Thank you. We will keep" not in body
    sar = await gw.services.records.access.export(Contact.email(PARENT), *DPO)
    assert sar["conversations"] == [] and sar["consent_records"] == []
    assert await _count(gw, Conversation) == 0 and await _count(gw, Message) == 0
    async with gw.services.db.sessions() as session:
        record = await session.scalar(select(ConsentRecord))
    assert record.withdrawn_at is not None  # that consent was given and withdrawn, no more
    await gw.services.db.erase_freed_pages()
    assert files_containing(gw.data_dir, [CANARY.encode(), PARENT.encode()]) == []


async def test_a_concern_on_the_thread_stays_and_the_lead_is_told(mail_gateway: MailGateway):
    gw = mail_gateway
    link = await _consented(gw, "I am scared, my partner hits my son")  # KeywordRisk flags it
    await choose_on_page(gw, link, "no")
    assert await _count(gw, Conversation) == 0
    [concern] = await gw.services.concerns.list()
    events = [line.event for line in await gw.services.concerns.chronology(concern.id)]
    assert "consent_withdrawn" in events
    async with gw.services.db.sessions() as session:
        assert await session.scalar(select(Concern.conversation_id)) is None


async def test_a_reply_asking_us_to_delete_my_records_withdraws_consent(
    mail_gateway: MailGateway,
):
    from tests.mail.conftest import reply_to

    gw = mail_gateway
    await _consented(gw, f"{CANARY} is struggling, my partner hits my son")
    [_, acknowledged] = await gw.relay.wait_for(2)
    asked = reply_to(acknowledged, "Please delete my records. Thank you for your help.")
    assert (await gw.send(asked))[0] == 250
    [*_, answer] = await gw.relay.wait_for(3)
    assert "We have deleted your messages and your details" in answer.get_content()
    assert await _count(gw, Conversation) == 0 and await _count(gw, Message) == 0
    [concern] = await gw.services.concerns.list()
    assert concern.parent_left == "consent_withdrawn"  # kept, and the lead's queue says so
    await gw.services.db.erase_freed_pages()
    assert files_containing(gw.data_dir, [CANARY.encode()]) == []


async def test_a_no_to_an_advisers_question_is_not_a_withdrawal(mail_gateway: MailGateway):
    from tests.mail.conftest import reply_to

    gw = mail_gateway
    await _consented(gw, "A question about my daughter's transport to school.")
    [_, acknowledged] = await gw.relay.wait_for(2)
    assert (await gw.send(reply_to(acknowledged, "No thanks, that is all for now.")))[0] == 250
    await gw.outbox_drained()
    assert await _count(gw, Conversation) == 1
