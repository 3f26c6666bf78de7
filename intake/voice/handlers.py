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
from intake.core.types import Action, Inbound, Reply, Turn
from intake.logs import log_event
from intake.voice import twiml
from intake.voice.callers import caller_contact
from intake.voice.hours import OfficeHours
from intake.voice.replay import ReplayCache
from intake.voice.signature import TwilioSignature, read_signed_form
from intake.voice.spoken_email import parse_spoken_email, speak_email
from storage.rota import OnCallEntry
from storage.tables import utcnow
from storage.values import Channel, ConsentMethod, Contact

log = logging.getLogger("intake.voice")

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}
ANSWERED = {"completed", "answered"}
BASE = "/twilio/voice"
EMAIL_HINTS = "at, dot, gmail, hotmail, outlook, yahoo, icloud, btinternet, co dot uk, com"


class NoticeSender(Protocol):
    """Sends the "Why we keep information about you" notice to a consented caller."""

    async def send_notice(self, conversation_id: str, address: str) -> None: ...


@dataclass(frozen=True)
class Call:
    sid: str
    contact: Contact | None
    step: int
    form: MultiDictProxy[str]
    query: dict[str, str]
    route: str = ""

    def inbound(self, turn: Turn, **kw) -> Inbound:  # noqa: ANN003
        # A call step is identified by its CallSid, route and step number: Twilio's retry of
        # the same step (to any gateway process) is stored once.
        turn_id = f"{self.sid}:{self.route}:{self.step}"
        return Inbound(Channel.VOICE, self.sid, turn, contact=self.contact, turn_id=turn_id, **kw)

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


Step = Callable[[Call], Awaitable[VoiceResponse]]


class VoiceAdapter:
    def __init__(
        self,
        services,  # noqa: ANN001 - intake.app.Services (import would be circular)
        signature: TwilioSignature,
        hours: OfficeHours,
        *,
        notices: NoticeSender | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._s = services
        self._gateway = services.gateway
        self._w = services.wording
        self._signature = signature
        self._hours = hours
        self._notices = notices
        self._clock = clock
        self._replays = ReplayCache()
        self._rota: dict[str, OnCallEntry | None] = {"primary": None, "deputy": None}

    def register(self, app: web.Application) -> None:
        steps: dict[str, Step] = {
            BASE: self._incoming,
            f"{BASE}/consent": self._consent,
            f"{BASE}/notice": self._notice,
            f"{BASE}/notice-address": self._notice_address,
            f"{BASE}/notice-confirm": self._notice_confirm,
            f"{BASE}/help": self._help,
            f"{BASE}/callback": self._callback,
            f"{BASE}/dialled": self._dialled,
        }
        for path, step in steps.items():
            app.router.add_post(path, self._webhook(step))
        app.router.add_post("/twilio/status", self._webhook(self._status, twiml_reply=False))
        app.on_startup.append(self._warm_rota)

    # -- the envelope every webhook goes through ------------------------------------------------
    def _webhook(self, step: Step, twiml_reply: bool = True):  # noqa: ANN202
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
            replay_key = ReplayCache.key(request.path_qs, form)
            cached = self._replays.get(replay_key)
            if cached is not None:
                return _xml(cached) if twiml_reply else web.Response(status=204)
            call = Call(
                sid=sid,
                contact=caller_contact(_text(form.get("From"))),
                step=_step_number(request.query.get("n")),
                form=form,
                query=dict(request.query),
                route=request.path,
            )
            try:
                body = twiml.render(await step(call))
            except Exception as exc:  # noqa: BLE001 - whatever failed, a person must answer
                log_event(
                    log,
                    "voice_step_failed",
                    logging.ERROR,
                    route=request.path,
                    error=type(exc).__name__,
                )
                self._s.metrics.count("intake_voice_failsafe_total")
                body = twiml.render(self._failsafe())
            self._replays.put(replay_key, body)
            return _xml(body) if twiml_reply else web.Response(status=204)

        return handle

    # -- call steps ----------------------------------------------------------------------------
    async def _incoming(self, call: Call) -> VoiceResponse:
        return await self._present(call, await self._gateway.handle(call.inbound(Turn.START)))

    async def _consent(self, call: Call) -> VoiceResponse:
        method = ConsentMethod.KEYPAD if call.digits else ConsentMethod.SPEECH
        reply = await self._gateway.handle(
            call.inbound(Turn.ANSWER, text=call.speech, digits=call.digits, method=method)
        )
        return await self._present(call, reply)

    async def _help(self, call: Call) -> VoiceResponse:
        if call.digits == "0":
            return await self._person(call)
        if call.speech is None:
            if call.query.get("again"):
                return await self._to_adviser(call)  # twice silent: a person, not a loop
            return twiml.ask(
                [
                    "Are you still there?",
                    self._w["how_can_we_help"],
                    "Or press 0 to speak to a person.",
                ],
                call.next(f"{BASE}/help", again="1"),
                hints="",
            )
        reply = await self._gateway.handle(call.inbound(Turn.MESSAGE, text=call.speech))
        return await self._present(call, reply)

    async def _notice(self, call: Call) -> VoiceResponse:
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        if interpret(call.digits, call.speech) is Answer.YES:
            return self._ask_address(call, retry=False)
        return self._ask_for_help(call, [self._w["see_what_we_hold"]])

    def _ask_address(self, call: Call, retry: bool) -> VoiceResponse:
        params = {"r": "1"} if retry else {}
        return twiml.ask(
            [self._w["notice_ask_address"]],
            call.next(f"{BASE}/notice-address", **params),
            hints=EMAIL_HINTS,
            digits=None,
            speech_timeout="3",
        )

    async def _notice_address(self, call: Call) -> VoiceResponse:
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        address = parse_spoken_email(call.speech or "")
        if address is None:
            return self._ask_for_help(
                call, [self._w["notice_not_understood"], self._w["see_what_we_hold"]]
            )
        sealed = base64.urlsafe_b64encode(
            self._s.db.cipher.seal(address, f"voice.notice:{call.sid}")
        ).decode()
        confirm = self._w["notice_confirm"].format(address=speak_email(address))
        retried = {"r": "1"} if call.query.get("r") else {}
        return twiml.ask([confirm], call.next(f"{BASE}/notice-confirm", a=sealed, **retried))

    async def _notice_confirm(self, call: Call) -> VoiceResponse:
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        if interpret(call.digits, call.speech) is not Answer.YES:
            if call.query.get("r"):  # heard wrong twice: an adviser can send it later
                return self._ask_for_help(call, [self._w["notice_not_understood"]])
            return self._ask_address(call, retry=True)
        try:
            address = self._s.db.cipher.open(
                base64.urlsafe_b64decode(call.query.get("a", "")), f"voice.notice:{call.sid}"
            )
        except (ValueError, InvalidTag):  # altered or from another call
            return self._ask_for_help(call, [self._w["notice_not_understood"]])
        conversation_id = await self._s.records.conversation_for_thread(Channel.VOICE, call.sid)
        if conversation_id is None or self._notices is None:
            return self._ask_for_help(call, [self._w["notice_not_understood"]])
        await self._notices.send_notice(conversation_id, address)
        return self._ask_for_help(call, [self._w["notice_queued"], self._w["see_what_we_hold"]])

    async def _callback(self, call: Call) -> VoiceResponse:
        if concern := await self._screen(call):
            return await self._safeguarding(call, concern)
        if call.digits == "0":
            return await self._person(call)
        conversation_id = await self._s.records.conversation_for_thread(Channel.VOICE, call.sid)
        if interpret(call.digits, call.speech) is Answer.YES and conversation_id:
            await self._s.records.request_callback(conversation_id)
            return twiml.speak_and_hang_up(
                [self._w["callback_booked"], self._write_to_us(), self._w["goodbye"]]
            )
        return twiml.speak_and_hang_up([self._write_to_us(), self._w["goodbye"]])

    async def _person(self, call: Call) -> VoiceResponse:
        """ "Press 0 at any time to speak to a person": the greeting's promise, at every step."""
        reply = await self._gateway.handle(call.inbound(Turn.ANSWER, digits="0"))
        return await self._present(call, reply)

    async def _dialled(self, call: Call) -> VoiceResponse:
        status = (call.form.get("DialCallStatus") or "").lower()
        tier = call.query.get("tier", "")
        if status in ANSWERED:
            response = VoiceResponse()
            response.hangup()
            return response
        log_event(log, "dial_unanswered", status=status, slot=tier)
        if tier == "primary":
            deputy = (await self._on_call())["deputy"]
            if deputy is not None:
                return twiml.dial(
                    [self._w["trying_someone_else"]],
                    deputy.phone,
                    call.next(f"{BASE}/dialled", tier="deputy"),
                    self._caller_id,
                )
            return self._emergency(call)
        if tier == "deputy":
            return self._emergency(call)
        if tier == "adviser":
            return await self._after_hours(call, [self._w["no_adviser_free"]])
        return twiml.speak_and_hang_up([self._write_to_us(), self._w["goodbye"]])

    async def _status(self, call: Call) -> VoiceResponse:
        if (call.form.get("CallStatus") or "").lower() in ENDED:
            await self._gateway.handle(call.inbound(Turn.HANGUP))
        return VoiceResponse()

    # -- turning the core's Reply into speech ------------------------------------------------
    async def _present(self, call: Call, reply: Reply) -> VoiceResponse:
        w = self._w
        if reply.action is Action.CONNECT_SAFEGUARDING:
            return await self._safeguarding(call, reply.concern_id)
        if reply.action in (Action.ASK_CONSENT, Action.ASK_AGAIN):
            return twiml.ask(reply.say, call.next(f"{BASE}/consent"))
        if reply.action is Action.ASK_HOW_TO_HELP:
            if self._notices is not None:
                return twiml.ask(
                    [w["consented_voice"], w["notice_offer_voice"]], call.next(f"{BASE}/notice")
                )
            return self._ask_for_help(call, [w["consented_voice"]])
        if reply.action is Action.HELP_WITHOUT_RECORDS:
            return self._ask_for_help(call, [w["declined_voice"]])
        if reply.action in (Action.ROUTE_TO_ADVISER, Action.CONNECT_PERSON):
            return await self._to_adviser(call)
        return self._ask_for_help(call, [])

    def _ask_for_help(self, call: Call, first: list[str]) -> VoiceResponse:
        return twiml.ask(
            [*first, self._w["how_can_we_help"]],
            call.next(f"{BASE}/help"),
            hints="",
            speech_timeout="auto",
            timeout=8,
        )

    async def _to_adviser(self, call: Call) -> VoiceResponse:
        adviser = self._s.settings.adviser_number
        if adviser and self._hours.open_at(self._clock()):
            return twiml.dial(
                [self._w["adviser_handover"]],
                adviser,
                call.next(f"{BASE}/dialled", tier="adviser"),
                self._caller_id,
            )
        return await self._after_hours(call, [])

    async def _after_hours(self, call: Call, first: list[str]) -> VoiceResponse:
        """No adviser now: a consented caller with a number may ask for a call-back."""
        hours = self._w["advisers_available"].format(hours=self._hours.spoken())
        conversation_id = await self._s.records.conversation_for_thread(Channel.VOICE, call.sid)
        if conversation_id and call.contact is not None:
            return twiml.ask(
                [*first, hours, self._w["callback_offer"]], call.next(f"{BASE}/callback")
            )
        return twiml.speak_and_hang_up([*first, hours, self._write_to_us(), self._w["goodbye"]])

    async def _screen(self, call: Call) -> str | None:
        """Risk first, for answers to the adapter's own questions."""
        return await self._gateway.screen(call.inbound(Turn.MESSAGE, text=call.speech))

    async def _safeguarding(self, call: Call, concern_id: str | None) -> VoiceResponse:
        """A child may be at risk: one calm sentence, then the on-call lead (deputy next)."""
        primary = (await self._on_call())["primary"]
        log_event(
            log,
            "safeguarding_dial",
            concern_id=concern_id,
            status="primary" if primary else "nobody_on_call",
        )
        if primary is None:
            return self._emergency(call)
        return twiml.dial(
            [self._w["risk_handover"]],
            primary.phone,
            call.next(f"{BASE}/dialled", tier="primary"),
            self._caller_id,
        )

    def _emergency(self, call: Call) -> VoiceResponse:
        """Nobody on call answered: the configured emergency message, then an adviser if any."""
        adviser = self._s.settings.adviser_number
        if adviser and self._hours.open_at(self._clock()):
            return twiml.dial(
                [self._s.settings.emergency_message],
                adviser,
                call.next(f"{BASE}/dialled", tier="adviser"),
                self._caller_id,
            )
        return twiml.speak_and_hang_up([self._s.settings.emergency_message])

    def _failsafe(self) -> VoiceResponse:
        """Built without the database: the adviser line in hours, else the last known lead."""
        adviser = self._s.settings.adviser_number
        if adviser and self._hours.open_at(self._clock()):
            number = adviser
        else:
            lead = self._rota["primary"] or self._rota["deputy"]
            number = lead.phone if lead else adviser
        if number is None:
            return twiml.speak_and_hang_up([self._s.settings.emergency_message])
        response = twiml.dial(
            [self._w["failsafe"]], number, f"{BASE}/dialled?n=0&tier=failsafe", self._caller_id
        )
        return response

    async def _on_call(self) -> dict[str, OnCallEntry | None]:
        self._rota = await self._s.rota.show()
        return self._rota

    async def _warm_rota(self, _app: web.Application) -> None:
        try:
            await self._on_call()
        except Exception as exc:  # noqa: BLE001 - the fail-safe still has the adviser line
            log_event(log, "rota_unavailable", logging.WARNING, error=type(exc).__name__)

    @property
    def _caller_id(self) -> str | None:
        return self._s.settings.twilio_phone_number

    def _write_to_us(self) -> str:
        return self._w["write_to_us"].format(email=self._s.settings.mail_address)


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml", charset="utf-8")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _step_number(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 0), 10_000))
    except ValueError:
        return 0
