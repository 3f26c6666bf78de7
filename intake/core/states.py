"""The conversation state machine, as pure code: no I/O, no clock, no storage.

Why pure: the consent rules are easiest to prove when the decision of what to do is separate from
doing it. The Gateway feeds it a state and an event and carries out the effects it returns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from intake.core.answers import Answer

MAX_REPROMPTS = 1


class State(enum.StrEnum):
    NEW = "new"  # nothing known about the thread
    ASKING_CONSENT = "asking_consent"
    CONSENTED = "consented"
    DECLINED = "declined"
    CLOSED = "closed"


class EventKind(enum.StrEnum):
    START = "start"  # a call connects; nothing said yet
    MESSAGE = "message"  # the parent says or writes something that is not an answer
    ANSWER = "answer"  # the parent answers the consent question
    HANGUP = "hangup"  # the call or thread ends


class Effect(enum.StrEnum):
    ASK_CONSENT = "ask_consent"
    ASK_AGAIN = "ask_again"
    HOLD_TEXT = "hold_text"  # keep in the pending hold, pending an answer
    RECORD_CONSENT = "record_consent"  # write consent + conversation + held texts
    DISCARD_HOLD = "discard_hold"  # purge the pending hold
    KEEP_TEXT = "keep_text"  # add to the consented conversation
    ASK_HOW_TO_HELP = "ask_how_to_help"
    HELP_WITHOUT_RECORDS = "help_without_records"
    ROUTE_TO_ADVISER = "route_to_adviser"
    CONNECT_PERSON = "connect_person"
    CLOSE_CONVERSATION = "close_conversation"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    answer: Answer | None = None
    has_text: bool = False


@dataclass(frozen=True)
class Transition:
    state: State
    effects: tuple[Effect, ...]
    reprompts: int = 0


def step(state: State, event: Event, reprompts: int = 0) -> Transition:
    """Decide the next state and what must happen, for one inbound turn."""
    kind = event.kind
    if kind is EventKind.HANGUP:
        if state is State.CONSENTED:
            return Transition(State.CLOSED, (Effect.CLOSE_CONVERSATION,))
        if state in (State.NEW, State.ASKING_CONSENT, State.DECLINED):
            return Transition(State.CLOSED, (Effect.DISCARD_HOLD,))
        return Transition(State.CLOSED, ())

    if state in (State.NEW, State.CLOSED):
        if kind is EventKind.MESSAGE and event.has_text:
            return Transition(State.ASKING_CONSENT, (Effect.HOLD_TEXT, Effect.ASK_CONSENT))
        if kind is EventKind.ANSWER:
            # An answer with no question outstanding: ask the question properly.
            return Transition(State.ASKING_CONSENT, (Effect.ASK_CONSENT,))
        return Transition(State.ASKING_CONSENT, (Effect.ASK_CONSENT,))

    if state is State.ASKING_CONSENT:
        if kind is EventKind.MESSAGE:
            effects = (Effect.HOLD_TEXT,) if event.has_text else ()
            return Transition(State.ASKING_CONSENT, effects, reprompts)
        if kind is EventKind.START:
            return Transition(State.ASKING_CONSENT, (Effect.ASK_CONSENT,), reprompts)
        return _answer(event.answer or Answer.SILENCE, reprompts)

    if state is State.CONSENTED:
        if kind is EventKind.MESSAGE and event.has_text:
            return Transition(State.CONSENTED, (Effect.KEEP_TEXT, Effect.ROUTE_TO_ADVISER))
        if kind is EventKind.ANSWER and event.answer is Answer.PERSON:
            return Transition(State.CONSENTED, (Effect.CONNECT_PERSON,))
        return Transition(State.CONSENTED, (Effect.ASK_HOW_TO_HELP,))

    # DECLINED: help goes on, nothing is written.
    if kind is EventKind.ANSWER and event.answer is Answer.PERSON:
        return Transition(State.DECLINED, (Effect.CONNECT_PERSON,))
    if kind is EventKind.MESSAGE and event.has_text:
        return Transition(State.DECLINED, (Effect.ROUTE_TO_ADVISER,))
    return Transition(State.DECLINED, (Effect.HELP_WITHOUT_RECORDS,))


def _answer(answer: Answer, reprompts: int) -> Transition:
    if answer is Answer.YES:
        return Transition(State.CONSENTED, (Effect.RECORD_CONSENT, Effect.ASK_HOW_TO_HELP))
    if answer is Answer.NO:
        return Transition(State.DECLINED, (Effect.DISCARD_HOLD, Effect.HELP_WITHOUT_RECORDS))
    if answer is Answer.PERSON:
        # Asking for a person is not a yes: nothing is kept, and they are put through.
        return Transition(State.DECLINED, (Effect.DISCARD_HOLD, Effect.CONNECT_PERSON))
    if reprompts < MAX_REPROMPTS:
        return Transition(State.ASKING_CONSENT, (Effect.ASK_AGAIN,), reprompts + 1)
    return Transition(State.DECLINED, (Effect.DISCARD_HOLD, Effect.HELP_WITHOUT_RECORDS))
