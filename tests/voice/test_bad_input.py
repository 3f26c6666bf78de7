"""Forged, malformed, huge and replayed webhooks: a clear 4xx or safe TwiML, never a 500 with
dead air, and nothing stored for a caller who has not said yes."""

from __future__ import annotations

import random

from sqlalchemy import func, select, text

from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver
from storage.tables import ConsentRecord, Conversation, Message
from tests.voice.conftest import ADVISER, AUTH_TOKEN, CLOSED, LEAD, PUBLIC_URL, Gateway


async def count(gateway: Gateway, table) -> int:
    async with gateway.services.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def test_forged_or_missing_signature_gets_403_and_no_twiml(gateway: Gateway):
    call = gateway.call()
    forged = await call.post("/twilio/voice", call.form(), signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status == 403 and "<Response" not in forged.raw
    wrong_key = TwilioSignature("another-account-token-000000000", "https://intake.council.example")
    other = await call.post(
        "/twilio/voice", call.form(), signature=wrong_key.sign("/twilio/voice", call.form())
    )
    assert other.status == 403
    # Signed for a different host: a proxy or an attacker replaying elsewhere.
    elsewhere = TwilioSignature(AUTH_TOKEN, "https://evil.example")
    moved = await call.post(
        "/twilio/voice", call.form(), signature=elsewhere.sign("/twilio/voice", call.form())
    )
    assert moved.status == 403
    # A signed form whose fields were changed in transit.
    form = call.form()
    signature = TwilioSignature(AUTH_TOKEN, "https://intake.council.example").sign(
        "/twilio/voice/consent?n=1", form
    )
    form["Digits"] = "1"
    tampered = await call.post("/twilio/voice/consent?n=1", form, signature=signature)
    assert tampered.status == 403
    async with gateway.session.post(gateway.url + "/twilio/voice") as resp:
        assert resp.status == 403
    assert await count(gateway, Conversation) == 0


async def test_missing_callsid_is_a_clear_400(gateway: Gateway):
    call = gateway.call()
    form = call.form()
    del form["CallSid"]
    doc = await call.post("/twilio/voice", form)
    assert doc.status == 400 and "CallSid" in doc.raw


async def test_extra_fields_are_ignored(gateway: Gateway):
    call = gateway.call()
    doc = await call.post("/twilio/voice", call.form(Unexpected="x", StirVerstat="TN-Validation"))
    assert doc.status == 200 and doc.gather_action


async def test_a_body_that_is_not_a_form_is_refused(gateway: Gateway):
    signature = TwilioSignature(AUTH_TOKEN, "https://intake.council.example").sign(
        "/twilio/voice", {}
    )
    async with gateway.session.post(
        gateway.url + "/twilio/voice",
        data=b'{"CallSid": "CA00"}',
        headers={"Content-Type": "application/json", "X-Twilio-Signature": signature},
    ) as resp:
        assert resp.status == 400
        assert "CallSid" in await resp.text()


async def test_a_one_megabyte_body_is_refused_cleanly(gateway: Gateway):
    call = gateway.call()
    form = call.form(SpeechResult="a" * (1024 * 1024 + 10))
    doc = await call.post("/twilio/voice/consent?n=1", form)
    assert doc.status == 413
    assert await count(gateway, Conversation) == 0


async def test_random_bytes_and_ten_thousand_words_get_safe_twiml(gateway: Gateway):
    call = gateway.call()
    greeting = await call.start()
    junk = random.Random(7).randbytes(600).decode("latin-1")
    unclear = await call.answer(greeting, speech=junk)
    assert unclear.status == 200 and (unclear.gather_action or unclear.dial_number)
    words = " ".join(
        random.Random(4).choice(["school", "plan", "the", "help", "my", "son"])
        for _ in range(10_000)
    )
    call2 = gateway.call()
    long = await call2.answer(await call2.start(), speech=words)
    assert long.status == 200 and (long.gather_action or long.dial_number)
    for table in (ConsentRecord, Conversation, Message):
        assert await count(gateway, table) == 0


async def test_unknown_callsid_on_a_later_step_is_asked_for_consent(gateway: Gateway):
    call = gateway.call()
    doc = await call.post("/twilio/voice/help?n=4", call.form(SpeechResult="hello"))
    assert doc.status == 200 and doc.gather_action and "/consent" in doc.gather_action
    status = await call.post("/twilio/status", call.form(CallStatus="completed"))
    assert status.status == 204
    assert await count(gateway, Conversation) == 0


async def test_replayed_webhooks_do_not_duplicate_records(gateway: Gateway):
    call = gateway.call("+447911555030")
    greeting = await call.start()
    first = await call.answer(greeting, digits="1")
    again = await call.answer(greeting, digits="1")  # Twilio retrying the same step
    assert again.raw == first.raw
    how = await call.answer(first, digits="2")  # no notice by email
    said = await call.answer(how, speech="about my daughter's annual review")
    repeat = await call.answer(how, speech="about my daughter's annual review")
    assert repeat.raw == said.raw
    assert await count(gateway, ConsentRecord) == 1
    assert await count(gateway, Message) == 1


async def test_a_handler_that_fails_still_puts_the_caller_through(gateway: Gateway):
    async with gateway.services.db.engine.begin() as conn:  # a real failure inside the step
        await conn.execute(text("DROP TABLE pending_items"))
    call = gateway.call()
    doc = await call.start()
    assert doc.status == 200 and doc.dial_number == ADVISER
    assert "Sorry" in doc.spoken and "<Record" not in doc.raw
    gateway.clock[0] = CLOSED
    out_of_hours = await gateway.call().start()
    assert out_of_hours.dial_number == LEAD  # the on-call lead out of hours


async def test_a_retry_reaching_another_gateway_process_is_stored_once(gateway: Gateway):
    from aiohttp.test_utils import TestServer

    from intake.app import create_app
    from nlp.risk import get_detector

    # A second gateway process's app on the same database, with nothing in memory shared.
    app = create_app(
        gateway.services.settings, risk=get_detector(), clock=lambda: gateway.clock[0], smtp=False
    )
    other = TestServer(app, host="127.0.0.1")
    await other.start_server()
    try:
        call = gateway.call("+447911555031")
        how = await call.answer(await call.answer(await call.start(), digits="1"), digits="2")
        said = await call.answer(how, speech="about the transport appeal")
        form = call.form(SpeechResult="about the transport appeal", Confidence="0.87")
        retried = await CallDriver(
            gateway.session,
            str(other.make_url("/")).rstrip("/"),
            TwilioSignature(AUTH_TOKEN, PUBLIC_URL),
        ).post(how.gather_action, form)
        assert retried.status == 200 and retried.dial_number == said.dial_number
    finally:
        await other.close()
    assert await count(gateway, Message) == 1
    assert await count(gateway, ConsentRecord) == 1
