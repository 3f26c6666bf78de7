"""The email channel's flow: one parsed message in, handed to the core as a turn.

Its one job is DESIGN.md's "One email", steps 2 to 6, as translation; the core decides. The
chain for each message:
  1. parse (off the event loop when large);
  2. a message from a machine (auto-reply, bounce, list) or with no usable address is a
     thread that ends as soon as it arrives: the core assesses it for risk, nothing is held, no
     reply is sent;
  3. a reply continues a thread only through our reference (In-Reply-To, References,
     "[Ref: ...]" in the subject) and only if it comes from the address the thread belongs to
     (the core looks it up by keyed hash);
  4. the core reads a written answer at the top of a reply on a thread still waiting for one,
     holds anything else, and queues the replies it decides on (the consent request, once per
     thread and rate-limited per address; the acknowledgement; "nothing was kept") in the
     same transaction as the turn.
Nothing is reported as accepted until it is durably held: any failure propagates, and the SMTP
handler answers 451 so the sender retries. A retried first message lands on the same thread
(its token is derived from its sender and Message-ID) and is not held or asked about twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from intake.core.answers import Answer
from intake.core.gateway import Gateway
from intake.core.states import State
from intake.core.types import Inbound, Reading, Reply, Turn
from intake.logs import log_event
from intake.mail.parsing import ParsedMail, parse_message
from intake.mail.replies import MailReplies
from intake.mail.threads import candidate_tokens, token_for_message
from intake.metrics import Metrics
from nlp.quoting import adds_nothing
from storage.crypto import FieldCipher, Keyring
from storage.values import Channel, Contact

log = logging.getLogger("intake.mail")

EMAIL = Channel.EMAIL
PARSE_IN_THREAD = 64 * 1024  # bytes: larger messages are parsed off the event loop


@dataclass(frozen=True)
class Received:
    """What happened to one message (for tests and the SMTP status line; never logged raw)."""

    outcome: str  # held | answered_yes | answered_no | kept | automated | duplicate | stale_answer
    thread: str | None = None
    concern_id: str | None = None


class MailService:
    def __init__(
        self,
        gateway: Gateway,
        replies: MailReplies,
        keyring: Keyring,
        *,
        extra_addresses: tuple[str, ...] = (),
        metrics: Metrics | None = None,
        authserv_id: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.authserv_id = authserv_id
        self.replies = replies
        self.wording = replies.wording
        self.keyring = keyring
        self.address = replies.address
        self.domain = replies.domain
        self.accepted = frozenset({self.address, *(a.strip().lower() for a in extra_addresses)})
        self.metrics = metrics or Metrics()
        self._hashes = FieldCipher(keyring)
        gateway.add_composer(EMAIL, replies)

    def accepts(self, recipient: str) -> bool:
        return recipient.strip().strip("<>").lower() in self.accepted

    # -- inbound ---------------------------------------------------------------------------------
    async def receive(self, raw: bytes, envelope_sender: str | None = None) -> Received:
        """Apply the flow to one message. Raises if it could not be durably handled."""
        if len(raw) > PARSE_IN_THREAD:
            parsed = await asyncio.to_thread(parse_message, raw, envelope_sender, self.authserv_id)
        else:
            parsed = parse_message(raw, envelope_sender, self.authserv_id)
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
            outcome = "automated" if parsed.automated else "unanswerable"
            concern_id = await self.gateway.assess_only(
                self._inbound(parsed, token_for_message(self.keyring, "automated", None), None),
                outcome,
            )
            return Received("automated", None, concern_id)
        tokens = candidate_tokens(parsed.subject, parsed.references, self.domain)
        token = await self.gateway.find_thread(EMAIL, tokens, sender)
        if token is not None:
            if adds_nothing(parsed.text) and not parsed.attachments:
                # Only a signature, or our email quoted back: nothing of the parent's to hold
                # (our words must never be kept as theirs), though a bare forward is assessed.
                raised = await self.gateway.screen(self._inbound(parsed, token, sender))
                reply = await self.gateway.handle(self._inbound(parsed, token, sender, said=False))
                concern_id = raised.id if raised else reply.concern_id
                return Received(_outcome(reply, continued=True), token, concern_id)
            reply = await self.gateway.handle(self._inbound(parsed, token, sender))
            return Received(_outcome(reply, continued=True), token, reply.concern_id)
        token = token_for_message(self.keyring, sender.value, parsed.message_id)
        reply = await self.gateway.handle(
            self._inbound(parsed, token, sender, in_reply=bool(tokens))
        )
        if reply.stale:
            return Received("stale_answer", None, reply.concern_id)
        return Received(_outcome(reply, continued=False), token, reply.concern_id)

    def _inbound(
        self,
        parsed: ParsedMail,
        token: str,
        sender: Contact | None,
        *,
        in_reply: bool = False,
        said: bool = True,
    ) -> Inbound:
        return Inbound(
            EMAIL,
            token,
            Turn.MESSAGE,
            text=parsed.readable() if said else None,
            answer_text=parsed.new_text,
            contact=sender,
            reading=Reading.WRITTEN,
            turn_id=parsed.message_id,  # a redelivered message is kept once
            notes={"reply_to": parsed.message_id or "", "subject": parsed.subject or ""},
            in_reply=in_reply,
            unverified_sender=parsed.unverified,
        )

    # -- the consent link ----------------------------------------------------------------------
    async def link_state(self, token: str) -> str:
        """ "asking", "consented" or "gone" (declined, expired or unknown)."""
        state = await self.gateway.thread_state(EMAIL, token)
        return {State.CONSENTED: "consented", State.ASKING_CONSENT: "asking"}.get(state, "gone")

    async def answer_by_link(self, token: str, yes: bool) -> str:
        """Record a choice made on the consent page (POST only); returns the thread's state."""
        choice = Answer.YES if yes else Answer.NO
        reply = await self.gateway.handle(Inbound(EMAIL, token, Turn.ANSWER, choice=choice))
        log_event(log, "consent_by_link", channel="email", outcome=choice.value)
        if reply.withdrawn:
            return "withdrawn"
        if reply.state is State.CONSENTED:
            return "consented"
        return "declined" if reply.answer is Answer.NO else "gone"

    def _thread_id(self, token: str | None) -> str | None:
        """An opaque id for the log: the thread's keyed hash, shortened."""
        if token is None:
            return None
        return self._hashes.lookup_hash("thread", f"{EMAIL}:{token}")[:12]


def _outcome(reply: Reply, *, continued: bool) -> str:
    if reply.withdrawn:
        return "withdrawn"
    if reply.answer is Answer.YES:
        return "answered_yes"
    if reply.answer is Answer.NO:
        return "answered_no"
    if reply.repeated or (not continued and reply.state is State.CONSENTED):
        return "duplicate"
    if reply.state is State.CONSENTED:
        return "kept"
    return "held" if reply.state is State.ASKING_CONSENT else "ignored"
