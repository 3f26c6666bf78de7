"""The Gateway: applies the service's rules to every inbound turn, whatever the channel.

The order is the policy's: risk first (a child at risk overrides confidentiality), then the
consent state machine decides, then its effects are carried out through the Records repository,
which cannot open a conversation without a consent record.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from collections.abc import Callable
from datetime import timedelta

from intake.core.answers import interpret
from intake.core.states import Effect, Event, EventKind, State, Transition, step
from intake.core.types import Action, Inbound, Reply, RiskAssessment, RiskAssessor, Turn
from intake.core.wording import Wording
from intake.logs import log_event
from intake.metrics import Metrics
from storage.concerns import ConcernStore
from storage.records import Records
from storage.values import Channel, ConcernInput, ConsentGiven, ConsentMethod, HeldItem

log = logging.getLogger("intake.gateway")

VOICE_HOLD_TTL = timedelta(hours=2)
LONG_TEXT = 4_000  # characters; longer texts are assessed off the event loop
EXCERPT_CONTEXT = 60  # characters kept either side of a risk phrase in a concern

_EVENTS = {
    Turn.START: EventKind.START,
    Turn.MESSAGE: EventKind.MESSAGE,
    Turn.ANSWER: EventKind.ANSWER,
    Turn.HANGUP: EventKind.HANGUP,
}
_ACTION_FOR = {
    Effect.ASK_CONSENT: Action.ASK_CONSENT,
    Effect.ASK_AGAIN: Action.ASK_AGAIN,
    Effect.ASK_HOW_TO_HELP: Action.ASK_HOW_TO_HELP,
    Effect.HELP_WITHOUT_RECORDS: Action.HELP_WITHOUT_RECORDS,
    Effect.ROUTE_TO_ADVISER: Action.ROUTE_TO_ADVISER,
    Effect.CONNECT_PERSON: Action.CONNECT_PERSON,
}


class Gateway:
    def __init__(
        self,
        records: Records,
        concerns: ConcernStore,
        risk: RiskAssessor,
        wording: Wording,
        *,
        pending_ttl: timedelta,
        escalate_after: timedelta,
        metrics: Metrics | None = None,
        on_concern: Callable[[str], None] | None = None,
    ) -> None:
        self._records = records
        self._concerns = concerns
        self._risk = risk
        self.wording = wording
        self._pending_ttl = pending_ttl
        self._escalate_after = escalate_after
        self._metrics = metrics or Metrics()
        self._on_concern = on_concern
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def hold_ttl(self, channel: Channel) -> timedelta:
        return (
            min(VOICE_HOLD_TTL, self._pending_ttl)
            if channel is Channel.VOICE
            else self._pending_ttl
        )

    async def handle(self, inbound: Inbound) -> Reply:
        """Process one turn; turns of the same thread are handled one at a time."""
        key = f"{inbound.channel}:{inbound.thread_ref}"
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            reply = await self._handle(inbound)
        self._metrics.count("intake_turns_total", channel=str(inbound.channel), action=reply.action)
        return reply

    async def screen(self, inbound: Inbound) -> str | None:
        """Risk first, for words the core is not asked to keep (an adapter's side questions,
        such as a spoken email address): returns the concern raised, if any."""
        if not inbound.text or not inbound.text.strip():
            return None
        assessment = await self._assess(inbound.text)
        if not assessment.flagged:
            return None
        return await self._raise_concern(inbound, assessment)

    async def _handle(self, inbound: Inbound) -> Reply:
        concern_id = await self.screen(inbound)

        conversation_id, held = await self._records.thread_state(
            inbound.channel, inbound.thread_ref
        )
        if conversation_id is not None:
            state = State.CONSENTED
        else:
            state = State(held.state) if held is not None else State.NEW
        reprompts = int(held.data.get("reprompts", 0)) if held else 0

        answer = None
        if inbound.turn is Turn.ANSWER:
            answer = interpret(inbound.digits, inbound.text)
        event = Event(_EVENTS[inbound.turn], answer, bool(inbound.text and inbound.text.strip()))
        transition = step(state, event, reprompts)
        conversation_id = await self._apply(inbound, transition, held, conversation_id)

        action = Action.NOTHING
        for effect in transition.effects:
            action = _ACTION_FOR.get(effect, action)
        if concern_id is not None:
            action = Action.CONNECT_SAFEGUARDING
        log_event(
            log,
            "turn",
            channel=str(inbound.channel),
            turn=str(inbound.turn),
            state=str(transition.state),
            action=str(action),
            conversation_id=conversation_id,
            concern_id=concern_id,
        )
        return Reply(
            action=action,
            state=transition.state,
            say=self._words(action, inbound.channel),
            conversation_id=conversation_id if transition.state is State.CONSENTED else None,
            concern_id=concern_id,
        )

    async def _apply(
        self,
        inbound: Inbound,
        transition: Transition,
        held: HeldItem | None,
        conversation_id: str | None,
    ) -> str | None:
        effects = transition.effects
        channel, thread = inbound.channel, inbound.thread_ref
        contact = inbound.contact or (held.contact if held else None)
        texts = list(held.texts) if held else []

        if Effect.RECORD_CONSENT in effects:
            method = inbound.method or _method_for(inbound)
            consent = ConsentGiven(
                channel=channel,
                method=method,
                wording_version=self.wording.version,
                wording_text=self.wording.consent_text(channel, method),
                given_at=inbound.received_at,
                thread_ref=thread,
            )
            conversation_id = await self._records.open_conversation(
                consent, contact=contact, texts=texts
            )
        elif Effect.KEEP_TEXT in effects and conversation_id and inbound.text:
            await self._records.add_message(
                conversation_id, inbound.text, turn_key=_turn_key(inbound.turn_id)
            )
        elif Effect.CLOSE_CONVERSATION in effects and conversation_id:
            await self._records.close_conversation(conversation_id)
        elif Effect.DISCARD_HOLD in effects:
            if transition.state is State.DECLINED:
                await self._records.mark_declined(
                    channel, thread, ttl=self.hold_ttl(channel), wait=False
                )
            else:  # hung up: before answering counts as no answer; a decline was counted already
                asking = held is not None and held.state == State.ASKING_CONSENT
                await self._records.purge_held(
                    channel, thread, outcome="no_answer" if asking else None, wait=False
                )
        elif transition.state is State.ASKING_CONSENT:
            if Effect.HOLD_TEXT in effects and inbound.text:
                texts.append(inbound.text)
            await self._records.hold(
                channel,
                thread,
                state=State.ASKING_CONSENT,
                ttl=self.hold_ttl(channel),
                contact=contact,
                texts=texts,
                data={"reprompts": transition.reprompts},
            )
        return conversation_id

    async def _assess(self, text: str) -> RiskAssessment:
        if len(text) > LONG_TEXT:
            return await asyncio.to_thread(self._risk.assess, text)
        return self._risk.assess(text)

    async def _raise_concern(self, inbound: Inbound, assessment: RiskAssessment) -> str:
        """POLICY EXCEPTION: a child may be at risk, so this is kept whatever the consent state."""
        conversation_id = await self._records.conversation_for_thread(
            inbound.channel, inbound.thread_ref
        )
        concern_id = await self._concerns.raise_concern(
            ConcernInput(
                channel=inbound.channel,
                severity=assessment.severity or "concern",
                categories=tuple(assessment.categories),
                evidence=evidence_excerpt(inbound.text or "", assessment),
                thread_ref=inbound.thread_ref,
                contact=inbound.contact,
                conversation_id=conversation_id,
                rules=tuple(sorted({e.rule for e in assessment.evidence})),
            ),
            escalate_after=self._escalate_after,
        )
        self._metrics.count("intake_concerns_total", channel=str(inbound.channel))
        log_event(
            log,
            "concern_raised",
            channel=str(inbound.channel),
            concern_id=concern_id,
            severity=assessment.severity,
        )
        if self._on_concern is not None:
            self._on_concern(concern_id)
        return concern_id

    def _words(self, action: Action, channel: Channel) -> tuple[str, ...]:
        w = self.wording
        if channel is not Channel.VOICE:
            return ()
        return {
            Action.ASK_CONSENT: (w["greeting"], w["consent_question_voice"]),
            Action.ASK_AGAIN: (w["consent_reprompt_voice"],),
            Action.ASK_HOW_TO_HELP: (w["consented_voice"], w["how_can_we_help"]),
            Action.HELP_WITHOUT_RECORDS: (w["declined_voice"], w["how_can_we_help"]),
            Action.ROUTE_TO_ADVISER: (w["adviser_handover"],),
            Action.CONNECT_PERSON: (w["adviser_handover"],),
            Action.CONNECT_SAFEGUARDING: (w["risk_handover"],),
        }.get(action, ())


def _method_for(inbound: Inbound) -> ConsentMethod:
    if inbound.digits:
        return ConsentMethod.KEYPAD
    if inbound.channel is Channel.VOICE:
        return ConsentMethod.SPEECH
    return ConsentMethod.EMAIL_REPLY


def _turn_key(turn_id: str | None) -> str | None:
    """A fixed-length key for the channel's turn identity (which may be long or odd)."""
    return None if turn_id is None else hashlib.sha256(turn_id.encode()).hexdigest()


def evidence_excerpt(text: str, assessment: RiskAssessment, limit: int = 1_000) -> str:
    """The least text a safeguarding lead needs: each risk phrase with a little context."""
    if not assessment.evidence:
        return text[:280]
    parts = []
    for ev in sorted(assessment.evidence, key=lambda e: e.start):
        start = max(0, ev.start - EXCERPT_CONTEXT)
        end = min(len(text), ev.end + EXCERPT_CONTEXT)
        parts.append(text[start:end].strip())
    excerpt = " … ".join(dict.fromkeys(parts))
    return excerpt[:limit]
