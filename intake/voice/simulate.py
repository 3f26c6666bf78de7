"""`intake simulate call`: a terminal "phone" that plays a call against a running gateway the
way Twilio would: signed form posts, TwiML read back, keys or words from the person at the
keyboard. The same driver is used by the tests and benchmarks as a real protocol peer."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET  # noqa: N817 - parses our own server's TwiML only
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from intake.voice.signature import TwilioSignature

SERVICE_NUMBER = "+441632960000"


@dataclass
class Twiml:
    """What a caller would experience from one TwiML document."""

    status: int
    raw: str
    says: list[str] = field(default_factory=list)
    gather_action: str | None = None
    gather_attrs: dict[str, str] = field(default_factory=dict)
    dial_number: str | None = None
    dial_action: str | None = None
    dial_attrs: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None
    hangup: bool = False

    @classmethod
    def parse(cls, status: int, text: str) -> Twiml:
        doc = cls(status=status, raw=text)
        if status != 200 or not text.strip().startswith("<?xml") and "<Response" not in text:
            return doc
        root = ET.fromstring(text)  # noqa: S314 - our own server's output
        for element in root.iter():
            if element.tag == "Say" and element.text:
                doc.says.append(element.text)
            elif element.tag == "Gather":
                doc.gather_action = element.get("action")
                doc.gather_attrs = dict(element.attrib)
            elif element.tag == "Dial":
                doc.dial_action = element.get("action")
                doc.dial_attrs = dict(element.attrib)
            elif element.tag == "Number":
                doc.dial_number = (element.text or "").strip()
            elif element.tag == "Redirect":
                doc.redirect = (element.text or "").strip()
            elif element.tag == "Hangup":
                doc.hangup = True
        return doc

    @property
    def spoken(self) -> str:
        return " ".join(self.says)


class CallDriver:
    """One phone call, as Twilio would place it against the gateway."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        signature: TwilioSignature,
        caller: str | None = "+447911123456",
        account_sid: str = "AC" + "0" * 32,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._signature = signature
        self.sid = "CA" + uuid.uuid4().hex
        self._caller = caller
        self._account = account_sid

    def form(self, **extra: str) -> dict[str, str]:
        base = {
            "AccountSid": self._account,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": "in-progress",
            "Called": SERVICE_NUMBER,
            "Direction": "inbound",
            "To": SERVICE_NUMBER,
            "From": self._caller if self._caller is not None else "anonymous",
            "Caller": self._caller if self._caller is not None else "anonymous",
        }
        base.update(extra)
        return base

    async def post(self, path_qs: str, form: dict[str, str], signature: str | None = None) -> Twiml:
        path_qs = _path_of(path_qs)
        headers = {"X-Twilio-Signature": signature or self._signature.sign(path_qs, form)}
        async with self._session.post(self._base + path_qs, data=form, headers=headers) as resp:
            return Twiml.parse(resp.status, await resp.text())

    async def start(self) -> Twiml:
        return await self.post("/twilio/voice", self.form(CallStatus="ringing"))

    async def answer(
        self,
        twiml: Twiml,
        *,
        digits: str | None = None,
        speech: str | None = None,
        confidence: float = 0.87,
    ) -> Twiml:
        """Answer the Gather in `twiml` (both None: silence, as actionOnEmptyResult posts);
        `confidence` is the speech recogniser's, as Twilio reports it."""
        if twiml.gather_action is None:
            raise AssertionError(f"nothing was asked: {twiml.raw}")
        extra: dict[str, str] = {}
        if digits is not None:
            extra["Digits"] = digits
        if speech is not None:
            extra.update(SpeechResult=speech, Confidence=f"{confidence:.2f}")
        return await self.post(twiml.gather_action, self.form(**extra))

    async def dial_result(self, twiml: Twiml, status: str) -> Twiml:
        if twiml.dial_action is None:
            raise AssertionError(f"nobody was dialled: {twiml.raw}")
        return await self.post(twiml.dial_action, self.form(DialCallStatus=status))

    async def hang_up(self, status: str = "completed") -> Twiml:
        return await self.post("/twilio/status", self.form(CallStatus=status, CallDuration="42"))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def play_call(
    base_url: str,
    signature: TwilioSignature,
    caller: str | None,
    ask: Callable[[str], str] = input,
    show: Callable[[str], None] = print,
) -> None:
    """Play one call at the terminal until the gateway hangs up or the caller does."""
    async with aiohttp.ClientSession() as session:
        call = CallDriver(session, base_url, signature, caller)
        show(f"Calling {base_url} from {caller or 'a withheld number'}...")
        doc = await call.start()
        try:
            while True:
                if doc.status != 200:
                    show(f"[the gateway answered HTTP {doc.status}: {doc.raw.strip()}]")
                    return
                for sentence in doc.says:
                    show(f"  SERVICE: {sentence}")
                if doc.gather_action:
                    said = await asyncio.to_thread(
                        ask, "  YOU (a key, words, or Enter for silence; 'hang up' to end): "
                    )
                    said = said.strip()
                    if said.lower() in {"hang up", "hangup", "bye", "q"}:
                        return
                    if len(said) == 1 and (said.isdigit() or said in "*#"):
                        doc = await call.answer(doc, digits=said)
                    else:
                        doc = await call.answer(doc, speech=said or None)
                elif doc.dial_number:
                    show(f"  [ringing {doc.dial_number}]")
                    picked = await asyncio.to_thread(ask, "  Did they answer? [y/N] ")
                    status = "completed" if picked.strip().lower().startswith("y") else "no-answer"
                    doc = await call.dial_result(doc, status)
                elif doc.redirect:
                    doc = await call.post(doc.redirect, call.form())
                else:
                    show("  [the call ends]")
                    return
        finally:
            await call.hang_up()
