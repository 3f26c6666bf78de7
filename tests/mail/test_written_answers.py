"""Parents answering our consent email in their own words, over real SMTP: a yes with more
words keeps the rest as their message; a yes or no in another language is read; anything still
unclear gets one short "Did you mean yes?" reply, and never a second."""

from __future__ import annotations

import asyncio

import pytest

from intake.core.answers import Answer, answer_rest, read_written
from storage.values import Contact
from tests.conftest import DPO
from tests.mail.conftest import MailGateway, parent_mail, reply_to

PARENT = "parent@example.org"
FIRST = "My daughter needs an assessment for dyslexia and the school says no."


async def _asked(gw: MailGateway):
    assert (await gw.send(parent_mail(FIRST)))[0] == 250
    [request] = await gw.relay.wait_for(1)
    return request


async def _sar(gw: MailGateway) -> dict:
    return await gw.services.records.access.export(Contact.email(PARENT), *DPO)


@pytest.mark.parametrize(
    ("reply", "answer", "rest"),
    [
        (
            "Yes that is fine, thank you. Please could someone ring me after 3pm, I work mornings.",
            Answer.YES,
            "Please could someone ring me after 3pm, I work mornings",
        ),
        ("Tak", Answer.YES, ""),
        ("Tak, dziękuję", Answer.YES, ""),
        ("Nie", Answer.NO, ""),
        ("Oui merci", Answer.YES, ""),
        ("نعم", Answer.YES, ""),
        ("Não, obrigada", Answer.NO, ""),
        ("Hello,\nYES please. He is 7.", Answer.YES, "He is 7"),
        ("No thanks - I will phone instead", Answer.NO, "I will phone instead"),
        ("My son is 7 and yes he has an EHCP", None, ""),
        ("No idea what this is about, my son has autism", None, ""),
        ("ok then but who will see it?", None, ""),
    ],
)
def test_a_written_answer_is_read_from_its_first_sentence(reply, answer, rest):
    assert read_written(reply) is answer
    if answer is not None:
        assert answer_rest(reply) == rest


async def test_a_yes_with_more_words_consents_and_keeps_the_rest(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _asked(gw)
    words = "Yes that is fine, thank you. Please could someone ring me after 3pm, I work mornings."
    assert (await gw.send(reply_to(request, words)))[0] == 250
    [_, acknowledged] = await gw.relay.wait_for(2)
    assert "keep a record" in acknowledged.get_content()
    [conversation] = (await _sar(gw))["conversations"]
    texts = [m["text"] for m in conversation["messages"]]
    assert any(FIRST in t for t in texts) and any("after 3pm" in t for t in texts)


async def test_a_yes_in_polish_consents(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _asked(gw)
    assert (await gw.send(reply_to(request, "Tak")))[0] == 250
    await gw.relay.wait_for(2)
    assert len((await _sar(gw))["consent_records"]) == 1


async def test_an_unclear_reply_gets_one_did_you_mean_yes_and_never_two(
    mail_gateway: MailGateway,
):
    gw = mail_gateway
    request = await _asked(gw)
    assert (await gw.send(reply_to(request, "ok then but who will see it?")))[0] == 250
    [_, check] = await gw.relay.wait_for(2)
    body = check.get_content()
    assert "Did you mean yes" in body and "/consent/" in body
    assert check["In-Reply-To"] and "[Ref:" in str(check["Subject"])
    assert (await gw.send(reply_to(request, "and he is 7 years old")))[0] == 250
    await gw.outbox_drained()
    await asyncio.sleep(0.2)
    assert len(gw.relay.messages) == 2  # asked once; more words are held, not answered again
    held = (await _sar(gw))["pending_hold"][0]["texts"]
    assert any("who will see it" in t for t in held) and any("7 years" in t for t in held)
    assert (await gw.send(reply_to(check, "YES")))[0] == 250
    [*_, acknowledged] = await gw.relay.wait_for(3)
    assert "keep a record" in acknowledged.get_content()
    assert len((await _sar(gw))["consent_records"]) == 1


async def test_one_reminder_before_an_unanswered_hold_expires(mail_gateway: MailGateway):
    """Day five of seven: one reminder with the link; never a second; never after an answer."""
    from datetime import timedelta

    from sqlalchemy import select

    from storage.tables import PendingItem

    gw = mail_gateway
    await _asked(gw)
    assert await gw.services.gateway.remind_holds() == 0  # too soon
    async with gw.services.db.transaction() as session:  # five days pass
        row = await session.scalar(select(PendingItem))
        row.created_at -= timedelta(days=5)
        row.expires_at -= timedelta(days=5)
    assert await gw.services.gateway.remind_holds() == 1
    [_, reminder] = await gw.relay.wait_for(2)
    body = reminder.get_content()
    assert "We have not heard back" in body and "/consent/" in body
    assert reminder["In-Reply-To"] and "[Ref:" in str(reminder["Subject"])
    assert await gw.services.gateway.remind_holds() == 0  # once per thread
    assert (await gw.send(reply_to(reminder, "yes")))[0] == 250  # and the reminder is answerable
    [*_, acknowledged] = await gw.relay.wait_for(3)
    assert "keep a record" in acknowledged.get_content()
    assert len((await _sar(gw))["consent_records"]) == 1


async def test_machines_are_never_reminded(mail_gateway: MailGateway):
    gw = mail_gateway
    auto = parent_mail("Out of office until Monday.")
    auto["Auto-Submitted"] = "auto-replied"
    assert (await gw.send(auto))[0] == 250
    await asyncio.sleep(0.2)
    assert gw.relay.messages == []
    from datetime import timedelta

    from storage.values import Channel, utcnow

    whenever = utcnow() + timedelta(days=365)
    assert await gw.services.records.pending.due_for_reminder(Channel.EMAIL, whenever) == []
