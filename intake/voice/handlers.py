"""Twilio voice webhooks: each call step turned into an Inbound for the core, and the core's
Reply turned into TwiML.

Every request is signature-checked first. Every speech result goes to the risk check before
anything else (through the Gateway). Any failure inside a step still answers with TwiML that
puts the caller through to a person: a parent in distress never hears dead air.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web
from cryptography.exceptions import InvalidTag
from multidict import MultiDictProxy
from twilio.twiml.voice_response import VoiceResponse

from intake.core.answers import Answer, interpret
from intake.core.gateway import Gateway
from intake.core.tiers import caller_goes_to_lead
from intake.core.types import Action, Inbound, Raised, Reply, Turn
from intake.logs import log_event
from intake.metrics import Metrics
from intake.settings import Settings
from intake.voice import twiml
from intake.voice.callers import caller_contact
from intake.voice.hours import OfficeHours
from intake.voice.replay import ReplayRecord, fingerprint
from intake.voice.signature import TwilioSignature, read_signed_form
from intake.voice.spoken_email import parse_spoken_email, speak_email
from storage.crypto import FieldCipher, Keyring
from storage.values import Channel, Contact, OnCallEntry, next_on_call, readable_phone, utcnow

log = logging.getLogger("intake.voice")

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}
ANSWERED = {"completed", "answered"}
BASE = "/twilio/voice"
NOTICE = "voice.notice"  # the sealed address a caller spelled, carried in the next URL
STATUS = "/twilio/status"
STEPS = {  # each webhook's path and the step that answers it
    BASE: "_incoming",
    f"{BASE}/consent": "_consent",
    f"{BASE}/notice": "_notice",
    f"{BASE}/notice-address": "_notice_address",
    f"{BASE}/notice-confirm": "_notice_confirm",
    f"{BASE}/help": "_help",
    f"{BASE}/callback": "_callback",
    f"{BASE}/dialled": "_dialled",
    STATUS: "_status",
}
VOICE_ROUTES = tuple(STEPS)
# Steps whose every change is a turn of the core, which keeps their answer with the turn (the
# others only ask or dial, and their answer is kept after).
TURNS = frozenset({BASE, f"{BASE}/consent", f"{BASE}/help"})
EMAIL_HINTS = "at, dot, gmail, hotmail, outlook, yahoo, icloud, btinternet, co dot uk, com"


class Rota(Protocol):
    """Who is on call now (storage's rota, as this adapter sees it)."""

    async def show(self) -> dict[str, OnCallEntry | None]: ...


@dataclass(frozen=True)
class Call:
    sid: str
    contact: Contact | None
    step: int
    form: MultiDictProxy[str]
    query: dict[str, str]
    route: str = ""
    replay_key: str | None = None  # this request's key in the replay record

    @property
    def turn_id(self) -> str:
        """A call step is identified by its CallSid, route and step number: Twilio's retry of
        the same step (to any gateway process) is stored once."""
        return f"{self.sid}:{self.route}:{self.step}"

    def inbound(self, turn: Turn, **kw) -> Inbound:  # noqa: ANN003
        return Inbound(
            Channel.VOICE, self.sid, turn, contact=self.contact, turn_id=self.turn_id, **kw
        )

    def answer(self) -> Inbound:
        """What the caller said or pressed to a question, with the recogniser's confidence."""
        return self.inbound(
            Turn.ANSWER, text=self.speech, digits=self.digits, confidence=self.confidence
        )

    @property
    def confidence(self) -> float | None:
        try:
            return float(self.form["Confidence"]) if self.speech else None
        except (KeyError, ValueError):
            return None

    @property
    def speech(self) -> str | None:
        value = self.form.get("SpeechResult")
        return value if value and value.strip() else None

    @property
    def digits(self) -> str | None:
        value = self.form.get("Digits")
        return value.strip() if value and value.strip() else None

    def next(self, path: str, **params: str) -> str:
        return twiml.action_url(path, self.step + 1, **params)


@dataclass(frozen=True)
class Answered:
    """TwiML already rendered, and kept with the turn that produced it."""

    body: str


Step = Callable[[Call], Awaitable[VoiceResponse | Answered]]


class VoiceAdapter:
    def __init__(
        self,
        gateway: Gateway,
        settings: Settings,
        signature: TwilioSignature,
        hours: OfficeHours,
        *,
        rota: Rota,
        replays: ReplayRecord,
        keyring: Keyring,
        metrics: Metrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._gateway = gateway
        self._w = gateway.wording
        self._settings = settings
        self._signature = signature
        self._hours = hours
        self._rota_store = rota
        self._replays = replays
        self._cipher = FieldCipher(keyring)
        self._metrics = metrics
        self._clock = clock
        self._rota: dict[str, OnCallEntry | None] = {"primary": None, "deputy": None}

        self.handlers: dict[str, Callable[[web.Request], Awaitable[web.Response]]] = {
            path: self._webhook(path, getattr(self, name), twiml_reply=path != STATUS)
            for path, name in STEPS.items()
        }
        """Every webhook this adapter answers, by path (VOICE_ROUTES)."""

    async def start(self) -> None:
        """Learn the rota before the first call, so the fail-safe knows whom to dial."""
        try:
            await self._on_call()
        except Exception as exc:  # noqa: BLE001 - the fail-safe still has the adviser line
            log_event(log, "rota_unavailable", logging.WARNING, error=type(exc).__name__)

    # -- the envelope every webhook goes through ------------------------------------------------
    def _webhook(self, path: str, step: Step, twiml_reply: bool = True):  # noqa: ANN202
        async def handle(request: web.Request) -> web.Response:
            form = await read_signed_form(request, self._signature)
            if isinstance(form, web.Response):
                if form.status == 403:
                    log_event(
                        log, "webhook_signature_rejected", logging.WARNING, route=request.path
                    )
                return form
            sid = form.get("CallSid", "")
            if not isinstance(sid, str) or not CALL_SID.match(sid):
                return web.Response(status=400, text="missing or malformed CallSid\n")
            replay_key = None  # a status callback is not answered, so none is kept
            if twiml_reply:
                replay_key = self._replays.request_key(fingerprint(request.path_qs, form))
                # A turn looks for its kept answer itself, with the thread locked.
                if path not in TURNS and (cached := await self._replayed(replay_key)) is not None:
                    return _xml(cached)
            call = Call(
                sid=sid,
                contact=caller_contact(_text(form.get("From"))),
                step=_step_number(request.query.get("n")),
                form=form,
                query=dict(request.query),
                route=request.path,
                replay_key=replay_key,
            )
            try:
                answered = await step(call)
                if isinstance(answered, Answered):
                    return _xml(answered.body)
                body = twiml.render(answered)
            except Exception as exc:  # noqa: BLE001 - whatever failed, a person must answer
                log_event(
                    log,
                    "voice_step_failed",
                    logging.ERROR,
                    route=request.path,
                    error=type(exc).__name__,
                )
                self._metrics.count("intake_voice_failsafe_total")
                body = twiml.render(self._failsafe())
            if replay_key is None:
                return web.Response(status=204)
            return _xml(await self._keep(replay_key, sid, body))

        return handle

    # -- call steps ----------------------------------------------------------------------------
    async def _incoming(self, call: Call) -> Answered:
        return await self._turn(call, call.inbound(Turn.START))

    async def _consent(self, call: Call) -> Answered:
        return await self._turn(call, call.answer())

    async def _turn(self, call: Call, inbound: Inbound) -> Answered:
        """A turn for the core, its Reply spoken as TwiML and kept with the turn (one
        transaction), so Twilio's retry of this request gets the same answer."""

        async def respond(reply: Reply) -> str:
            return twiml.render(await self._present(call, reply))

        assert call.replay_key is not None
        return Answered(await self._gateway.answer(inbound, respond, call.replay_key))

    async def _help(self, call: Call) -> VoiceResponse | Answered:
        if call.digits == "0":
            return await self._person(call)
        if call.speech is None:
            if call.query.get("again"):  # twice silent: a person, not a loop
                return await self._to_adviser(call)
            return twiml.ask(
                [
                    "Are you still there?",
                    self._w["how_can_we_help"],
                    "Or press 0 to speak to a person.",
                ],
                call.next(f"{BASE}/help", again="1"),
                hints="",
            )
        return await self._turn(call, call.inbound(Turn.MESSAGE, text=call.speech))

    async def _notice(self, call: Call) -> VoiceResponse | Answered:
        """Offered once a consented caller has said what they need, before an adviser."""
        if (kept := await self._keep_other_words(call)) is not None:
            return kept
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        if interpret(call.digits, call.speech) is Answer.YES:
            return self._ask_address(call, retry=False)
        return await self._to_adviser(call)

    async def _keep_other_words(self, call: Call) -> VoiceResponse | None:
        """Words said to a yes-or-no question that are neither: what the caller said, kept
        (for a consented caller) and assessed like any other, and then a person."""
        if not call.speech or call.digits or interpret(None, call.speech) is not Answer.UNCLEAR:
            return None
        reply = await self._gateway.handle(call.inbound(Turn.MESSAGE, text=call.speech))
        if reply.concern_id:
            return await self._safeguarding(
                call, Raised(reply.concern_id, reply.concern_severity or "concern")
            )
        return await self._to_adviser(call)

    def _ask_address(self, call: Call, retry: bool) -> VoiceResponse:
        params = {"r": "1"} if retry else {}
        return twiml.ask(
            [self._w["notice_ask_address"]],
            call.next(f"{BASE}/notice-address", **params),
            hints=EMAIL_HINTS,
            digits=None,
            speech_timeout="3",
        )

    async def _notice_address(self, call: Call) -> VoiceResponse | Answered:
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        address = parse_spoken_email(call.speech or "")
        if address is None:
            return await self._to_adviser(call, [self._w["notice_not_understood"]])
        sealed = base64.urlsafe_b64encode(self._cipher.seal(address, NOTICE, call.sid)).decode()
        confirm = self._w["notice_confirm"].format(address=speak_email(address))
        retried = {"r": "1"} if call.query.get("r") else {}
        return twiml.ask([confirm], call.next(f"{BASE}/notice-confirm", a=sealed, **retried))

    async def _notice_confirm(self, call: Call) -> VoiceResponse | Answered:
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        if interpret(call.digits, call.speech) is not Answer.YES:
            if call.query.get("r"):  # heard wrong twice: an adviser can send it later
                return await self._to_adviser(call, [self._w["notice_not_understood"]])
            return self._ask_address(call, retry=True)
        try:
            address = self._cipher.open(
                base64.urlsafe_b64decode(call.query.get("a", "")), NOTICE, call.sid
            )
        except (ValueError, InvalidTag):  # altered or from another call
            return await self._to_adviser(call, [self._w["notice_not_understood"]])
        if not await self._gateway.send_notice(Channel.VOICE, call.sid, address, call.turn_id):
            return await self._to_adviser(call, [self._w["notice_not_understood"]])
        return await self._to_adviser(call, [self._w["notice_queued"]])

    async def _callback(self, call: Call) -> VoiceResponse | Answered:
        answer = interpret(call.digits, call.speech)
        if answer is Answer.UNCLEAR and call.speech and not call.digits:
            # neither yes nor no: kept as what they said (when consented), then asked again
            reply = await self._gateway.handle(call.inbound(Turn.MESSAGE, text=call.speech))
            if reply.concern_id:
                return await self._safeguarding(
                    call, Raised(reply.concern_id, reply.concern_severity or "concern")
                )
            question = await self._callback_question(call)
            if question and not call.query.get("again"):
                return twiml.ask(
                    [self._w["noted"], question], call.next(f"{BASE}/callback", again="1")
                )
        elif concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        if answer is Answer.YES and (
            await self._gateway.request_callback(Channel.VOICE, call.sid, call.answer())
        ):
            return twiml.speak_and_hang_up(
                [self._w["callback_booked"], self._write_to_us(), self._w["goodbye"]]
            )
        return twiml.speak_and_hang_up([self._write_to_us(), self._w["goodbye"]])

    async def _person(self, call: Call) -> Answered:
        """ "Press 0 at any time to speak to a person": the greeting's promise, at every step."""
        return await self._turn(call, call.inbound(Turn.ANSWER, digits="0"))

    async def _dialled(self, call: Call) -> VoiceResponse:
        status = (call.form.get("DialCallStatus") or "").lower()
        tier = call.query.get("tier", "")
        if status in ANSWERED:
            response = VoiceResponse()
            response.hangup()
            return response
        log_event(log, "dial_unanswered", status=status, slot=tier)
        if tier in ("primary", "deputy"):
            after = next_on_call(await self._on_call(), tier, wrap=False)
            if after is not None:
                return twiml.dial(
                    [self._w["trying_someone_else"]],
                    after.phone,
                    call.next(f"{BASE}/dialled", tier=after.slot),
                    self._caller_id,
                )
            return self._emergency(call)
        if tier == "review":  # no adviser answered a caller whose words were flagged: the lead
            return await self._to_lead(call, None)
        if tier == "adviser":
            return await self._after_hours(call, [self._w["no_adviser_free"]])
        return twiml.speak_and_hang_up([self._write_to_us(), self._w["goodbye"]])

    async def _status(self, call: Call) -> VoiceResponse:
        if (call.form.get("CallStatus") or "").lower() in ENDED:
            await self._gateway.handle(call.inbound(Turn.HANGUP))  # its answers go with it
        return VoiceResponse()

    # -- turning the core's Reply into speech ------------------------------------------------
    async def _present(self, call: Call, reply: Reply) -> VoiceResponse:
        w = self._w
        if reply.action is Action.CONNECT_SAFEGUARDING:
            severity = reply.concern_severity or "concern"
            raised = Raised(reply.concern_id, severity) if reply.concern_id else None
            return await self._safeguarding(call, raised)
        if reply.action in (Action.ASK_CONSENT, Action.ASK_AGAIN):
            return twiml.ask(reply.say, call.next(f"{BASE}/consent"))
        if reply.action is Action.ASK_HOW_TO_HELP:
            return self._ask_for_help(call, [w["consented_voice"]])
        if reply.action is Action.HELP_WITHOUT_RECORDS:
            return self._ask_for_help(call, list(reply.say[:1]))
        if reply.action in (Action.ROUTE_TO_ADVISER, Action.CONNECT_PERSON):
            # consent just given with the story already told: said once, then on
            first = [w["consented_voice"]] if reply.answer is Answer.YES else []
            if (
                reply.action is Action.ROUTE_TO_ADVISER
                and reply.consented
                and (self._gateway.offers_notice)
            ):  # they have said what they need: now the notice, once, before a person
                return twiml.ask(
                    [*first, w["before_handover"], w["notice_offer_voice"]],
                    call.next(f"{BASE}/notice"),
                )
            return await self._to_adviser(call, first, reply)
        return self._ask_for_help(call, [])

    def _ask_for_help(self, call: Call, first: list[str]) -> VoiceResponse:
        return twiml.ask(
            [*first, self._w["how_can_we_help"]],
            call.next(f"{BASE}/help"),
            hints="",
            speech_timeout="auto",
        )

    async def _to_adviser(
        self, call: Call, first: list[str] | None = None, reply: Reply | None = None
    ) -> VoiceResponse:
        """A person: an adviser in office hours; out of hours the council's out-of-hours line
        when there is one (INTAKE_OUT_OF_HOURS_NUMBER), else the hours and a call-back. Within
        a turn (`reply`), the thread is locked: the call-back question comes with the Reply."""
        first = first or []
        adviser = self._settings.adviser_number
        if adviser and self._hours.open_at(self._clock()):
            return twiml.dial(
                [*first, self._w["adviser_handover"]],
                adviser,
                call.next(f"{BASE}/dialled", tier="adviser"),
                self._caller_id,
            )
        if self._settings.out_of_hours_number:
            return twiml.dial(
                [*first, self._w["out_of_hours_handover"]],
                self._settings.out_of_hours_number,
                call.next(f"{BASE}/dialled", tier="out_of_hours"),
                self._caller_id,
            )
        return await self._after_hours(call, first, reply)

    async def _after_hours(
        self, call: Call, first: list[str], reply: Reply | None = None
    ) -> VoiceResponse:
        """No adviser now: everyone we could ring back is offered a call-back (the core says
        with which words: a caller who said no is asked to let us keep the number for it)."""
        hours = self._w["advisers_available"].format(hours=self._hours.spoken())
        question = (
            reply.callback_question if reply is not None else await self._callback_question(call)
        )
        if question:
            return twiml.ask([*first, hours, question], call.next(f"{BASE}/callback"))
        return twiml.speak_and_hang_up([*first, hours, self._write_to_us(), self._w["goodbye"]])

    async def _callback_question(self, call: Call) -> str | None:
        return await self._gateway.callback_question(Channel.VOICE, call.sid, call.contact)

    async def _screen(self, call: Call) -> Raised | None:
        """Risk first, for answers to the adapter's own questions."""
        return await self._gateway.screen(call.inbound(Turn.MESSAGE, text=call.speech))

    async def _safeguarding(self, call: Call, raised: Raised | None) -> VoiceResponse:
        """A child may be at risk: one calm sentence, then a person. The on-call lead (deputy
        next); for a review-tier flag, an adviser while there is one, the lead if not."""
        concern_id = raised.id if raised else None
        open_now = bool(self._settings.adviser_number) and self._hours.open_at(self._clock())
        if raised is not None and not caller_goes_to_lead(raised.severity, in_hours=open_now):
            log_event(log, "safeguarding_dial", concern_id=concern_id, status="adviser")
            return twiml.dial(
                [self._w["adviser_handover"]],
                self._settings.adviser_number,
                call.next(f"{BASE}/dialled", tier="review"),
                self._caller_id,
            )
        return await self._to_lead(call, concern_id)

    async def _to_lead(self, call: Call, concern_id: str | None) -> VoiceResponse:
        first = next_on_call(await self._on_call())
        log_event(
            log,
            "safeguarding_dial",
            concern_id=concern_id,
            status=first.slot if first else "nobody_on_call",
        )
        if first is None:
            return self._emergency(call)
        return twiml.dial(
            [self._w["risk_handover"]],
            first.phone,
            call.next(f"{BASE}/dialled", tier=first.slot),
            self._caller_id,
        )

    def _emergency(self, call: Call) -> VoiceResponse:
        """Nobody on call answered: the caller hears that the team knows and will call back
        today, and where to get help now (children's services, when the council gives the
        number); then an adviser in office hours. Never "hang up" followed by a dial."""
        words = [self._settings.emergency_message]
        if self._settings.childrens_services_number:
            number = readable_phone(self._settings.childrens_services_number)
            words.append(f"You can also call children's services on {number}.")
        adviser = self._settings.adviser_number
        if adviser and self._hours.open_at(self._clock()):
            return twiml.dial(
                [*words, self._w["adviser_handover"]],
                adviser,
                call.next(f"{BASE}/dialled", tier="adviser"),
                self._caller_id,
            )
        return twiml.speak_and_hang_up([*words, self._w["goodbye"]])

    def _failsafe(self) -> VoiceResponse:
        """Built without the database: the adviser line in hours, else the last known lead."""
        adviser = self._settings.adviser_number
        if adviser and self._hours.open_at(self._clock()):
            number = adviser
        else:
            lead = next_on_call(self._rota)
            number = lead.phone if lead else adviser
        if number is None:
            return twiml.speak_and_hang_up([self._settings.emergency_message])
        response = twiml.dial(
            [self._w["failsafe"]], number, f"{BASE}/dialled?n=0&tier=failsafe", self._caller_id
        )
        return response

    async def _on_call(self) -> dict[str, OnCallEntry | None]:
        self._rota = await self._rota_store.show()
        return self._rota

    async def _replayed(self, replay_key: str) -> str | None:
        """The answer given before to this very request; a database that is down only means
        the request is treated as new (the turn itself is idempotent)."""
        try:
            return await self._replays.answer_for(replay_key)
        except Exception as exc:  # noqa: BLE001 - the caller must still be answered
            log_event(log, "replay_unavailable", logging.WARNING, error=type(exc).__name__)
            return None

    async def _keep(self, replay_key: str, sid: str, body: str) -> str:
        try:
            return await self._replays.keep(replay_key, sid, body)
        except Exception as exc:  # noqa: BLE001 - the caller must still be answered
            log_event(log, "replay_unavailable", logging.WARNING, error=type(exc).__name__)
            return body

    @property
    def _caller_id(self) -> str | None:
        return self._settings.twilio_phone_number

    def _write_to_us(self) -> str:
        return self._w["write_to_us"].format(email=self._settings.mail_address)


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml", charset="utf-8")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _step_number(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 0), 10_000))
    except ValueError:
        return 0
