"""One email, end to end, over real SMTP: consent by reply or link, nothing kept on a no."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

import pytest

from storage.tables import utcnow
from storage.values import Contact
from tests.conftest import DPO, files_containing
from tests.mail.conftest import (
    SERVICE,
    MailGateway,
    choose_on_page,
    form_value,
    parent_mail,
    reply_to,
)

PARENT = "parent@example.org"
WORDS = "Quillonfrey cannot get a place at Brambleworth school"


async def _consent_request(gw: MailGateway, text: str = WORDS, **kwargs: object):
    code, _ = await gw.send(parent_mail(text, **kwargs))
    assert code == 250
    [request] = await gw.relay.wait_for(1)
    return request


async def _sar(gw: MailGateway, address: str = PARENT) -> dict:
    return await gw.services.records.access.export(Contact.email(address), *DPO)


async def test_new_email_gets_exactly_one_consent_request(mail_gateway: MailGateway):
    gw = mail_gateway
    first = parent_mail(WORDS, msgid="<first-1@example.org>")
    assert (await gw.send(first))[0] == 250
    assert (await gw.send(first))[0] == 250  # the sending server retried: same message again
    [request] = await gw.relay.wait_for(1)
    await gw.outbox_drained()
    await asyncio.sleep(0.1)
    assert len(gw.relay.messages) == 1
    rcpts, _ = gw.relay.messages[0]
    assert rcpts == [PARENT]
    assert request["Auto-Submitted"] == "auto-replied"
    assert request["In-Reply-To"] == "<first-1@example.org>"
    assert re.search(r"\[Ref: [A-Za-z0-9_-]{22}\]", str(request["Subject"]))
    body = request.get_content()
    wording = gw.services.wording
    assert wording["notice_title"] in body and "Reply YES" in body
    assert f"{gw.services.settings.public_url}/consent/" in body
    sar = await _sar(gw)
    assert sar["conversations"] == [] and len(sar["pending_hold"]) == 1
    assert WORDS in sar["pending_hold"][0]["texts"][0]  # held once, not twice


async def test_yes_reply_opens_a_conversation_with_its_consent_record(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    code, _ = await gw.send(reply_to(request, "Yes please"))
    assert code == 250
    sar = await _sar(gw)
    [conversation] = sar["conversations"]
    assert WORDS in conversation["messages"][0]["text"]
    assert "Yes please" not in "".join(m["text"] for m in conversation["messages"])
    [consent] = sar["consent_records"]
    assert consent["channel"] == "email" and consent["method"] == "email_reply"
    assert consent["wording_text"] == gw.services.wording.consent_text("email")
    assert sar["pending_hold"] == []
    # An acknowledgement goes back on the same thread; later mail joins the conversation.
    [_, ack] = await gw.relay.wait_for(2)
    assert ack["References"] and "consent@" in str(ack["References"])
    assert (await gw.send(reply_to(ack, "Also, the transport has stopped.")))[0] == 250
    [conversation] = (await _sar(gw))["conversations"]
    assert "transport has stopped" in conversation["messages"][-1]["text"]
    assert "On Mon, 30 Nov" not in conversation["messages"][-1]["text"]  # quotes stripped


async def test_yes_with_more_words_keeps_them(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    await gw.send(reply_to(request, "Yes that's fine.\nHe is 9 and has autism."))
    [conversation] = (await _sar(gw))["conversations"]
    assert [WORDS in conversation["messages"][0]["text"], "has autism" in str(conversation)] == [
        True,
        True,
    ]


async def test_unclear_reply_is_held_not_taken_as_no(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    await gw.send(reply_to(request, "I don't know what to do, the school won't listen."))
    sar = await _sar(gw)
    assert sar["conversations"] == []
    assert len(sar["pending_hold"]) == 1 and len(sar["pending_hold"][0]["texts"]) == 2


async def test_reply_from_another_address_is_a_separate_enquiry(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    await gw.send(
        reply_to(request, "YES", sender="other@example.net"), mail_from="other@example.net"
    )
    assert (await _sar(gw))["conversations"] == []
    assert (await _sar(gw, "other@example.net"))["conversations"] == []


async def test_get_on_the_link_changes_nothing_and_post_consents(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    link = re.search(r"https://\S+/consent/(\S+)", request.get_content()).group(1)
    for _ in range(3):  # a mail scanner, a preview, the parent
        async with gw.session.get(f"{gw.url}/consent/{link}") as response:
            assert response.status == 200
            page = await response.text()
    assert "method='post'" in page and gw.services.wording["notice_title"] in page
    sar = await _sar(gw)
    assert sar["conversations"] == [] and len(sar["pending_hold"]) == 1
    form = form_value(page)
    async with gw.session.post(
        f"{gw.url}/consent/{link}", data={"form": form, "choice": "yes"}
    ) as response:
        assert response.status == 200
    [consent] = (await _sar(gw))["consent_records"]
    assert consent["method"] == "web_page"
    # The record keeps the words the page showed: its question and its buttons.
    wording = gw.services.wording
    assert wording["consent_question_web"] in consent["wording_text"]
    assert wording["consent_question_web"] in page and wording["consent_button_no"] in page
    assert wording["consent_button_yes"] in consent["wording_text"]
    async with gw.session.get(f"{gw.url}/consent/{link[:-3]}abc") as response:
        assert response.status == 404  # a tampered link


async def test_post_no_on_the_link_keeps_nothing(mail_gateway: MailGateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    link = re.search(r"https://\S+/consent/(\S+)", request.get_content()).group(1)
    async with await choose_on_page(gw, link, "no") as response:
        assert response.status == 200 and "Nothing was kept" in await response.text()
    sar = await _sar(gw)
    assert sar["conversations"] == [] and sar["pending_hold"] == []
    [_, declined] = await gw.relay.wait_for(2)
    assert "We have deleted your message" in declined.get_content()
    assert "unless you told us a child may be at risk" in declined.get_content()


async def _assert_no_trace(gw: MailGateway, caplog: pytest.LogCaptureFixture) -> None:
    await gw.outbox_drained()
    sar = await _sar(gw)
    assert sar == {**sar, "conversations": [], "consent_records": [], "pending_hold": []}
    await gw.services.db.erase_freed_pages()
    needles = [s.encode() for s in (PARENT, "Quillonfrey", "Brambleworth", "Jo Parent")]
    assert files_containing(gw.data_dir, needles) == []
    for needle in ("parent@example", "Quillonfrey", "Brambleworth"):
        assert needle not in caplog.text
    assert (await gw.services.outbox.counts()) == {}


async def test_no_reply_leaves_nothing(mail_gateway: MailGateway, caplog):
    caplog.set_level(logging.DEBUG)
    gw = mail_gateway
    request = await _consent_request(gw)
    assert (await gw.send(reply_to(request, "No thank you")))[0] == 250
    [_, declined] = await gw.relay.wait_for(2)
    assert declined["In-Reply-To"] and "consent@" in str(declined["References"])
    assert "without giving your name" in declined.get_content()
    await _assert_no_trace(gw, caplog)
    tallies = {(c, o): n for _, c, o, n in await gw.services.records.tallies.all()}
    assert tallies[("email", "declined")] == 1


async def test_expired_hold_leaves_nothing_and_says_so(mail_gateway: MailGateway, caplog):
    caplog.set_level(logging.DEBUG)
    gw = mail_gateway
    await _consent_request(gw)
    purged = await gw.services.gateway.expire_holds(now=utcnow() + timedelta(days=8))
    assert purged == 1
    [_, expired] = await gw.relay.wait_for(2)
    assert "did not hear back" in expired.get_content()
    await _assert_no_trace(gw, caplog)


async def test_risk_raises_a_concern_even_when_the_parent_then_says_no(mail_gateway):
    gw = mail_gateway
    request = await _consent_request(gw, text="My partner hits my son when he is angry.")
    [concern] = await gw.services.concerns.list()
    assert concern.channel == "email"
    await gw.send(reply_to(request, "NO"))
    sar = await _sar(gw)
    assert sar["conversations"] == [] and sar["pending_hold"] == []
    assert len(await gw.services.concerns.list()) == 1  # kept: the policy's one exception


async def test_risk_in_a_reply_raises_a_concern_once(mail_gateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    await gw.send(reply_to(request, "Yes.\nAlso he is hurting her at night."))
    assert len(await gw.services.concerns.list()) == 1
    assert len((await _sar(gw))["conversations"]) == 1


@pytest.mark.parametrize(
    ("headers", "mail_from"),
    [
        ({"Auto-Submitted": "auto-replied (vacation)"}, "parent@example.org"),
        ({"X-Autoreply": "yes"}, "parent@example.org"),
        ({"Precedence": "bulk"}, "parent@example.org"),
        ({"List-Id": "<parents.lists.example.org>"}, "parent@example.org"),
        ({}, ""),  # a bounce: the null reverse-path
        ({}, "MAILER-DAEMON@mx.example.org"),
    ],
)
async def test_machines_get_no_reply_and_nothing_is_held(mail_gateway, headers, mail_from):
    gw = mail_gateway
    code, _ = await gw.send(parent_mail(WORDS, headers=headers), mail_from=mail_from)
    assert code == 250
    await gw.services.mail_sender.deliver_due()
    await asyncio.sleep(0.05)
    assert gw.relay.messages == []
    assert (await _sar(gw))["pending_hold"] == []


async def test_auto_reply_to_our_request_is_not_an_answer(mail_gateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    auto = reply_to(
        request, "Yes, I am out of the office.", headers={"Auto-Submitted": "auto-replied"}
    )
    assert (await gw.send(auto))[0] == 250
    sar = await _sar(gw)
    assert sar["conversations"] == [] and len(sar["pending_hold"]) == 1


async def test_unknown_recipients_get_550_and_big_mail_552(mail_gateway):
    gw = mail_gateway
    for rcpt in ("someone@elsewhere.example", "help@pps.example.org.evil.example", "postmaster"):
        code, _ = await gw.send(parent_mail(WORDS), rcpt=rcpt)
        assert code == 550, rcpt
    assert (await gw.send(parent_mail(WORDS), rcpt="enquiries@pps.example.org"))[0] == 250
    big = parent_mail(WORDS + "\n" + "x" * 76 * 20_000)
    assert (await gw.send(big))[0] == 552
    assert (await gw.send(big, size=True))[0] == 552  # refused at MAIL FROM by SIZE
    assert (await _sar(gw))["pending_hold"].__len__() == 1


async def test_header_injection_from_a_subject_is_impossible(mail_gateway):
    gw = mail_gateway
    raw = (
        "From: parent@example.org\r\nTo: help@pps.example.org\r\n"
        "Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Ecom=0D=0A?=\r\n"
        "Message-ID: <x@example.org>\r\n\r\nHello\r\n"
    )
    assert (await gw.send(raw))[0] == 250
    [request] = await gw.relay.wait_for(1)
    assert request["Bcc"] is None and gw.relay.messages[0][0] == [PARENT]
    assert "\n" not in str(request["Subject"])


async def test_no_open_relay_even_with_many_recipients(mail_gateway):
    gw = mail_gateway
    code, _ = await gw.send(parent_mail(WORDS), rcpt=[SERVICE, "victim@example.com"])
    assert code == 250  # delivered to us only; the other recipient was refused at RCPT
    [request] = await gw.relay.wait_for(1)
    assert gw.relay.messages[0][0] == [PARENT]


async def test_a_repeated_no_opens_nothing_and_asks_nothing(mail_gateway):
    gw = mail_gateway
    request = await _consent_request(gw)
    no = reply_to(request, "No")
    assert (await gw.send(no))[0] == 250
    assert (await gw.send(no))[0] == 250  # redelivered after the thread was declined
    await gw.relay.wait_for(2)
    await gw.outbox_drained()
    await asyncio.sleep(0.05)
    assert len(gw.relay.messages) == 2  # the consent request and one "nothing was kept"
    assert (await _sar(gw))["pending_hold"] == []


async def test_one_address_gets_at_most_five_automatic_replies_an_hour(mail_gateway):
    """A sender who writes again and again (or a forged one) cannot make us mail without end:
    every message is still held, but only five consent requests go to the address."""
    gw = mail_gateway
    for n in range(8):
        message = parent_mail(f"Message {n} about transport", msgid=f"<many-{n}@example.org>")
        assert (await gw.send(message))[0] == 250
    await gw.relay.wait_for(5)
    await gw.outbox_drained()
    await asyncio.sleep(0.2)
    assert len(gw.relay.messages) == 5
    assert {tuple(rcpts) for rcpts, _ in gw.relay.messages} == {(PARENT,)}
    assert len((await _sar(gw))["pending_hold"]) == 8
    assert gw.services.metrics.value("intake_mail_replies_limited_total") == 3
