"""Replies to our consent request as mail clients really send them: only a signature, only our
own email quoted back, a YES in capitals above a long quoted thread, a reply in HTML only. Each
gets the answer a person would give, and nothing of the parent's is lost or kept against their
answer (nor is our own email kept as if the parent had written it)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from storage.values import Contact
from tests.conftest import DPO
from tests.mail.conftest import SERVICE, MailGateway, parent_mail, reply_to

PARENT = "parent@example.org"
FIRST = "My son is nine and his school will not put his support plan in place."


async def _asked(gw: MailGateway) -> EmailMessage:
    assert (await gw.send(parent_mail(FIRST)))[0] == 250
    [request] = await gw.relay.wait_for(1)
    return request


async def _sar(gw: MailGateway) -> dict:
    return await gw.services.records.access.export(Contact.email(PARENT), *DPO)


async def test_a_reply_that_is_only_a_signature_is_asked_did_you_mean_yes(
    mail_gateway: MailGateway,
):
    gw = mail_gateway
    request = await _asked(gw)
    signature_only = reply_to(request, "\n-- \nJo Parent\nSent from my iPhone")
    assert (await gw.send(signature_only))[0] == 250
    [_, check] = await gw.relay.wait_for(2)
    assert "Did you mean yes" in check.get_content()
    [held] = (await _sar(gw))["pending_hold"]
    assert not any("We got your email" in t for t in held["texts"])  # ours is not theirs
    assert any(FIRST in t for t in held["texts"])  # and their first message is still held


async def test_a_reply_that_only_quotes_our_email_keeps_none_of_it(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _asked(gw)
    assert (await gw.send(reply_to(request, "")))[0] == 250
    [_, check] = await gw.relay.wait_for(2)
    assert "Did you mean yes" in check.get_content()
    assert (await gw.send(reply_to(check, "yes")))[0] == 250
    await gw.relay.wait_for(3)
    [conversation] = (await _sar(gw))["conversations"]
    texts = " ".join(m["text"] for m in conversation["messages"] if m["direction"] == "in")
    assert FIRST in texts and "We got your email" not in texts and "Did you mean" not in texts


async def test_a_capital_yes_above_a_long_quoted_thread_consents_and_keeps_only_theirs(
    mail_gateway: MailGateway,
):
    gw = mail_gateway
    request = await _asked(gw)
    older = "\n".join(f"> > earlier line {n} of a long thread" for n in range(200))
    reply = reply_to(request, "YES")
    reply.set_content(reply.get_content() + "\n" + older)
    assert (await gw.send(reply))[0] == 250
    [_, acknowledged] = await gw.relay.wait_for(2)
    assert "keep a record" in acknowledged.get_content()
    held = await _sar(gw)
    [record] = held["consent_records"]
    assert record["method"] == "email_reply" and record["answer_words"] == "YES"
    texts = " ".join(m["text"] for m in held["conversations"][0]["messages"])
    assert FIRST in texts and "earlier line" not in texts and "We got your email" not in texts


async def test_a_reply_in_html_only_is_read_like_any_other(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _asked(gw)
    reply = reply_to(request, "placeholder")
    quoted = "".join(f"<p>{line}</p>" for line in request.get_content().splitlines()[:5])
    reply.set_content(
        "<html><body><div>Yes please, that is fine.</div><br>"
        f"<blockquote type='cite'>{quoted}</blockquote></body></html>",
        subtype="html",
    )
    assert (await gw.send(reply))[0] == 250
    [_, acknowledged] = await gw.relay.wait_for(2)
    assert "keep a record" in acknowledged.get_content()
    assert len((await _sar(gw))["consent_records"]) == 1


async def test_a_no_above_a_quoted_thread_keeps_nothing(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _asked(gw)
    assert (await gw.send(reply_to(request, "NO")))[0] == 250
    [_, declined] = await gw.relay.wait_for(2)
    assert "deleted your message" in declined.get_content()
    await asyncio.sleep(0.1)
    assert (await _sar(gw))["pending_hold"] == [] and SERVICE
