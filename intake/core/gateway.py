"""The Gateway: applies the service's rules to every inbound turn, whatever the channel.

The order is the policy's: risk first (a child at risk overrides confidentiality), then the
consent state machine decides, then its effects are carried out as one turn of the thread's
store, which cannot open a conversation without a consent record. Channels only translate: what
they may say or offer next (a call-back, a reply by email) is decided here and comes back in the
Reply, or from a method of this class.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from intake.core.answers import (
    BARE_ANSWER,
    Answer,
    answer_rest,
    answer_sentence,
    interpret,
    read_written,
    wants_withdrawal,
)
from intake.core.ports import (
    CallbackStore,
    Purpose,
    ReplyComposer,
    ThreadConversationView,
    ThreadStore,
    TurnStore,
)
from intake.core.replies import DECLINE_REPLY_TTL, REPLIES_PER_HOUR, ParentReplies, once_key
from intake.core.states import Effect, Event, EventKind, State, Transition, step
from intake.core.tiers import alert_channels, caller_goes_to_lead
from intake.core.types import (
    Action,
    Inbound,
    Raised,
    Reading,
    Reply,
    RiskAssessment,
    RiskAssessor,
    Turn,
)
from intake.core.wording import Wording
from intake.logs import log_event
from intake.metrics import Metrics
from storage.values import (
    Channel,
    ConcernInput,
    ConsentGiven,
    ConsentMethod,
    Contact,
    HeldItem,
    utcnow,
)

log = logging.getLogger("intake.gateway")

Respond = Callable[[Reply], Awaitable[str]]

VOICE_HOLD_TTL = timedelta(hours=2)
LONG_TEXT = 4_000  # characters; longer texts are assessed off the event loop
ELSEWHERE_TEXT = 300  # characters; longer texts go to the detector's worker, if it has one
REMIND_AT = 0.7  # of a hold's life: the one reminder before it expires (day 5 of 7)
EXCERPT_CONTEXT = 60  # characters kept either side of a risk phrase in a concern
STORY_WORDS = 6  # words: said instead of an answer, this many or more is the caller's story
REFERRAL_PERMISSION = "The parent has given permission for this referral"
SURE_ENOUGH = 0.5  # speech recognition's confidence below which a spoken yes is checked once

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
        threads: ThreadStore,
        risk: RiskAssessor,
        wording: Wording,
        *,
        pending_ttl: timedelta,
        escalate_after: timedelta,
        metrics: Metrics | None = None,
        on_concern: Callable[[str], None] | None = None,
        on_queued: Callable[[], None] | None = None,
        on_activity: Callable[[str], None] | None = None,
        due_for_reminder: Callable[[Channel, datetime], Awaitable[list[HeldItem]]] | None = None,
        composers: Mapping[Channel, ReplyComposer] | None = None,
        replies_per_hour: int = REPLIES_PER_HOUR,
        in_hours: Callable[[], bool] = lambda: True,
        decline_reply_ttl: timedelta = DECLINE_REPLY_TTL,
        callbacks: CallbackStore | None = None,
    ) -> None:
        self._threads = threads
        self._risk = risk
        self.wording = wording
        self._pending_ttl = pending_ttl
        self._escalate_after = escalate_after
        self._metrics = metrics or Metrics()
        self._on_concern = on_concern
        self._on_queued = on_queued
        self._on_activity = on_activity  # a consented conversation changed: staff may look
        self._due_for_reminder = due_for_reminder
        self._in_hours = in_hours
        self._callbacks = callbacks
        self._replies = ParentReplies(composers, self._metrics, replies_per_hour, decline_reply_ttl)

    def add_composer(self, channel: Channel, composer: ReplyComposer) -> None:
        """A channel that writes back (email) gives the core its words."""
        self._replies.add(channel, composer)

    def hold_ttl(self, channel: Channel) -> timedelta:
        return (
            min(VOICE_HOLD_TTL, self._pending_ttl)
            if channel is Channel.VOICE
            else self._pending_ttl
        )

    # -- a turn ----------------------------------------------------------------------------------
    async def handle(self, inbound: Inbound) -> Reply:
        """Process one turn: risk first, then one locked transaction of the thread."""
        return await self._handle(inbound)

    async def answer(self, inbound: Inbound, respond: Respond, remember_as: str) -> str:
        """Process one turn and keep the channel's answer to it (`respond` renders the Reply,
        e.g. as TwiML) in the same transaction, so a retry of the request, at any process or
        after a restart, gets the same answer and changes nothing twice: the kept answer is
        looked for first, with the thread locked. `respond` runs with the thread locked: it
        may read, but must not start another turn."""
        async with self._threads.begin(inbound.channel, inbound.thread_ref) as turn:
            kept = await turn.remembered(remember_as)
            if kept is not None:
                return kept
            raised = await self.screen(inbound)  # its own transaction, kept if this fails
            reply, queued = await self._turn(turn, inbound, raised)
            body = await turn.remember(remember_as, await respond(reply))
        self._done(inbound, reply, queued)
        return body

    async def _handle(self, inbound: Inbound) -> Reply:
        raised = await self.screen(inbound)
        async with self._threads.begin(inbound.channel, inbound.thread_ref) as turn:
            reply, queued = await self._turn(turn, inbound, raised)
        self._done(inbound, reply, queued)
        return reply

    def _done(self, inbound: Inbound, reply: Reply, queued: bool) -> None:
        if queued and self._on_queued is not None:
            self._on_queued()
        if reply.conversation_id and self._on_activity is not None:
            self._on_activity(reply.conversation_id)
        self._metrics.count("intake_turns_total", channel=str(inbound.channel), action=reply.action)
        log_event(
            log,
            "turn",
            channel=str(inbound.channel),
            turn=str(inbound.turn),
            state=str(reply.state),
            action=str(reply.action),
            conversation_id=reply.conversation_id,
            concern_id=reply.concern_id,
        )

    async def screen(self, inbound: Inbound) -> Raised | None:
        """Risk first, for words the core is not asked to keep (an adapter's side questions,
        such as a spoken email address, or a machine's mail): returns the concern raised."""
        if not inbound.text or not inbound.text.strip():
            return None
        assessment = await self._assess(inbound.text)
        if not assessment.flagged:
            return None
        return await self._raise_concern(inbound, assessment)

    async def assess_only(self, inbound: Inbound, outcome: str) -> str | None:
        """A message nobody can be asked about (a machine's, or one without a usable address):
        assessed for risk, counted anonymously, nothing else kept."""
        raised = await self.screen(inbound)
        async with self._threads.begin(inbound.channel, inbound.thread_ref) as turn:
            await turn.tally(outcome)
        return raised.id if raised else None

    async def _turn(
        self, turn: TurnStore, inbound: Inbound, raised: Raised | None
    ) -> tuple[Reply, bool]:
        found = await turn.state()
        conversation, held = found.conversation, found.held
        if conversation is not None:
            state = State.CONSENTED
        else:
            state = State(held.state) if held is not None else State.NEW
        turn_key = _turn_key(inbound.turn_id)
        held_keys = list(held.data.get("turns", ())) if held else []
        answer, kind, story = None, _EVENTS[inbound.turn], False
        if inbound.turn is Turn.ANSWER:
            answer = inbound.choice or interpret(inbound.digits, inbound.text)
            spoken = inbound.channel is Channel.VOICE and not (inbound.digits or inbound.choice)
            if state is State.ASKING_CONSENT and spoken:
                answer, story = _heard(inbound, answer, held)
                kind = EventKind.MESSAGE if story else kind
        elif inbound.reading is Reading.WRITTEN and state is State.ASKING_CONSENT:
            answer = read_written(_answerable(inbound))
            kind = EventKind.ANSWER if answer is not None else kind

        if inbound.choice is Answer.NO and conversation is not None:
            # A no after a yes (the consent page again): consent is withdrawn, and the
            # conversation erased at once; a safeguarding concern stays, and the lead is told.
            await turn.close_conversation(conversation.id, withdrawn=True)
            reply = self._reply(inbound, Action.NOTHING, State.DECLINED, None, raised)
            return _with(reply, answer=Answer.NO, withdrawn=True), False
        if (
            conversation is not None
            and inbound.reading is Reading.WRITTEN
            and inbound.turn is Turn.MESSAGE
            and wants_withdrawal(_answerable(inbound))
        ):  # "please delete my records": the same as a No after a Yes, and said so in reply
            await turn.close_conversation(conversation.id, withdrawn=True)
            contact = inbound.contact
            queued = await self._replies.nothing_held(turn, inbound, contact, Purpose.WITHDRAWN)
            reply = self._reply(inbound, Action.NOTHING, State.DECLINED, None, raised)
            return _with(reply, withdrawn=True), queued
        if inbound.choice is not None and state is not State.ASKING_CONSENT:
            # A button on a page for a thread that has moved on: nothing to record.
            return self._reply(inbound, Action.NOTHING, state, conversation, raised), False
        if state is State.NEW and inbound.in_reply and _bare_answer(_answerable(inbound)):
            # A bare yes or no to a thread that is gone (declined, expired, a retried answer):
            # nothing to consent to, and a new thread holding "NO" would ask the parent again;
            # one short reply says nothing is held and how to write again.
            queued = await self._replies.nothing_held(turn, inbound, inbound.contact)
            reply = self._reply(inbound, Action.NOTHING, state, None, raised)
            return _with(reply, stale=True), queued
        repeated = turn_key is not None and turn_key in held_keys

        has_text = bool(inbound.text and inbound.text.strip())
        transition = step(state, Event(kind, answer, has_text), int(_data(held, "reprompts", 0)))
        effects = transition.effects
        channel, contact = inbound.channel, inbound.contact or (held.contact if held else None)
        queued = False
        conversation_id = conversation.id if conversation else None

        told = False  # the parent has said what they need already: not asked again
        if Effect.RECORD_CONSENT in effects:
            texts = held.texts if held else ()
            conversation_id = await turn.open_conversation(
                self._consent(inbound, held),
                contact,
                texts,
                tuple(held_keys),
                _details(inbound, held),
            )
            written = _answerable(inbound)
            if (kind is not _EVENTS[inbound.turn] and answer_rest(written)) or _says_more(inbound):
                # A yes with more words: the rest is the parent's message, kept too.
                await turn.add_message(conversation_id, inbound.text, turn_key=turn_key)
                told = True
            told = told or bool(texts)
            queued = await self._replies.answer(turn, Purpose.ACKNOWLEDGED, inbound, held, contact)
        elif Effect.KEEP_TEXT in effects and conversation_id and inbound.text:
            stored = await turn.add_message(
                conversation_id,
                inbound.text,
                turn_key=turn_key,
                reply_to=(inbound.notes or {}).get("reply_to") or None,
            )
            repeated = stored is None
        elif Effect.CLOSE_CONVERSATION in effects and conversation_id:
            await turn.close_conversation(conversation_id)
        elif Effect.DISCARD_HOLD in effects:
            if transition.state is State.DECLINED:
                queued = await self._replies.answer(turn, Purpose.DECLINED, inbound, held, contact)
                if channel is Channel.VOICE:  # for the rest of the call only: gone at hang-up
                    await turn.mark_declined(self.hold_ttl(channel))
                else:  # nothing about the parent is left (a late message starts afresh)
                    await turn.release("declined")
                    # the answer just sent says so: a redelivered "no" gets no second reply
                    await turn.once_an_hour(Purpose.NOTHING_HELD, once_key(inbound))
            else:  # hung up: before answering counts as no answer; a decline was counted already
                asking = held is not None and held.state == State.ASKING_CONSENT
                await turn.release("no_answer" if asking else None)
        elif transition.state is State.ASKING_CONSENT:
            queued = await self._keep_asking(
                turn, inbound, held, contact, transition, turn_key, repeated, raised, story
            )
        if inbound.turn is Turn.HANGUP:
            await turn.forget_answers()  # what was said back to the caller goes with the call

        action = Action.NOTHING
        for effect in effects:
            action = _ACTION_FOR.get(effect, action)
        if told and action is Action.ASK_HOW_TO_HELP and inbound.channel is Channel.VOICE:
            action = Action.ROUTE_TO_ADVISER  # consented, and what they need is kept already
        if raised is not None:
            action = Action.CONNECT_SAFEGUARDING
        reply = self._reply(inbound, action, transition.state, conversation, raised)
        if story and raised is None:  # heard, and kept for now: then the one question
            w = self.wording
            reply = _with(
                reply,
                action=Action.ASK_AGAIN,
                say=(w["story_heard_voice"], w["consent_question_voice"]),
            )
        unheard = Effect.DISCARD_HOLD in effects and answer not in (Answer.NO, Answer.PERSON)
        if unheard and action is Action.HELP_WITHOUT_RECORDS and inbound.channel is Channel.VOICE:
            # no answer we could hear: say what happened, never answer a "no" not given
            reply = _with(
                reply, say=(self.wording["no_answer_voice"], self.wording["how_can_we_help"])
            )
        consented = transition.state is State.CONSENTED
        return (
            _with(
                reply,
                conversation_id=conversation_id if consented else None,
                answer=answer if answer in (Answer.YES, Answer.NO) else None,
                callback_question=self._callback_words(
                    consented,
                    conversation.has_contact if conversation else contact is not None,
                    inbound.contact,
                ),
                repeated=repeated,
            ),
            queued,
        )

    async def _keep_asking(
        self,
        turn: TurnStore,
        inbound: Inbound,
        held: HeldItem | None,
        contact: Contact | None,
        transition: Transition,
        turn_key: str | None,
        repeated: bool,
        raised: Raised | None = None,
        story: bool = False,
    ) -> bool:
        """Still waiting for an answer: hold what was said, and ask (once) where we write."""
        texts, keys = list(held.texts) if held else [], list(_data(held, "turns", ()))
        if Effect.HOLD_TEXT in transition.effects and inbound.text and not repeated:
            texts.append(inbound.text)
            keys.append(turn_key)
        data = {"reprompts": transition.reprompts, "thread": inbound.thread_ref, "turns": keys}
        if story:
            data["story"] = True
        if inbound.confidence is not None and inbound.turn is Turn.ANSWER:
            data["checked_yes"] = bool(_data(held, "checked_yes", False)) or _unsure_yes(inbound)
        if held is None:  # the words the parent is asked with, kept with what they said
            data["wording"] = [self.wording.version, self.wording.consent_text(inbound.channel)]
        if held is None and inbound.notes:
            data["notes"] = dict(inbound.notes)
        queued = False
        if not _data(held, "asked", False) and self._replies.writes_back(inbound.channel):
            expires = held.expires_at if held else utcnow() + self.hold_ttl(inbound.channel)
            first = {**_data(held, "notes", {}), **data.get("notes", {})}
            if raised is not None:  # its own opening first: we heard, and who will be in touch
                first["concern"] = "yes"
            asked = await self._replies.ask(turn, inbound, held, contact, first, expires)
            data["asked"] = queued = asked
        elif repeated:
            return False  # nothing new: the hold stays as it is
        elif _unclear_reply(inbound, held):
            data["checked"] = queued = await self._replies.check_answer(
                turn, inbound, held, contact
            )
        await turn.hold(
            state=State.ASKING_CONSENT,
            ttl=self.hold_ttl(inbound.channel),
            contact=contact,
            texts=texts,
            data=data,
            previous=held,
        )
        return queued

    # -- what channels ask of the core between turns ----------------------------------------------
    async def find_thread(
        self, channel: Channel, thread_refs: list[str], contact: Contact
    ) -> str | None:
        """The first of the references a message cites that continues this parent's thread."""
        return await self._threads.find(channel, thread_refs, contact)

    async def thread_state(self, channel: Channel, thread_ref: str) -> State:
        """Where a thread stands (NEW when unknown or gone), for a page that shows a choice."""
        async with self._threads.begin(channel, thread_ref) as turn:
            found = await turn.state()
        if found.conversation is not None:
            return State.CONSENTED
        return State(found.held.state) if found.held is not None else State.NEW

    async def callback_question(
        self, channel: Channel, thread_ref: str, contact: Contact | None
    ) -> str | None:
        """What to ask a caller we could ring back, or None. Everyone is offered one: a
        consented caller on their record's number; anyone else calling from a number under a
        consent of its own, the number kept only for that call."""
        async with self._threads.begin(channel, thread_ref) as turn:
            found = await turn.state()
        consented = found.conversation is not None
        reachable = consented and found.conversation.has_contact
        return self._callback_words(consented, reachable, contact)

    def _callback_words(
        self, consented: bool, reachable: bool, contact: Contact | None
    ) -> str | None:
        if consented:
            return self.wording["callback_offer"] if reachable else None
        if self._callbacks is not None and contact is not None and contact.kind == "phone":
            return self.wording["callback_offer_unrecorded"]
        return None

    async def request_callback(
        self, channel: Channel, thread_ref: str, answer: Inbound | None = None
    ) -> bool:
        """The caller said yes to a call-back: on the record when there is one, else their
        number alone, under the consent they just gave (`answer`: the turn that said yes)."""
        async with self._threads.begin(channel, thread_ref) as turn:
            found = await turn.state()
            if found.conversation is not None:
                if not found.conversation.has_contact:
                    return False
                await turn.request_callback(found.conversation.id)
                return True
        contact = answer.contact if answer is not None else None
        if self._callbacks is None or contact is None or contact.kind != "phone":
            return False
        consent = dataclasses.replace(
            self._consent(answer),
            wording_text=self.wording["callback_offer_unrecorded"],
        )
        await self._callbacks.keep(consent, contact)
        if self._on_activity is not None:
            self._on_activity("callback")
        return True

    @property
    def offers_notice(self) -> bool:
        """Whether "Why we keep information about you" can be emailed to a caller."""
        return self._replies.writes_back(Channel.EMAIL)

    async def send_notice(
        self, channel: Channel, thread_ref: str, address: str, turn_id: str | None = None
    ) -> bool:
        """Email the "Why we keep information about you" notice to a consented parent, and note
        in the conversation what was sent, where (staff and a subject access request see it).
        `turn_id` (the request that asked) makes a retried request send nothing twice."""
        if not self._replies.writes_back(Channel.EMAIL):
            return False
        async with self._threads.begin(channel, thread_ref) as turn:
            found = await turn.state()
            if found.conversation is None:
                return False
            note = f"[{self.wording['notice_title']}] emailed to {address} at the caller's request."
            key = _turn_key(turn_id)
            if await turn.add_message(found.conversation.id, note, direction="out", turn_key=key):
                await self._replies.notice(turn, thread_ref, address)
        if self._on_queued is not None:
            self._on_queued()
        return True

    async def remind_holds(self) -> int:
        """One reminder per thread, when a hold has lived REMIND_AT of its time without an
        answer: never to machines (they are never asked), never twice."""
        if self._due_for_reminder is None:
            return 0
        sent = 0
        # every email hold lives hold_ttl: due once less than (1 - REMIND_AT) of it is left
        left = self.hold_ttl(Channel.EMAIL) * (1 - REMIND_AT)
        for due in await self._due_for_reminder(Channel.EMAIL, utcnow() + left):
            if not due.thread_ref:
                continue
            async with self._threads.begin(due.channel, due.thread_ref) as turn:
                held = (await turn.state()).held
                if held is None or held.state != State.ASKING_CONSENT or held.data.get("reminded"):
                    continue  # answered, or reminded by another process, meanwhile
                if await self._replies.remind(
                    turn, dataclasses.replace(held, thread_ref=due.thread_ref)
                ):
                    sent += 1
                await turn.hold(
                    state=State.ASKING_CONSENT,
                    ttl=self.hold_ttl(held.channel),
                    contact=held.contact,
                    texts=held.texts,
                    data={"reminded": True},
                    previous=held,
                )
        if sent and self._on_queued is not None:
            self._on_queued()
        return sent

    async def expire_holds(self, now: datetime | None = None) -> int:
        """Purge holds nobody answered; where we wrote to ask, say that nothing was kept."""
        queued = False

        async def on_expired(turn: TurnStore, held: HeldItem) -> None:
            nonlocal queued
            queued = await self._replies.expired(turn, held) or queued

        purged = await self._threads.expire(on_expired, now)
        if queued and self._on_queued is not None:
            self._on_queued()
        return purged

    # -- helpers ---------------------------------------------------------------------------------
    def _consent(self, inbound: Inbound, held: HeldItem | None = None) -> ConsentGiven:
        """The one place a consent record's method, wording and the parent's words are chosen.
        A yes to the question we asked names the version it was asked under, even if a newer
        one came in meanwhile; the consent page names the words it showed just now."""
        method = _method_for(inbound)
        version = self.wording.version
        text = self.wording.consent_text(inbound.channel, method)
        asked = _data(held, "wording", None)
        if method is not ConsentMethod.WEB_PAGE and isinstance(asked, list) and len(asked) == 2:
            version, text = str(asked[0]), str(asked[1])
        return ConsentGiven(
            channel=inbound.channel,
            method=method,
            wording_version=version,
            wording_text=text,
            given_at=inbound.received_at,
            thread_ref=inbound.thread_ref,
            answer_words=self._answer_words(inbound, method),
        )

    def referral_consent(self, channel: Channel, thread_ref: str, how: str) -> ConsentGiven:
        """A referrer's word that the parent agreed to the referral: the consent record says
        how the parent gave it, in the referrer's words (who referred is in the referral)."""
        return ConsentGiven(
            channel=channel,
            method=ConsentMethod.REFERRAL,
            wording_version=self.wording.version,
            wording_text=REFERRAL_PERMISSION,
            given_at=utcnow(),
            thread_ref=thread_ref,
            answer_words=how,
        )

    def _answer_words(self, inbound: Inbound, method: ConsentMethod) -> str:
        """The parent's own words of consent, as given: "yeah go on then", "pressed 1"."""
        if method is ConsentMethod.KEYPAD:
            return f"pressed {(inbound.digits or '').strip()[:1]}"
        if method is ConsentMethod.WEB_PAGE:
            return f'chose "{self.wording["consent_button_yes"]}"'
        return answer_sentence(_answerable(inbound))[:200]

    def _reply(
        self,
        inbound: Inbound,
        action: Action,
        state: State,
        conversation: ThreadConversationView | None,
        raised: Raised | None,
    ) -> Reply:
        return Reply(
            action=action,
            state=state,
            say=self._words(action, inbound.channel),
            conversation_id=conversation.id if conversation and state is State.CONSENTED else None,
            concern_id=raised.id if raised else None,
            concern_severity=raised.severity if raised else None,
        )

    async def _assess(self, text: str) -> RiskAssessment:
        """The detector's answer; a longer text assessed where the event loop does not wait
        for it (a worker process, else a thread), a short one here at once."""
        elsewhere = getattr(self._risk, "assess_elsewhere", None)
        if elsewhere is not None and len(text) >= ELSEWHERE_TEXT:
            return await elsewhere(text)
        if len(text) > LONG_TEXT:
            return await asyncio.to_thread(self._risk.assess, text)
        return self._risk.assess(text)

    async def _raise_concern(self, inbound: Inbound, assessment: RiskAssessment) -> Raised:
        """POLICY EXCEPTION: a child may be at risk, so this is kept whatever the consent state.

        The tier sets how loud the alert is; on a call, the caller is put through to a person
        at once, and while that person is the lead, the caller's call is the lead's call."""
        severity = assessment.severity or "concern"
        in_hours = self._in_hours()
        to_lead = inbound.channel is Channel.VOICE and caller_goes_to_lead(
            severity, in_hours=in_hours
        )
        excerpt, marks = evidence_with_marks(inbound.text or "", assessment)
        concern_id = await self._threads.raise_concern(
            ConcernInput(
                channel=inbound.channel,
                severity=severity,
                categories=tuple(assessment.categories),
                evidence=excerpt,
                evidence_marks=tuple(tuple(m) for m in marks),
                thread_ref=inbound.thread_ref,
                contact=inbound.contact,
                rules=tuple(sorted({e.rule for e in assessment.evidence})),
                alert_by=alert_channels(severity, in_hours=in_hours, caller_put_through=to_lead),
                model_version=getattr(assessment, "model", None),
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
        return Raised(concern_id, severity)

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
    if inbound.choice is not None:
        return ConsentMethod.WEB_PAGE
    if inbound.digits:
        return ConsentMethod.KEYPAD
    if inbound.channel is Channel.VOICE:
        return ConsentMethod.SPEECH
    return ConsentMethod.EMAIL_REPLY


def _heard(inbound: Inbound, answer: Answer, held: HeldItem | None) -> tuple[Answer, bool]:
    """How a spoken answer to the consent question is taken, as a person would: a yes the
    recogniser was unsure of is checked once; words that are neither yes nor no but tell the
    caller's story (the first time) are heard and kept pending the answer, not met with
    "Sorry, I didn't catch that"."""
    if answer is Answer.YES and _unsure_yes(inbound) and not _data(held, "checked_yes", False):
        return Answer.UNCLEAR, False
    words = len((inbound.text or "").split())
    if answer is Answer.UNCLEAR and words >= STORY_WORDS and not _data(held, "story", False):
        return answer, True
    return answer, False


def _unsure_yes(inbound: Inbound) -> bool:
    return (
        inbound.confidence is not None
        and inbound.confidence < SURE_ENOUGH
        and interpret(None, inbound.text) is Answer.YES
    )


def _says_more(inbound: Inbound) -> bool:
    """A spoken yes that goes on to say what the caller needs ("yes, it's about his EHCP")."""
    if inbound.channel is not Channel.VOICE or inbound.digits or not inbound.text:
        return False
    return len(inbound.text.split()) > BARE_ANSWER or len(answer_rest(inbound.text).split()) >= 3


def _answerable(inbound: Inbound) -> str:
    return (inbound.answer_text if inbound.answer_text is not None else inbound.text) or ""


def _bare_answer(text: str | None) -> bool:
    return bool(text) and read_written(text) is not None and len(text.split()) <= BARE_ANSWER


def _data(held: HeldItem | None, key: str, default: object) -> object:
    return held.data.get(key, default) if held is not None else default


def _unclear_reply(inbound: Inbound, held: HeldItem | None) -> bool:
    """A written reply after we asked that was neither yes nor no (or said nothing of its
    own: a signature, our email quoted back), the first such on the thread (a parent writing
    more is asked once, never again)."""
    return (
        held is not None
        and inbound.reading is Reading.WRITTEN
        and bool(_data(held, "asked", False))
        and not _data(held, "checked", False)
    )


def _details(inbound: Inbound, held: HeldItem | None) -> dict[str, str]:
    """What an adviser needs to answer the thread: its reference, and for email the first
    message's subject and the Message-ID to reply to (the newest one known)."""
    notes = {**_data(held, "notes", {}), **{k: v for k, v in (inbound.notes or {}).items() if v}}
    return {"thread_ref": inbound.thread_ref, **notes}


def _with(reply: Reply, **changes: object) -> Reply:
    return dataclasses.replace(reply, **changes)


def _turn_key(turn_id: str | None) -> str | None:
    """A fixed-length key for the channel's turn identity (which may be long or odd)."""
    return None if turn_id is None else hashlib.sha256(turn_id.encode()).hexdigest()


def evidence_with_marks(
    text: str, assessment: RiskAssessment, limit: int = 1_000
) -> tuple[str, list[list]]:
    """The least text a safeguarding lead needs (each risk phrase with a little context), and
    where in it each phrase is ([start, end, category, rule]), so the console marks exactly the
    words that raised the concern."""
    if not assessment.evidence:
        return text[:280], []
    found = sorted(assessment.evidence, key=lambda e: (e.start, e.end))
    windows: list[list[int]] = []
    for ev in found:
        start, end = max(0, ev.start - EXCERPT_CONTEXT), min(len(text), ev.end + EXCERPT_CONTEXT)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    excerpt, offsets = "", []
    for start, end in windows:
        if excerpt:
            excerpt += " … "
        offsets.append((start, len(excerpt)))
        excerpt += text[start:end]
    marks = []
    for ev in found:
        source, at = next((s, a) for s, a in reversed(offsets) if s <= ev.start)
        begin, finish = ev.start - source + at, ev.end - source + at
        if finish <= limit:
            marks.append([begin, finish, ev.category, ev.rule])
    return excerpt[:limit], marks
