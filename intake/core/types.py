"""What channel adapters hand the core (Inbound) and what the core hands back (Reply)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from intake.core.answers import Answer
from intake.core.states import State
from storage.values import Channel, Contact, utcnow


class Turn(enum.StrEnum):
    START = "start"  # a call connects
    MESSAGE = "message"  # something said or written
    ANSWER = "answer"  # an answer to the consent question (keys or words)
    HANGUP = "hangup"  # the call ended / the parent went away


class Reading(enum.StrEnum):
    """How strictly the core reads an answer to the consent question; the channel asks."""

    SPOKEN = "spoken"  # keys or speech, asked a question just now: "no problem" is a yes
    WRITTEN = "written"  # a reply's first line, only a clear yes or no; the rest is the message


@dataclass(frozen=True)
class Inbound:
    """One turn from a parent, in protocol-free terms."""

    channel: Channel
    thread_ref: str  # CallSid, email thread token: the only thing that continues a thread
    turn: Turn
    text: str | None = None
    digits: str | None = None
    contact: Contact | None = None
    choice: Answer | None = None  # a button pressed (the consent page): nothing to read
    reading: Reading = Reading.SPOKEN
    answer_text: str | None = None  # where a written answer is read (a reply without quotes)
    turn_id: str | None = None  # the channel's identity for this turn, so a retry is kept once
    notes: dict[str, str] | None = None  # what the channel needs to reply (a subject, an id)
    confidence: float | None = None  # speech recognition's own confidence in `text`
    in_reply: bool = False  # the parent answered one of our messages (cited our reference)
    # The channel's own checks say the sender is not who they claim (mail failing DMARC):
    # still assessed for risk and held, but never written to automatically (no backscatter).
    unverified_sender: bool = False
    received_at: datetime = field(default_factory=utcnow)


class Action(enum.StrEnum):
    """What the adapter should do next; the words to say are in Reply.say."""

    ASK_CONSENT = "ask_consent"
    ASK_AGAIN = "ask_again"
    ASK_HOW_TO_HELP = "ask_how_to_help"
    HELP_WITHOUT_RECORDS = "help_without_records"
    ROUTE_TO_ADVISER = "route_to_adviser"
    CONNECT_PERSON = "connect_person"
    CONNECT_SAFEGUARDING = "connect_safeguarding"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Raised:
    """A concern the core raised: its id, and its tier (how loud the alert is, and who a
    caller is put through to)."""

    id: str
    severity: str


@dataclass(frozen=True)
class Reply:
    action: Action
    state: State
    say: tuple[str, ...] = ()
    conversation_id: str | None = None
    concern_id: str | None = None
    concern_severity: str | None = None  # immediate | concern | review, with concern_id
    answer: Answer | None = None  # the consent answer read in this turn, if it was one
    callback_question: str | None = None  # what to ask if a call-back is offered; None: none
    repeated: bool = False  # this turn was handled before (a redelivery): nothing new kept
    stale: bool = False  # a bare yes or no to a thread that is gone: nothing to answer, kept
    withdrawn: bool = False  # a no after a yes: the parent's conversation is erased

    @property
    def consented(self) -> bool:
        return self.state is State.CONSENTED

    @property
    def urgent(self) -> bool:
        return self.concern_id is not None


class RiskEvidence(Protocol):
    start: int
    end: int
    text: str
    category: str
    rule: str


class RiskAssessment(Protocol):
    flagged: bool
    severity: str | None
    categories: tuple[str, ...]
    evidence: tuple[RiskEvidence, ...]


class RiskAssessor(Protocol):
    """The risk detector as the core sees it (nlp.risk.RiskDetector satisfies this). One
    that can also assess in another process (nlp.workers) offers `assess_elsewhere`, an
    async method of the same answer, which the core uses for longer texts."""

    def assess(self, text: str) -> RiskAssessment: ...
