"""Two gateway processes on one PostgreSQL database agree on everything a parent or caller
would notice.

Why: the gateway runs as several processes behind a load balancer, and a mail server or Twilio
may deliver the same thing to any of them at the same moment, or retry it after a restart.
Nothing that correctness rests on (a thread's hold, the one consent request, a webhook's first
answer, the automatic-reply limit) may live in one process's memory: it is in the database,
and the processes take turns there.
"""

from __future__ import annotations

import asyncio
import email.utils
from email import policy

import aiohttp
import pytest

from intake.core.gateway import REPLIES_PER_HOUR
from intake.voice.simulate import CallDriver, Twiml
from storage.tables import ConsentRecord, Conversation, Message, PendingItem, WebhookReplay
from tests.mail.conftest import parent_mail
from tests.multiprocess.conftest import Process, count, queued_mail

pytestmark = pytest.mark.postgres

PARENT = "parent@example.org"
ADDRESS, SPOKEN_ADDRESS = "jo.parent@example.org", "jo dot parent at example dot org"


def new_mail(text: str) -> tuple[bytes, str]:
    """A parent's first message, and its Message-ID as our reply cites it (no brackets)."""
    msgid = email.utils.make_msgid(domain="example.org")
    msg = parent_mail(text, sender=f"Jo Parent <{PARENT}>", msgid=msgid)
    return msg.as_bytes(policy=policy.SMTP), msgid.strip("<>")


async def deliver(process: Process, raw: bytes) -> int:
    """As a sending MTA would: a 451 is retried (here, once, at once)."""
    code, _ = await process.send(raw, mail_from=PARENT)
    if code == 451:
        code, _ = await process.send(raw, mail_from=PARENT)
    return code


async def test_one_message_delivered_to_both_processes_is_held_and_asked_about_once(
    process, shared_db
):
    raw, msgid = new_mail("Please can someone explain the EHCP timeline?")
    async with process("a") as a, process("b") as b:
        codes = await asyncio.gather(deliver(a, raw), deliver(b, raw))
    assert codes == [250, 250]
    mail = await queued_mail(shared_db)
    assert [(to, p["purpose"], p["in_reply_to"]) for to, p in mail] == [
        (PARENT, "consent_request", msgid)
    ]
    assert await count(shared_db, PendingItem) == 1
    assert await count(shared_db, ConsentRecord) == 0
    assert await count(shared_db, Conversation) == 0


async def test_a_consent_answer_to_both_processes_and_after_a_restart_is_kept_once(
    process, shared_db, http
):
    async with process("a") as a, process("b") as b:
        call = a.twilio(http)
        greeting = await call.start()
        assert greeting.gather_action and "/consent" in greeting.gather_action
        yes = call.form(Digits="1")
        first = await asyncio.gather(
            a.twilio(http).post(greeting.gather_action, yes),
            b.twilio(http).post(greeting.gather_action, yes),
        )
    async with process("c") as c:  # both stopped; a process started afterwards
        again = await c.twilio(http).post(greeting.gather_action, yes)
    docs = [*first, again]
    assert [d.status for d in docs] == [200, 200, 200]
    assert docs[0].gather_action and "/help" in docs[0].gather_action  # consented: how?
    assert "keep a record" in docs[0].spoken
    assert {d.raw for d in docs} == {docs[0].raw}
    assert await count(shared_db, ConsentRecord) == 1
    assert await count(shared_db, Conversation) == 1


async def test_eight_new_threads_from_one_address_across_processes_get_five_replies(
    process, shared_db
):
    mails = [new_mail(f"Question {n} about my son's school place.") for n in range(8)]
    async with process("a") as a, process("b") as b:
        codes = await asyncio.gather(
            *(deliver((a, b)[n % 2], raw) for n, (raw, _) in enumerate(mails))
        )
    assert codes == [250] * 8
    assert await count(shared_db, PendingItem) == 8
    mail = await queued_mail(shared_db)
    assert len(mail) == REPLIES_PER_HOUR
    assert {to for to, _ in mail} == {PARENT}
    assert {p["purpose"] for _, p in mail} == {"consent_request"}
    asked = [p["in_reply_to"] for _, p in mail]
    assert len(set(asked)) == len(asked) and set(asked) <= {msgid for _, msgid in mails}


async def consented_call(process: Process, http: aiohttp.ClientSession) -> tuple[CallDriver, Twiml]:
    """A call that has said yes to records, what it needs, and yes to the notice: asked for
    its address."""
    call = process.twilio(http)
    consented = await call.answer(await call.start(), digits="1")
    offered = await call.answer(consented, speech="I need advice about a school transfer")
    asked = await call.answer(offered, digits="1")
    assert asked.gather_action and "/notice-address" in asked.gather_action
    return call, asked


async def test_a_spoken_address_retried_across_processes_and_a_restart_gets_the_same_twiml(
    process, shared_db, http
):
    # The answer seals the address into the next step's URL afresh each time it is worked
    # out, so only the kept first answer can make every repeat identical.
    async with process("a") as a, process("b") as b:
        call, asked = await consented_call(a, http)
        spoken = call.form(SpeechResult=SPOKEN_ADDRESS, Confidence="0.87")
        first = await asyncio.gather(
            a.twilio(http).post(asked.gather_action, spoken),
            b.twilio(http).post(asked.gather_action, spoken),
        )
    async with process("c") as c:
        again = await c.twilio(http).post(asked.gather_action, spoken)
        docs = [*first, again]
        assert [d.status for d in docs] == [200, 200, 200]
        assert {d.raw for d in docs} == {docs[0].raw}
        assert "/notice-confirm" in (docs[0].gather_action or "")
        done = await c.twilio(http).post(docs[0].gather_action, call.form(Digits="1"))
    assert done.status == 200 and "We will email it to you" in done.spoken
    assert done.dial_number  # what the caller needs is known: now a person
    assert [(to, p["purpose"]) for to, p in await queued_mail(shared_db)] == [(ADDRESS, "notice")]


async def test_a_confirmed_notice_reaching_both_processes_at_once_is_emailed_once(
    process, shared_db, http
):
    async with process("a") as a, process("b") as b:
        call, asked = await consented_call(a, http)
        spoken = call.form(SpeechResult=SPOKEN_ADDRESS, Confidence="0.87")
        confirm = await a.twilio(http).post(asked.gather_action, spoken)
        yes = call.form(Digits="1")
        docs = await asyncio.gather(
            a.twilio(http).post(confirm.gather_action, yes),
            b.twilio(http).post(confirm.gather_action, yes),
        )
        assert [d.status for d in docs] == [200, 200] and docs[0].raw == docs[1].raw
    assert [(to, p["purpose"]) for to, p in await queued_mail(shared_db)] == [(ADDRESS, "notice")]
    assert await count(shared_db, Message, Message.direction == "out") == 1


async def test_a_call_that_ends_leaves_no_webhook_answers_behind(process, shared_db, http):
    async with process("a") as a, process("b") as b:
        call = a.twilio(http)
        greeting = await call.start()
        consented = await b.twilio(http).post(greeting.gather_action, call.form(Digits="1"))
        assert consented.status == 200
        ended = call.form(CallStatus="completed", CallDuration="42")
        statuses = await asyncio.gather(
            a.twilio(http).post("/twilio/status", ended),
            b.twilio(http).post("/twilio/status", ended),
        )
        assert [s.status for s in statuses] == [204, 204]
        call_hash = a.services.records.keys.of("call", call.sid)
    assert await count(shared_db, WebhookReplay, WebhookReplay.call_hash == call_hash) == 0


async def test_each_running_process_says_which_key_it_seals_under(process, shared_db):
    """What the health page and `intake rotate-key` rely on; a stopped process takes its
    heartbeat with it."""
    from storage.key_material import live_processes

    async def beats() -> list[str]:
        for _ in range(100):  # the first beat is written as the worker starts
            rows = await live_processes(shared_db.engine)
            if rows:
                return sorted(r.key_id for r in rows)
            await asyncio.sleep(0.05)
        return []

    async with process("a"), process("b"):
        for _ in range(100):
            if len(await beats()) == 2:
                break
            await asyncio.sleep(0.05)
        assert await beats() == [shared_db.cipher.key_id.hex()] * 2
    assert await live_processes(shared_db.engine) == []


async def test_a_concern_raised_in_one_process_reaches_consoles_on_the_other(process, shared_db):
    """LISTEN/NOTIFY: the lead's open queue may be served by any process."""
    raw, _ = new_mail("Please help, my partner hits my son")  # KeywordRisk flags it
    async with process("a") as a, process("b") as b, b.services.live.subscribe() as heard:
        assert await deliver(a, raw) == 250
        kinds = set()
        while "concern" not in kinds:
            kinds.add(await asyncio.wait_for(heard.get(), 10))
    assert "concern" in kinds
