"""Calls as parents make them, not as the menu expects: a story told at the consent question, a
yes that goes on to say what is wrong, a yes the recogniser was unsure of, words that are neither
yes nor no, and a caller who keeps no record but wants a call-back. Each hears what a person
would say, and nothing is kept against their answer."""

from __future__ import annotations

import asyncio
import json

from tests.cli.helpers import sar as run_sar
from tests.conftest import files_containing
from tests.voice.conftest import ADVISER, CLOSED, Gateway

STORY = "my son is eight and the school keep sending him home at lunchtime because of his autism"


async def sar(gateway: Gateway, phone: str) -> dict:
    done = await asyncio.to_thread(run_sar, gateway.data_dir, "--phone", phone)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_a_story_at_the_consent_question_is_heard_then_kept_once_they_say_yes(
    gateway: Gateway,
):
    call = gateway.call("+447911600001")
    greeting = await call.start()
    heard = await call.answer(greeting, speech=STORY)
    assert heard.spoken.startswith("Thank you for telling me. First, one quick question.")
    assert "didn't catch" not in heard.spoken and "May we keep a record" in heard.spoken
    after_yes = await call.answer(heard, speech="yeah go on then")
    assert "keep a record" in after_yes.spoken
    assert "How can we help" not in after_yes.spoken  # their story is not asked for again
    assert "tell me in a few words" not in after_yes.spoken.lower()
    put_through = await call.answer(after_yes, digits="2")  # no notice by email
    assert put_through.dial_number == ADVISER
    await call.hang_up()

    held = await sar(gateway, "+447911600001")
    [record] = held["consent_records"]
    assert record["answer_words"] == "yeah go on then" and record["method"] == "speech"
    [conversation] = held["conversations"]
    assert [m["text"] for m in conversation["messages"]] == [STORY]


async def test_a_story_then_a_no_leaves_nothing_of_the_story(gateway: Gateway):
    call = gateway.call("+447911600002")
    heard = await call.answer(await call.start(), speech=STORY + " at Larkrise primary")
    declined = await call.answer(heard, digits="2")
    assert "will not keep any record" in declined.spoken
    await call.hang_up()
    assert (await sar(gateway, "+447911600002"))["conversations"] == []
    await gateway.services.db.close()
    assert files_containing(gateway.data_dir, [b"Larkrise", b"447911600002"]) == []


async def test_a_second_story_is_not_taken_as_an_answer(gateway: Gateway):
    """Heard once; a caller who goes on talking is asked plainly, then helped without a
    record: a yes is never assumed."""
    call = gateway.call("+447911600003")
    heard = await call.answer(await call.start(), speech=STORY)
    again = await call.answer(heard, speech="and his sister is having trouble at school as well")
    assert "didn't catch" in again.spoken and "press 1" in again.spoken.lower()
    unheard = await call.answer(again)
    assert "have not kept a record of this call" in unheard.spoken
    await call.hang_up()
    assert (await sar(gateway, "+447911600003"))["conversations"] == []


async def test_a_yes_that_says_what_is_wrong_keeps_it_and_is_not_asked_again(gateway: Gateway):
    call = gateway.call("+447911600004")
    words = "Yes that's fine. It's about my daughter's EHCP review next week."
    after_yes = await call.answer(await call.start(), speech=words)
    assert "How can we help" not in after_yes.spoken
    assert "Why we keep information about you" in after_yes.spoken  # then a person
    held = await sar(gateway, "+447911600004")
    assert held["consent_records"][0]["answer_words"] == "Yes that's fine."
    assert [m["text"] for m in held["conversations"][0]["messages"]] == [words]


async def test_an_unsure_spoken_yes_is_checked_once_a_keypad_yes_is_not(gateway: Gateway):
    call = gateway.call("+447911600005")
    greeting = await call.start()
    checked = await call.answer(greeting, speech="yes", confidence=0.3)
    assert "didn't catch" in checked.spoken and checked.gather_action
    assert (await sar(gateway, "+447911600005"))["consent_records"] == []  # not yet
    after = await call.answer(checked, speech="yes", confidence=0.3)  # heard yes twice
    assert "keep a record" in after.spoken
    assert (await sar(gateway, "+447911600005"))["consent_records"][0]["method"] == "speech"

    sure = gateway.call("+447911600006")
    consented = await sure.answer(await sure.start(), speech="yes", confidence=0.92)
    assert "keep a record" in consented.spoken and "didn't catch" not in consented.spoken
    unsure_no = gateway.call("+447911600007")
    declined = await unsure_no.answer(await unsure_no.start(), speech="no", confidence=0.3)
    assert "will not keep any record" in declined.spoken  # keeping nothing needs no check


async def test_the_consent_question_waits_eight_seconds_and_ends_speech_on_silence(
    gateway: Gateway,
):
    call = gateway.call()
    greeting = await call.start()
    assert greeting.gather_attrs["timeout"] == "8"
    assert greeting.gather_attrs["speechTimeout"] == "auto"


async def test_other_words_to_the_notice_question_are_kept_as_what_the_caller_said(
    gateway: Gateway,
):
    call = gateway.call("+447911600008")
    how = await call.answer(await call.start(), digits="1")
    offer = await call.answer(how, speech="I need to ask about transport to school")
    said = "can someone also tell me about direct payments"
    put_through = await call.answer(offer, speech=said)
    assert put_through.dial_number == ADVISER
    held = await sar(gateway, "+447911600008")
    assert [m["text"] for m in held["conversations"][0]["messages"]][-1] == said


async def test_a_caller_who_said_no_can_have_a_call_back_and_their_number_goes_after(
    gateway: Gateway,
):
    gateway.clock[0] = CLOSED
    call = gateway.call("+447911600009")
    declined = await call.answer(await call.start(), digits="2")
    offer = await call.answer(declined, speech="I need to know how to ask for an assessment")
    assert "call you back" in offer.spoken
    assert "keep your number only to make that call, then delete it" in offer.spoken
    booked = await call.answer(offer, speech="yes please")
    assert "will call you back" in booked.spoken and booked.hangup
    await call.hang_up()

    held = await sar(gateway, "+447911600009")
    assert held["conversations"] == [] and held["consent_records"] == []  # still no record
    [owed] = held["callback_requests"]
    assert owed["phone"] == "+447911600009" and owed["answer_words"] == "yes please"
    assert "only to make that call" in owed["wording_text"]
    assert "assessment" not in json.dumps(held)  # what they said was not kept

    callbacks = gateway.services.records.callbacks
    [listed] = await callbacks.owed("adviser")
    assert await callbacks.made(listed.id, "adviser")
    assert (await sar(gateway, "+447911600009"))["callback_requests"] == []
    await gateway.services.db.close()
    assert files_containing(gateway.data_dir, [b"447911600009", b"7911600009"]) == []


async def test_a_retried_call_back_yes_keeps_one_number(gateway: Gateway):
    gateway.clock[0] = CLOSED
    call = gateway.call("+447911600010")
    declined = await call.answer(await call.start(), digits="2")
    offer = await call.answer(declined, speech="a question about my son's school")
    first = await call.answer(offer, digits="1")
    again = await call.answer(offer, digits="1")  # Twilio's retry of the same step
    assert first.raw == again.raw
    assert len((await sar(gateway, "+447911600010"))["callback_requests"]) == 1


async def test_unclear_words_to_the_call_back_question_are_asked_once_more(gateway: Gateway):
    gateway.clock[0] = CLOSED
    call = gateway.call("+447911600011")
    how = await call.answer(await call.start(), digits="1")
    notice = await call.answer(how, speech="help with an appeal to the tribunal please")
    offer = await call.answer(notice, digits="2")
    again = await call.answer(offer, speech="I work mornings so after three would be best")
    assert again.spoken.startswith("Thank you.") and "call you back" in again.spoken
    booked = await call.answer(again, digits="1")
    assert "will call you back" in booked.spoken
    held = await sar(gateway, "+447911600011")
    said = [m["text"] for m in held["conversations"][0]["messages"]]
    assert said[-1] == "I work mornings so after three would be best"  # kept as they said it
