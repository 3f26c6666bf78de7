"""The pure state machine and the reading of answers."""

from __future__ import annotations

import pytest

from intake.core.answers import Answer, interpret
from intake.core.states import Effect, Event, EventKind, State, step


@pytest.mark.parametrize(
    "speech",
    [
        "yes",
        "Yes please",
        "yeah that's fine",
        "ok",
        "sure, go ahead",
        "no problem",
        "I don't mind",
        "that's okay with me",
        "yep",
    ],
)
def test_natural_yes(speech):
    assert interpret(speech=speech) is Answer.YES


@pytest.mark.parametrize(
    "speech",
    [
        "no",
        "no thanks",
        "I'd rather not",
        "I'd prefer not",
        "nope",
        "please don't",
        "no thank you I don't want that",
        "nah",
    ],
)
def test_natural_no(speech):
    assert interpret(speech=speech) is Answer.NO


@pytest.mark.parametrize("speech", ["yes no", "what do you mean", "um", "banana"])
def test_unclear(speech):
    assert interpret(speech=speech) is Answer.UNCLEAR


def test_keys_and_silence():
    assert interpret(digits="1") is Answer.YES
    assert interpret(digits="2") is Answer.NO
    assert interpret(digits="0") is Answer.PERSON
    assert interpret(digits="7") is Answer.UNCLEAR
    assert interpret() is Answer.SILENCE
    assert interpret(speech="   ") is Answer.SILENCE
    assert interpret(speech="can I speak to someone") is Answer.PERSON


def test_new_call_is_asked_for_consent():
    t = step(State.NEW, Event(EventKind.START))
    assert t.state is State.ASKING_CONSENT and t.effects == (Effect.ASK_CONSENT,)


def test_new_email_is_held_and_asked():
    t = step(State.NEW, Event(EventKind.MESSAGE, has_text=True))
    assert t.effects == (Effect.HOLD_TEXT, Effect.ASK_CONSENT)


def test_yes_records_consent():
    t = step(State.ASKING_CONSENT, Event(EventKind.ANSWER, Answer.YES))
    assert t.state is State.CONSENTED and Effect.RECORD_CONSENT in t.effects


def test_no_discards_and_still_helps():
    t = step(State.ASKING_CONSENT, Event(EventKind.ANSWER, Answer.NO))
    assert t.state is State.DECLINED
    assert t.effects == (Effect.DISCARD_HOLD, Effect.HELP_WITHOUT_RECORDS)


@pytest.mark.parametrize("first", [Answer.SILENCE, Answer.UNCLEAR])
def test_one_repeat_then_silence_means_no(first):
    t1 = step(State.ASKING_CONSENT, Event(EventKind.ANSWER, first), 0)
    assert t1.state is State.ASKING_CONSENT and t1.effects == (Effect.ASK_AGAIN,)
    t2 = step(t1.state, Event(EventKind.ANSWER, Answer.SILENCE), t1.reprompts)
    assert t2.state is State.DECLINED and Effect.RECORD_CONSENT not in t2.effects


def test_declined_thread_never_keeps_text():
    t = step(State.DECLINED, Event(EventKind.MESSAGE, has_text=True))
    assert Effect.KEEP_TEXT not in t.effects and Effect.HOLD_TEXT not in t.effects
    assert t.effects == (Effect.ROUTE_TO_ADVISER,)


def test_consented_messages_are_kept_and_hangup_closes():
    t = step(State.CONSENTED, Event(EventKind.MESSAGE, has_text=True))
    assert Effect.KEEP_TEXT in t.effects
    assert step(State.CONSENTED, Event(EventKind.HANGUP)).effects == (Effect.CLOSE_CONVERSATION,)


@pytest.mark.parametrize("state", [State.NEW, State.ASKING_CONSENT, State.DECLINED])
def test_hangup_before_yes_discards(state):
    assert step(state, Event(EventKind.HANGUP)).effects == (Effect.DISCARD_HOLD,)


def test_asking_for_a_person_is_not_consent():
    t = step(State.ASKING_CONSENT, Event(EventKind.ANSWER, Answer.PERSON))
    assert t.state is State.DECLINED and Effect.CONNECT_PERSON in t.effects


def test_noise_and_long_stories_are_not_consent():
    import random

    for seed in range(200):
        junk = random.Random(seed).randbytes(400).decode("latin-1")
        assert interpret(speech=junk) in (Answer.UNCLEAR, Answer.SILENCE), seed
    story = "well my son has autism and the school say he is ok but " + "he struggles " * 20
    assert interpret(speech=story) is Answer.UNCLEAR
    assert interpret(speech="yes that's fine " + "and I wanted to say " * 10) is Answer.YES
