"""Whole calls against a running gateway, as Twilio would place them."""

from __future__ import annotations

import asyncio
import json

from storage.values import Contact
from tests.cli.helpers import sar as run_sar
from tests.conftest import files_containing
from tests.voice.conftest import ADVISER, CLOSED, DEPUTY, LEAD, Gateway

DISCLOSURE = "my partner hits my son when he has been drinking"


async def sar(gateway: Gateway, phone: str) -> dict:
    """`intake sar` in its own process, off this event loop: the gateway under test runs on
    it, and must go on serving (and finishing its own transactions) while the command runs."""
    done = await asyncio.to_thread(run_sar, gateway.data_dir, "--phone", phone)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def never_records(*docs) -> None:
    for doc in docs:
        assert "<Record" not in doc.raw and "record=" not in doc.raw.lower()


async def test_greeting_asks_consent_by_key_or_speech_in_a_british_voice(gateway: Gateway):
    call = gateway.call()
    greeting = await call.start()
    assert greeting.status == 200
    assert "confidential" in greeting.spoken and "999" in greeting.spoken
    assert "press 0" in greeting.spoken.lower()
    assert greeting.gather_attrs["input"] == "dtmf speech"
    assert greeting.gather_attrs["numDigits"] == "1"
    assert greeting.gather_attrs["language"] == "en-GB" and "yes" in greeting.gather_attrs["hints"]
    assert 'voice="Polly.Amy"' in greeting.raw
    never_records(greeting)


async def test_yes_path_keeps_consent_and_words_and_sar_returns_them(gateway: Gateway):
    call = gateway.call("+447911100200")
    greeting = await call.start()
    how = await call.answer(greeting, speech="yeah that's fine")
    assert "keep a record" in how.spoken and "How can we help" in how.spoken
    assert how.spoken.count("ask to see") == 1  # said once in the call, not twice
    assert "Why we keep information" not in how.spoken  # not before they have said their need
    offer = await call.answer(how, speech="I need help getting an EHC needs assessment")
    assert "Why we keep information about you" in offer.spoken
    put_through = await call.answer(offer, speech="no thanks")
    assert put_through.dial_number == ADVISER
    assert "record" not in put_through.dial_attrs
    await call.dial_result(put_through, "completed")
    await call.hang_up()
    never_records(greeting, how, offer, put_through)

    held = await sar(gateway, "07911 100200")
    [record] = held["consent_records"]
    assert record["method"] == "speech" and record["channel"] == "voice"
    assert record["wording_version"] == gateway.services.wording.version
    assert record["answer_words"] == "yeah that's fine"  # the caller's own words of consent
    [conversation] = held["conversations"]
    assert conversation["status"] == "closed"
    assert [m["text"] for m in conversation["messages"]] == [
        "I need help getting an EHC needs assessment"
    ]


async def test_keypad_yes_is_recorded_as_keypad(gateway: Gateway):
    call = gateway.call("+447911100201")
    await call.answer(await call.start(), digits="1")
    assert (await sar(gateway, "+447911100201"))["consent_records"][0]["method"] == "keypad"


async def test_no_path_leaves_nothing_anywhere(gateway: Gateway, caplog):
    words = "Xanthippe's reading support at Wolvercote primary"
    call = gateway.call("+447911555018")
    greeting = await call.start()
    declined = await call.answer(greeting, speech="no thanks I'd rather not")
    assert "will not keep any record" in declined.spoken and declined.gather_action
    helped = await call.answer(declined, speech=words)
    assert helped.dial_number == ADVISER  # still helped: put through to an adviser
    await call.dial_result(helped, "completed")
    await call.hang_up()

    assert await sar(gateway, "+447911555018") == {
        "contact": {"kind": "phone", "value": "+447911555018"},
        "consent_records": [],
        "conversations": [],
        "pending_hold": [],
        "callback_requests": [],
        "safeguarding_concerns": [],
        "withheld": [],
    }
    await gateway.services.db.close()  # flush everything to disk before searching it
    needles = [b"447911555018", b"7911555018", b"Xanthippe", b"Wolvercote"]
    assert files_containing(gateway.data_dir, needles) == []
    assert "Xanthippe" not in caplog.text and "7911555018" not in caplog.text


async def test_a_silent_caller_is_asked_once_more_then_helped_and_nothing_is_kept(
    gateway: Gateway,
):
    call = gateway.call("+447911555019")
    greeting = await call.start()
    again = await call.answer(greeting)
    assert "didn't catch" in again.spoken and again.gather_action
    declined = await call.answer(again)
    assert "have not kept a record of this call" in declined.spoken  # no "no" was given
    assert "That's fine" not in declined.spoken
    still_there = await call.answer(declined)
    assert "still there" in still_there.spoken
    person = await call.answer(still_there)
    assert person.dial_number == ADVISER
    await call.hang_up()
    assert (await sar(gateway, "+447911555019"))["conversations"] == []
    await gateway.services.db.close()
    assert files_containing(gateway.data_dir, [b"447911555019"]) == []


async def test_disclosure_as_the_consent_answer_puts_the_call_through_to_the_lead(
    gateway: Gateway,
):
    call = gateway.call("+447911555020")
    doc = await call.answer(await call.start(), speech=DISCLOSURE)
    assert doc.dial_number == LEAD
    assert len(doc.says) == 1  # one calm sentence, then a person
    never_records(doc)
    await gateway.services.alerter.drain()
    [concern] = await gateway.services.concerns.list()
    assert concern.channel == "voice" and concern.alert_status == "sent"
    [sms] = gateway.twilio.sent  # the lead is also alerted by SMS, without personal data
    assert sms.to == LEAD and concern.id[:8].upper() in sms.body
    assert "hits" not in sms.body and "7911555020" not in sms.body
    assert (await sar(gateway, "+447911555020"))["conversations"] == []  # a concern is not a record


async def test_disclosure_after_yes_and_after_no_both_reach_the_lead(gateway: Gateway):
    for digits, caller in (("1", "+447911555021"), ("2", "+447911555022")):
        call = gateway.call(caller)
        doc = await call.answer(
            await call.answer(await call.start(), digits=digits), speech=DISCLOSURE
        )
        assert doc.dial_number == LEAD, digits
    concerns = await gateway.services.concerns.list()
    assert len(concerns) == 2
    lead_view = [await gateway.services.concerns.read(c.id, _lead_role(), "lead") for c in concerns]
    assert {d.contact for d in lead_view} == {
        Contact("phone", "+447911555021"),
        Contact("phone", "+447911555022"),
    }
    assert all("hits my son" in d.evidence for d in lead_view)


async def test_unanswered_lead_falls_through_to_deputy_then_emergency_message(gateway: Gateway):
    await gateway.services.rota.set("deputy", "Dee Deputy", DEPUTY, "dee@council.example")
    call = gateway.call()
    to_lead = await call.answer(await call.start(), speech=DISCLOSURE)
    to_deputy = await call.dial_result(to_lead, "no-answer")
    assert to_deputy.dial_number == DEPUTY
    gateway.clock[0] = CLOSED
    import dataclasses

    voice = gateway.services.voice
    voice._settings = dataclasses.replace(
        voice._settings, childrens_services_number="+441632960999"
    )
    last = await call.dial_result(to_deputy, "busy")
    assert "999" in last.spoken and last.hangup
    assert "call you back today" in last.spoken and "hang up" not in last.spoken.lower()
    assert "children's services on 01632 960999" in last.spoken


async def test_nobody_on_call_gives_the_emergency_message(gateway: Gateway):
    rota = gateway.services.rota
    for shift in await rota.shifts():
        await rota.remove_shift(shift.id)
    gateway.clock[0] = CLOSED
    call = gateway.call()
    doc = await call.answer(await call.start(), speech=DISCLOSURE)
    assert doc.dial_number is None and "999" in doc.spoken
    assert len(await gateway.services.concerns.list()) == 1


async def test_out_of_hours_consented_caller_may_ask_for_a_call_back(gateway: Gateway):
    gateway.clock[0] = CLOSED
    call = gateway.call("+447911555023")
    how = await call.answer(await call.start(), digits="1")
    notice = await call.answer(how, speech="the school has excluded my son")
    offer = await call.answer(notice, digits="2")  # no notice by email, thanks
    assert "call you back" in offer.spoken and "Monday to Friday" in offer.spoken
    assert "only to make that call" not in offer.spoken  # it goes on their record
    booked = await call.answer(offer, digits="1")
    assert "call you back" in booked.spoken and booked.hangup
    conversation_id = (await sar(gateway, "+447911555023"))["conversations"][0]["id"]
    from storage.tables import Conversation

    async with gateway.services.db.sessions() as session:
        row = await session.get(Conversation, conversation_id)
    assert row.callback_requested_at is not None


async def test_out_of_hours_declined_caller_who_wants_no_call_back_gets_information(
    gateway: Gateway,
):
    gateway.clock[0] = CLOSED
    call = gateway.call("+447911555025")
    declined = await call.answer(await call.start(), digits="2")
    offer = await call.answer(declined, speech="what is an EHC plan")
    assert "only to make that call, then delete it" in offer.spoken
    info = await call.answer(offer, digits="2")
    assert "Monday to Friday" not in info.spoken and "help@pps.example.org" in info.spoken
    assert info.hangup
    assert (await sar(gateway, "+447911555025"))["callback_requests"] == []


async def test_withheld_number_works_throughout(gateway: Gateway):
    gateway.clock[0] = CLOSED
    call = gateway.call(caller=None)
    how = await call.answer(await call.start(), digits="1")
    notice = await call.answer(how, speech="advice about transport")
    info = await call.answer(notice, digits="2")
    assert "Monday to Friday" in info.spoken
    assert "call you back" not in info.spoken  # no number to call back
    risky = gateway.call(caller=None)
    doc = await risky.answer(await risky.start(), speech=DISCLOSURE)
    assert doc.dial_number == LEAD


async def test_press_zero_at_the_consent_question_reaches_a_person_and_keeps_nothing(
    gateway: Gateway,
):
    call = gateway.call("+447911555024")
    doc = await call.answer(await call.start(), digits="0")
    assert doc.dial_number == ADVISER
    assert (await sar(gateway, "+447911555024"))["conversations"] == []


def _lead_role():
    from storage.values import Role

    return Role.SAFEGUARDING_LEAD


async def test_consented_caller_can_have_the_notice_emailed_after_a_read_back(gateway: Gateway):
    from storage.outbox import Outbox

    call = gateway.call("+447911555050")
    how = await call.answer(await call.start(), digits="1")
    offer = await call.answer(how, speech="I want to ask about a school place")
    ask_address = await call.answer(offer, speech="yes please")
    assert "email address" in ask_address.spoken
    read_back = await call.answer(ask_address, speech="jane dot smith at example dot org")
    assert "jane dot smith at example dot org" in read_back.spoken
    wrong = await call.answer(read_back, digits="2")  # heard wrong: asked once more
    assert "email address" in wrong.spoken
    read_back = await call.answer(wrong, speech="jane underscore smith at example dot org")
    done = await call.answer(read_back, speech="yes that's right")
    assert "We will email it to you" in done.spoken and done.dial_number == ADVISER
    assert "ask to see" not in done.spoken  # said once, when consent was given

    outbox = Outbox(gateway.services.db)
    [item] = await outbox.claim(limit=5)
    assert item.recipient == "jane_smith@example.org"
    assert item.payload["subject"] == "Why we keep information about you"
    assert "ask to see everything we hold" in item.payload["body"]
    held = await sar(gateway, "+447911555050")
    assert "jane_smith@example.org" in held["conversations"][0]["messages"][-1]["text"]


async def test_an_address_that_cannot_be_understood_is_not_guessed(gateway: Gateway):
    call = gateway.call()
    how = await call.answer(await call.start(), digits="1")
    offer = await call.answer(how, speech="a question about my daughter's annual review")
    ask_address = await call.answer(offer, digits="1")
    muddled = await call.answer(ask_address, speech="it's the one I always use")
    assert "could not catch that address" in muddled.spoken
    assert muddled.dial_number == ADVISER  # what they need is known: now a person


async def test_zero_reaches_a_person_from_any_question(gateway: Gateway):
    call = gateway.call("+447911555060")
    how = await call.answer(await call.start(), digits="1")
    offer = await call.answer(how, speech="my son needs help with reading")
    assert "Why we keep information" in offer.spoken
    person = await call.answer(offer, digits="0")
    assert person.dial_number == ADVISER
    gateway.clock[0] = CLOSED
    late = gateway.call("+447911555061")
    how = await late.answer(await late.start(), digits="2")  # no record, but still helped
    offer_callback = await late.answer(how, speech="I need advice about exclusions")
    assert "call you back" in offer_callback.spoken
    booked = await late.answer(offer_callback, digits="1")
    assert "help@pps.example.org" in booked.spoken  # and the service's email, always


async def test_out_of_hours_zero_reaches_the_councils_out_of_hours_line(gateway: Gateway):
    """The greeting's "press 0 to speak to a person" holds at night when the council has an
    out-of-hours line (INTAKE_OUT_OF_HOURS_NUMBER), for a caller who said no too."""
    import dataclasses

    voice = gateway.services.voice
    voice._settings = dataclasses.replace(voice._settings, out_of_hours_number="+441632960777")
    gateway.clock[0] = CLOSED
    call = gateway.call("+447911555031")
    declined = await call.answer(await call.start(), digits="2")
    person = await call.answer(declined, digits="0")
    assert person.dial_number == "+441632960777"
    assert "out-of-hours line" in person.spoken
