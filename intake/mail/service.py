"""The email channel's flow: one parsed message in, the core's rules applied, replies queued.

Its one job is DESIGN.md's "One email", steps 2 to 6. The chain for each message:
  1. parse (off the event loop when large);
  2. a message from a machine (auto-reply, bounce, list) or with no usable address is a
     thread that ends as soon as it arrives: the core assesses it for risk, nothing is held, no
     reply is sent;
  3. a reply is matched to its thread only through our reference (In-Reply-To, References,
     "[Ref: ...]" in the subject) and only if it comes from the address the thread belongs to;
  4. on a thread that is waiting for an answer, a clear YES or NO on the first line is the
     answer; anything else is more to hold;
  5. a new thread is handed to the core, which assesses it and holds it; then one consent
     request is queued (never twice, rate-limited per address).
Nothing is reported as accepted until it is durably held: any failure propagates, and the SMTP
handler answers 451 so the sender retries. A retried first message lands on the same thread
(its token is derived from its sender and Message-ID) and is not held or asked about twice.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from intake.core.answers import Answer, interpret
from intake.core.gateway import Gateway
from intake.core.types import Inbound, Turn
from intake.core.wording import Wording
from intake.logs import log_event
from intake.mail import compose
from intake.mail.parsing import ParsedMail, parse_message
from intake.mail.threads import candidate_tokens, sign_link, token_for_message
from intake.metrics import Metrics
from storage.crypto import Keyring
from storage.outbox import Outbox
from storage.records import Records
from storage.values import Channel, ConsentMethod, Contact, HeldItem

log = logging.getLogger("intake.mail")

EMAIL = Channel.EMAIL
PARSE_IN_THREAD = 64 * 1024  # bytes: larger messages are parsed off the event loop
_ANSWER_STARTS = frozenset(
    {"yes", "yeah", "yep", "yup", "ok", "okay", "sure", "fine", "y", "please", "consent"}
    | {"agreed", "no", "nope", "nah", "n"}
)
_GREETING = re.compile(r"^(hi|hello|hey|dear|good (morning|afternoon|evening))\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Received:
    """What happened to one message (for tests and the SMTP status line; never logged raw)."""

    outcome: str  # held | answered_yes | answered_no | kept | automated | duplicate | ignored
    thread: str | None = None
    concern_id: str | None = None


def read_answer(text: str) -> Answer | None:
    """A clear YES or NO at the top of a reply, else None (more words for the hold).

    Stricter than the voice reading on purpose: a parent writing more about their child must
    never be taken as a no. Only the first line that is not a greeting counts, only if it
    starts with an answer word, and only if the core's reading of that line is clear.
    """
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if _GREETING.match(line) and len(line.split()) <= 4:
            continue
        words = _WORD.findall(line.lower())
        if not words or words[0] not in _ANSWER_STARTS or len(words) > 12:
            return None
        if words[0] == "y":
            return Answer.YES if len(words) == 1 else None
        if words[0] == "n":
            return Answer.NO if len(words) == 1 else None
        answer = interpret(None, line)
        return answer if answer in (Answer.YES, Answer.NO) else None
    return None


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip() and not (_GREETING.match(line.strip()) and len(line.split()) <= 4):
            return line.strip()
    return ""


class MailService:
    def __init__(
        self,
        gateway: Gateway,
        records: Records,
        outbox: Outbox,
        wording: Wording,
        keyring: Keyring,
        *,
        address: str,
        public_url: str,
        extra_addresses: tuple[str, ...] = (),
        metrics: Metrics | None = None,
        replies_per_hour: int = 5,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.gateway = gateway
        self.records = records
        self.outbox = outbox
        self.wording = wording
        self.keyring = keyring
        self.address = address.strip().lower()
        self.domain = self.address.rpartition("@")[2] or "localhost"
        self.accepted = frozenset({self.address, *(a.strip().lower() for a in extra_addresses)})
        self.public_url = public_url.rstrip("/")
        self.metrics = metrics or Metrics()
        self.replies_per_hour = replies_per_hour
        self.on_queued = on_queued
        self._recent: dict[str, collections.deque[float]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def accepts(self, recipient: str) -> bool:
        return recipient.strip().strip("<>").lower() in self.accepted

    # -- inbound ---------------------------------------------------------------------------------
    async def receive(self, raw: bytes, envelope_sender: str | None = None) -> Received:
        """Apply the flow to one message. Raises if it could not be durably handled."""
        if len(raw) > PARSE_IN_THREAD:
            parsed = await asyncio.to_thread(parse_message, raw, envelope_sender)
        else:
            parsed = parse_message(raw, envelope_sender)
        result = await self._route(parsed)
        self.metrics.count("intake_mail_received_total", outcome=result.outcome)
        log_event(
            log,
            "mail_received",
            channel="email",
            outcome=result.outcome,
            thread=self._thread_id(result.thread),
            concern_id=result.concern_id,
        )
        return result

    async def _route(self, parsed: ParsedMail) -> Received:
        sender = parsed.sender
        if parsed.automated or sender is None or sender.value in self.accepted:
            return await self._one_off(parsed)
        tokens = candidate_tokens(parsed.subject, parsed.references, self.domain)
        for token in tokens:
            async with self._lock(token):
                found = await self._thread(token, sender)
                if found == "conversation":
                    return await self._continue(token, parsed, sender)
                if isinstance(found, HeldItem):
                    return await self._reply_while_asking(token, found, parsed, sender)
        if tokens and read_answer(parsed.new_text) and len(parsed.new_text.split()) <= 12:
            # A bare yes or no to a thread that is gone (declined, expired, or a retried
            # answer): there is nothing to consent to, and a new thread holding "NO" would ask
            # the parent again. Assessed, nothing kept.
            return await self._one_off(parsed, outcome="stale_answer")
        token = token_for_message(self.keyring, sender.value, parsed.message_id)
        async with self._lock(token):
            found = await self._thread(token, sender)
            if found == "conversation":
                return Received("duplicate", token)
            if isinstance(found, HeldItem):  # the same first message again: make sure we asked
                await self._ask_consent(token, found, parsed, sender)
                return Received("duplicate", token)
            reply = await self.gateway.handle(
                Inbound(EMAIL, token, Turn.MESSAGE, text=parsed.readable(), contact=sender)
            )
            held = await self.records.held(EMAIL, token)
            if held is not None and held.state == "asking_consent":
                await self._ask_consent(token, held, parsed, sender)
                return Received("held", token, reply.concern_id)
            return Received("ignored", token, reply.concern_id)

    async def _one_off(self, parsed: ParsedMail, outcome: str = "automated") -> Received:
        """A machine's message, or one we cannot answer: assessed, then nothing is kept."""
        token = token_for_message(self.keyring, "automated", None)
        concern_id = None
        text = parsed.readable()
        if text.strip():
            concern_id = await self.gateway.screen(
                Inbound(EMAIL, token, Turn.MESSAGE, text=text, contact=parsed.sender)
            )
        if outcome == "automated":
            await self.records.tally(EMAIL, "automated" if parsed.automated else "unanswerable")
        return Received(outcome, None, concern_id)

    async def _thread(self, token: str, sender: Contact) -> str | HeldItem | None:
        """ "conversation", the held item waiting for an answer, or None (unknown, declined,
        or another person's thread: a separate enquiry)."""
        conversation_id, held = await self.records.thread_state(EMAIL, token)
        if conversation_id is not None:
            view = await self.records.conversation(conversation_id)
            return "conversation" if view.contact and view.contact.value == sender.value else None
        if held is None or held.state != "asking_consent" or held.contact is None:
            return None
        return held if held.contact.value == sender.value else None

    async def _continue(self, token: str, parsed: ParsedMail, sender: Contact) -> Received:
        reply = await self.gateway.handle(
            Inbound(
                EMAIL,
                token,
                Turn.MESSAGE,
                text=parsed.readable(),
                contact=sender,
                turn_id=parsed.message_id,  # a redelivered message is kept once
            )
        )
        return Received("kept", token, reply.concern_id)

    async def _reply_while_asking(
        self, token: str, held: HeldItem, parsed: ParsedMail, sender: Contact
    ) -> Received:
        answer = read_answer(parsed.new_text)
        if answer is Answer.YES:
            line = first_line(parsed.new_text)
            concern_id = await self._answer(
                token, sender, Answer.YES, line, ConsentMethod.EMAIL_REPLY
            )
            if parsed.new_text.strip() != line:  # more than the answer: keep it too
                more = await self.gateway.handle(
                    Inbound(
                        EMAIL,
                        token,
                        Turn.MESSAGE,
                        text=parsed.readable(),
                        contact=sender,
                        turn_id=parsed.message_id,  # redelivered later, it is not kept twice
                    )
                )
                concern_id = concern_id or more.concern_id
            await self._queue_acknowledgement(token, held, sender, parsed.message_id)
            return Received("answered_yes", token, concern_id)
        if answer is Answer.NO:
            concern_id = await self._answer(
                token, sender, Answer.NO, parsed.readable(), ConsentMethod.EMAIL_REPLY
            )
            await self._queue_declined(token, held, sender, parsed.message_id)
            return Received("answered_no", token, concern_id)
        reply = await self.gateway.handle(
            Inbound(EMAIL, token, Turn.MESSAGE, text=parsed.readable(), contact=sender)
        )
        return Received("held", token, reply.concern_id)

    async def _answer(
        self, token: str, sender: Contact, answer: Answer, text: str, method: ConsentMethod
    ) -> str | None:
        # The answer has been read already (strictly, above); it is handed over as the
        # unambiguous key press so the core records exactly that, and assesses `text` for risk.
        reply = await self.gateway.handle(
            Inbound(
                EMAIL,
                token,
                Turn.ANSWER,
                text=text,
                digits="1" if answer is Answer.YES else "2",
                contact=sender,
                method=method,
            )
        )
        return reply.concern_id

    # -- the consent link ----------------------------------------------------------------------
    async def link_state(self, token: str) -> str:
        """ "asking", "consented" or "gone" (declined, expired or unknown)."""
        if await self.records.conversation_for_thread(EMAIL, token) is not None:
            return "consented"
        held = await self.records.held(EMAIL, token)
        return "asking" if held is not None and held.state == "asking_consent" else "gone"

    async def answer_by_link(self, token: str, yes: bool) -> str:
        """Record a choice made on the consent page (POST only); returns the thread's state."""
        async with self._lock(token):
            if await self.records.conversation_for_thread(EMAIL, token) is not None:
                return "consented"
            held = await self.records.held(EMAIL, token)
            if held is None or held.state != "asking_consent" or held.contact is None:
                return "gone"
            answer = Answer.YES if yes else Answer.NO
            await self._answer(token, held.contact, answer, answer.value, ConsentMethod.WEB_PAGE)
            if yes:
                await self._queue_acknowledgement(token, held, held.contact, None)
            else:
                await self._queue_declined(token, held, held.contact, None)
        log_event(log, "consent_by_link", channel="email", outcome=answer.value)
        return "consented" if yes else "declined"

    def consent_link(self, token: str, held: HeldItem) -> str:
        assert held.expires_at is not None
        return f"{self.public_url}/consent/{sign_link(self.keyring, token, held.expires_at)}"

    # -- replies ---------------------------------------------------------------------------------
    async def _ask_consent(
        self, token: str, held: HeldItem, parsed: ParsedMail, sender: Contact
    ) -> None:
        """Queue the one consent request for a thread, unless asked already or rate-limited."""
        notes = held.data.get("mail") or {}
        if notes.get("asked"):
            return
        reference = self._reference("consent", token)
        mail_notes = {"subject": parsed.subject, "reply_to": parsed.message_id, "token": token}
        if await self.outbox.has_queued(reference):
            await self.records.annotate_hold(EMAIL, token, {"mail": {**mail_notes, "asked": True}})
            return
        if not self._may_reply(sender):
            self.metrics.count("intake_mail_replies_limited_total")
            await self.records.annotate_hold(EMAIL, token, {"mail": {**mail_notes, "asked": False}})
            return
        payload = compose.consent_request(
            self.wording,
            sender=self.address,
            subject=parsed.subject,
            token=token,
            domain=self.domain,
            link=self.consent_link(token, held),
            in_reply_to=parsed.message_id,
        )

        async def queue(session: AsyncSession) -> None:
            await self.outbox.enqueue(
                "email", sender.value, payload, reference=reference, session=session
            )

        # The request is queued if and only if the hold records that it was (one transaction).
        await self.records.annotate_hold(
            EMAIL, token, {"mail": {**mail_notes, "asked": True}}, within=queue
        )
        self._queued()

    async def _queue_acknowledgement(
        self, token: str, held: HeldItem, sender: Contact, in_reply_to: str | None
    ) -> None:
        await self._queue_reply(compose.acknowledged, token, held, sender, in_reply_to)

    async def _queue_declined(
        self, token: str, held: HeldItem, sender: Contact, in_reply_to: str | None
    ) -> None:
        """The one "nothing was kept" reply; an unsent consent request is dropped."""
        await self.outbox.discard(self._reference("consent", token))
        await self._queue_reply(compose.declined, token, held, sender, in_reply_to)

    async def _queue_reply(
        self,
        make: Callable[..., dict],
        token: str,
        held: HeldItem,
        sender: Contact,
        in_reply_to: str | None,
    ) -> None:
        notes = held.data.get("mail") or {}
        payload = make(
            self.wording,
            sender=self.address,
            subject=notes.get("subject", ""),
            token=token,
            domain=self.domain,
            in_reply_to=in_reply_to or notes.get("reply_to"),
        )
        await self.outbox.enqueue(
            "email", sender.value, payload, reference=self._reference("reply", token)
        )
        self._queued()

    async def before_purge(self, session: AsyncSession, items: list[HeldItem]) -> None:
        """Expired holds: queue the "nothing was kept" reply in the purge's own transaction."""
        for item in items:
            notes = item.data.get("mail") or {}
            token = notes.get("token")
            if item.channel is not EMAIL or item.contact is None or not token:
                continue
            await self.outbox.discard(self._reference("consent", token), session=session)
            if not notes.get("asked"):
                continue  # never asked (rate-limited): nothing to answer
            payload = compose.declined(
                self.wording,
                sender=self.address,
                subject=notes.get("subject", ""),
                token=token,
                domain=self.domain,
                in_reply_to=notes.get("reply_to"),
                expired=True,
            )
            await self.outbox.enqueue(
                "email",
                item.contact.value,
                payload,
                reference=self._reference("reply", token),
                session=session,
            )
            self.metrics.count("intake_mail_expired_total")
        self._queued()

    # -- helpers -------------------------------------------------------------------------------
    def _may_reply(self, sender: Contact) -> bool:
        key = self.records.contact_hash(sender)
        now = time.monotonic()
        recent = self._recent.setdefault(key, collections.deque())
        while recent and recent[0] < now - 3600:
            recent.popleft()
        if len(recent) >= self.replies_per_hour:
            return False
        recent.append(now)
        if len(self._recent) > 10_000:  # forget quiet addresses
            for k in [k for k, v in self._recent.items() if not v or v[-1] < now - 3600]:
                del self._recent[k]
        return True

    def _reference(self, purpose: str, token: str) -> str:
        return self.keyring_hash(f"{purpose}:{token}")

    def keyring_hash(self, value: str) -> str:
        return self.records.thread_hash(f"outbox-{EMAIL}", value)

    def _thread_id(self, token: str | None) -> str | None:
        return None if token is None else self.records.thread_hash(EMAIL, token)[:12]

    def _lock(self, token: str) -> asyncio.Lock:
        lock = self._locks.get(token)
        if lock is None:
            lock = self._locks[token] = asyncio.Lock()
        return lock

    def _queued(self) -> None:
        if self.on_queued is not None:
            self.on_queued()
