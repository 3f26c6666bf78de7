"""Advisers at work in the console, through real HTTP as a browser without JavaScript: the
queue, a conversation opened by its subject, a reply that reaches the parent threaded, notes,
claiming and closing; and the refusals that keep it safe (no token, another site, guessed ids,
over-long text, a relay that is down)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.tables import AuditEntry, OutboxItem
from tests.console.conftest import Console
from tests.mail.conftest import reply_to

ADVISER = "ann@council.example"
SUBJECT = "Annual review for Ptolemy"


async def _adviser(console: Console):  # noqa: ANN202
    await console.add_staff("adviser", ADVISER, "Ann Adviser")
    return await console.browser(ADVISER)


async def _outbox_count(console: Console) -> int:
    async with console.services.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxItem)))


async def test_the_console_asks_for_sign_in_first(console: Console):
    browser = await console.browser()
    page = await browser.get("/console/")
    assert "/console/sign-in" in page.url and "Email address" in page.text
    assert "Sign in" in page.words and page.status == 200


async def test_an_adviser_opens_a_conversation_by_its_subject_and_replies_threaded(
    console: Console,
):
    conversation_id = await console.consented_email(
        "Can someone explain the annual review timeline?", subject=SUBJECT
    )
    browser = await _adviser(console)
    queue = await browser.get("/console/")
    assert f'href="/console/conversations/{conversation_id}">{SUBJECT}</a>' in queue.text
    assert "Unclaimed conversations" in queue.words and "Waiting for an answer" in queue.words

    page = await browser.get(f"/console/conversations/{conversation_id}")
    assert "Can someone explain the annual review timeline?" in page.words
    assert "parent@example.org" in page.words
    relay = console.gateway.relay
    before = len(relay.messages)
    done = await browser.post(
        f"/console/conversations/{conversation_id}/reply",
        {"reply": "The review must happen within 12 months of the plan."},
    )
    assert done.status == 200 and "Your reply is queued" in done.words
    [sent] = (await relay.wait_for(before + 1))[before:]
    assert sent["To"] == "parent@example.org"
    assert "The review must happen within 12 months" in sent.get_content()
    assert "Ann Adviser" in sent.get_content()
    assert "[Ref:" in str(sent["Subject"]) and SUBJECT not in str(sent["Subject"])
    assert sent["In-Reply-To"] and sent["References"]
    assert sent.get("Auto-Submitted") is None  # a person's reply, not an automatic one
    await console.gateway.outbox_drained()
    again = await browser.get(f"/console/conversations/{conversation_id}")
    assert "by Ann Adviser" in again.words and "Sent" in again.words
    queue = await browser.get("/console/")
    mine = queue.text.split("My conversations", 1)[1]
    assert SUBJECT in mine.split("Claimed by colleagues", 1)[0]  # replying claimed it


async def test_a_parents_new_message_reopens_a_closed_conversation(console: Console):
    conversation_id = await console.consented_email("First question", subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(f"/console/conversations/{conversation_id}")
    closed = await browser.post(f"/console/conversations/{conversation_id}/close")
    assert "The conversation is closed" in closed.words
    assert SUBJECT not in (await browser.get("/console/")).words
    [*_, ack] = [m for _, m in console.gateway.relay.messages]
    code, _ = await console.gateway.send(reply_to(ack, "One more thing about the review"))
    assert code == 250
    queue = await browser.get("/console/")
    assert SUBJECT in queue.words and "Waiting for an answer" in queue.words


async def test_a_parents_html_and_scripts_stay_text(console: Console):
    attack = '<script>alert("x")</script><img src=x onerror="alert(1)">'
    conversation_id = await console.consented_email(
        f"Hello {attack}", subject="Help <b onmouseover=alert(2)>now</b>"
    )
    browser = await _adviser(console)
    for path in ("/console/", f"/console/conversations/{conversation_id}"):
        page = await browser.get(path)
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "<b onmouseover" not in page.text
        assert "&lt;script&gt;" in page.text or "&lt;b onmouseover" in page.text
    csp = "script-src 'self'"
    async with browser.session.get(console.gateway.url + "/console/") as response:
        assert csp in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_reply_without_its_token_or_from_another_site_sends_nothing(console: Console):
    conversation_id = await console.consented_email("A question", subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(f"/console/conversations/{conversation_id}")
    queued = await _outbox_count(console)
    path = f"/console/conversations/{conversation_id}/reply"
    no_token = await browser.post(path, {"reply": "forged"}, csrf="")
    assert no_token.status == 403 and "Nothing was changed" in no_token.words
    await browser.get(f"/console/conversations/{conversation_id}")
    elsewhere = await browser.post(path, {"reply": "forged"}, Origin="http://evil.example")
    assert elsewhere.status == 403
    assert await _outbox_count(console) == queued
    page = await browser.get(f"/console/conversations/{conversation_id}")
    assert "forged" not in page.words


async def test_an_over_long_reply_is_refused_whole_and_kept_in_the_box(console: Console):
    conversation_id = await console.consented_email("A question", subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(f"/console/conversations/{conversation_id}")
    queued = await _outbox_count(console)
    long = "word " * 5000  # 25,000 characters
    page = await browser.post(f"/console/conversations/{conversation_id}/reply", {"reply": long})
    assert page.status == 400 and "the most is 20,000" in page.words
    assert "Nothing was saved" in page.words and long.strip()[:100] in page.text
    assert await _outbox_count(console) == queued


async def test_guessed_ids_are_not_found_and_audited(console: Console):
    browser = await _adviser(console)
    page = await browser.get("/console/conversations/" + "ab" * 16)
    assert page.status == 404 and "There is no conversation at this address" in page.words
    async with console.services.db.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "conversation.not_found" in actions


async def test_notes_claims_and_every_view_are_audited(console: Console):
    conversation_id = await console.consented_email("A question", subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(f"/console/conversations/{conversation_id}")
    claimed = await browser.post(f"/console/conversations/{conversation_id}/claim")
    assert "You have claimed this conversation" in claimed.words
    noted = await browser.post(
        f"/console/conversations/{conversation_id}/note", {"note": "Called the school."}
    )
    assert "Internal note" in noted.words and "Called the school." in noted.words
    empty = await browser.post(f"/console/conversations/{conversation_id}/note", {"note": " "})
    assert empty.status == 400 and "Write the note" in empty.words
    async with console.services.db.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    for action in ("conversation.view", "conversation.claim", "conversation.note"):
        assert action in actions


async def test_a_reply_while_the_relay_is_down_waits_and_goes_when_it_returns(console: Console):
    conversation_id = await console.consented_email("A question", subject=SUBJECT)
    browser = await _adviser(console)
    relay = console.gateway.relay
    relay.refuse_with = "451 4.3.0 try again later"
    await browser.get(f"/console/conversations/{conversation_id}")
    await browser.post(f"/console/conversations/{conversation_id}/reply", {"reply": "Hello Jo"})
    await asyncio.sleep(0.3)
    page = await browser.get(f"/console/conversations/{conversation_id}")
    assert "Waiting to send" in page.words
    relay.refuse_with = None
    before = len(relay.messages)
    await console.gateway.outbox_drained(seconds=20)
    assert any("Hello Jo" in m.get_content() for _, m in relay.messages[before:])
    assert "Sent" in (await browser.get(f"/console/conversations/{conversation_id}")).words


async def test_a_consented_call_is_in_the_queue_with_what_was_said_and_the_call_back(
    console: Console,
):
    from intake.core.types import Inbound, Turn
    from storage.values import Channel, Contact

    caller, gateway = Contact.phone("07911 222333"), console.services.gateway
    for turn, extra in (
        (Turn.START, {}),
        (Turn.ANSWER, {"digits": "1"}),
        (Turn.MESSAGE, {"text": "I need help with an appeal to the tribunal"}),
    ):
        await gateway.handle(Inbound(Channel.VOICE, "CAconsole", turn, contact=caller, **extra))
    assert await gateway.request_callback(Channel.VOICE, "CAconsole")
    browser = await _adviser(console)
    queue = await browser.get("/console/")
    assert "Call from +447911222333 at" in queue.words and "Call-back requested" in queue.words
    [item] = await console.services.casework.queue()
    page = await browser.get(f"/console/conversations/{item.id}")
    assert "What the caller said" in page.words and "appeal to the tribunal" in page.words
    assert "The caller asked for an adviser to call them back." in page.words
    assert "Pressed 1 on the phone" in page.words
    assert "Send reply" not in page.words  # a caller is answered by phone


async def test_a_huge_form_is_refused_with_a_message_and_changes_nothing(console: Console):
    conversation_id = await console.consented_email("A question", subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(f"/console/conversations/{conversation_id}")
    queued = await _outbox_count(console)
    page = await browser.post(
        f"/console/conversations/{conversation_id}/reply", {"reply": "x" * 200_000}
    )
    assert page.status == 413 and "Nothing was saved" in page.words
    assert "Traceback" not in page.text and "x" * 100 not in page.text  # no echo of it
    assert await _outbox_count(console) == queued


async def test_a_call_back_for_a_caller_with_no_record_is_made_then_the_number_is_deleted(
    console: Console,
):
    from intake.core.types import Inbound, Turn
    from storage.values import Channel, Contact
    from tests.conftest import files_containing

    caller, gateway = Contact.phone("07911 444555"), console.services.gateway
    await gateway.handle(Inbound(Channel.VOICE, "CAnorecord", Turn.START, contact=caller))
    await gateway.handle(
        Inbound(Channel.VOICE, "CAnorecord", Turn.ANSWER, digits="2", contact=caller)
    )
    yes = Inbound(Channel.VOICE, "CAnorecord", Turn.ANSWER, digits="1", contact=caller)
    assert await gateway.request_callback(Channel.VOICE, "CAnorecord", yes)
    browser = await _adviser(console)
    queue = await browser.get("/console/")
    assert "Call-backs for callers with no record" in queue.words
    assert "07911 444555" in queue.words and "No call-backs are owed" not in queue.words
    [owed] = await console.services.records.callbacks.owed("test")
    done = await browser.post(f"/console/callbacks/{owed.id}/made")
    assert done.status == 200 and "The caller's number has been deleted" in done.words
    assert "No call-backs are owed" in done.words and "07911 444555" not in done.words
    from storage import audit

    async with console.services.db.sessions() as session:
        actions = [entry.action for entry in await audit.entries(session)]
    assert "callback.made" in actions and "callback.owed" in actions
    await console.services.db.close()
    assert files_containing(console.gateway.data_dir, [b"447911444555", b"7911444555"]) == []
