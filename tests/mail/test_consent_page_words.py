"""The consent page as a parent reads it: the service named, the question as the legend of the
choice, the deadline; one "thank you" after a yes; and an expired link that says plainly what
happened to the message and how to get help again."""

from __future__ import annotations

import re

from tests.mail.conftest import SERVICE, MailGateway, choose_on_page, parent_mail


async def _link(gw: MailGateway) -> str:
    assert (await gw.send(parent_mail("A question about transport to school")))[0] == 250
    [request] = await gw.relay.wait_for(1)
    return re.search(r"/consent/(\S+)", request.get_content()).group(1)


async def test_the_question_is_the_legend_of_the_choice_with_its_deadline(
    mail_gateway: MailGateway,
):
    gw = mail_gateway
    link = await _link(gw)
    async with gw.session.get(f"{gw.url}/consent/{link}") as response:
        page = await response.text()
    question = gw.services.wording["consent_question_web"]
    assert re.search(r"<fieldset><legend><strong>" + re.escape(question), page)
    assert "Parent Partnership Service" in page
    assert re.search(r"Please choose by \w+day \d{1,2} \w+\.", page)
    done = await (await choose_on_page(gw, link, "yes")).text()
    assert "<h1>Your answer is saved</h1>" in done and done.count("Thank you") == 1


async def test_an_expired_link_says_the_message_was_deleted_and_how_to_write_again(
    mail_gateway: MailGateway,
):
    gw = mail_gateway
    async with gw.session.get(f"{gw.url}/consent/not-a-real-link.123.abc") as response:
        page = await response.text()
        assert response.status == 404
    assert "we have deleted your message" in page and f"write to us again at {SERVICE}" in page
