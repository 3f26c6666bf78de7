"""Value types that cross the storage boundary, and contact normalisation.

Why: a phone number or email address is only ever stored or looked up in one canonical form
(E.164, lower-cased address), so subject access finds everything and nothing is stored twice.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import phonenumbers

DEFAULT_REGION = "GB"
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def utcnow() -> datetime:
    """Timezone-aware now: every time the service stores or compares is UTC."""
    return datetime.now(UTC)


class InvalidContact(ValueError):
    """A phone number or address that cannot be normalised."""


class Channel(enum.StrEnum):
    VOICE = "voice"
    EMAIL = "email"
    SMS = "sms"
    WEB = "web"


class ConsentMethod(enum.StrEnum):
    KEYPAD = "keypad"
    SPEECH = "speech"
    EMAIL_REPLY = "email_reply"
    WEB_PAGE = "web_page"
    REFERRAL = "referral"  # the referrer passed on the parent's permission (who, and how)


CONCERN_REF_LENGTH = 8


def concern_reference(concern_id: str) -> str:
    """The short reference a lead reads and types back (in alerts, the console and subject
    access listings): the concern id's first characters."""
    return concern_id[:CONCERN_REF_LENGTH].upper()


class Role(enum.StrEnum):
    ADVISER = "adviser"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    ADMIN = "admin"
    MAINTAINER = "maintainer"


def readable_phone(e164: str) -> str:
    """A number as people write it in the UK: "+441632960001" as "01632 960001"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return E.164 or raise InvalidContact."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(f"not a phone number: {exc}") from None
    # "Possible" (right length and shape for its country) rather than "valid" (an allocated
    # range): numbers reserved for drama and testing must still work, and a caller id that
    # Twilio hands us is never refused for being in a new range.
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidContact("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    value = raw.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidContact("not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


@dataclass(frozen=True)
class Contact:
    """How to reach a parent: one canonical handle, optionally a name they gave."""

    kind: str  # "phone" | "email"
    value: str
    name: str | None = None

    @classmethod
    def phone(cls, raw: str, name: str | None = None) -> Contact:
        return cls("phone", normalise_phone(raw), name)

    @classmethod
    def email(cls, raw: str, name: str | None = None) -> Contact:
        return cls("email", normalise_email(raw), name)

    @classmethod
    def parse(cls, kind: str, raw: str) -> Contact:
        if kind == "phone":
            return cls.phone(raw)
        if kind == "email":
            return cls.email(raw)
        raise InvalidContact(f"unknown contact kind {kind!r}")


@dataclass(frozen=True)
class ConsentGiven:
    """Proof that a parent said yes: the only key that opens a conversation.

    Built by the core's consent gate when the answer is yes; the Records repository will not open
    a conversation without one.
    """

    channel: Channel
    method: ConsentMethod
    wording_version: str
    wording_text: str
    given_at: datetime
    thread_ref: str
    answer_words: str | None = None  # what the parent said or pressed: "yeah go on then"

    def __post_init__(self) -> None:
        if not self.wording_version or not self.wording_text:
            raise ValueError("a consent record must name the wording shown")
        if self.given_at.tzinfo is None:
            raise ValueError("consent time must be timezone-aware")


@dataclass(frozen=True)
class HeldItem:
    """Pre-consent state of a thread: encrypted at rest, purged on no or expiry."""

    id: str
    channel: Channel
    thread_ref: str
    state: str
    contact: Contact | None
    texts: tuple[str, ...]
    data: dict = field(default_factory=dict)
    created_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ConcernInput:
    """The minimum kept when a child may be at risk: the policy's one exception."""

    channel: Channel
    severity: str
    categories: tuple[str, ...]
    evidence: str
    thread_ref: str
    contact: Contact | None
    conversation_id: str | None = None
    rules: tuple[str, ...] = ()
    alert_by: tuple[str, ...] = ("sms", "email")  # the channels of the first alert, in order
    model_version: str | None = None
    evidence_marks: tuple[tuple, ...] = ()  # (start, end, category, rule) within `evidence`


SLOTS = ("primary", "deputy")  # the on-call rota, in the order people are alerted


@dataclass(frozen=True)
class OnCallEntry:
    slot: str
    name: str
    phone: str
    email: str


def next_on_call(
    rota: Mapping[str, OnCallEntry | None], after: str | None = None, *, wrap: bool = True
) -> OnCallEntry | None:
    """Who is alerted after whom, the one place that says so: the lead on call first, then the
    deputy; past the deputy, the lead again (wrap=True, as unacknowledged alerts escalate) or
    nobody (wrap=False, as a call falls through to the emergency message). Empty slots are
    skipped; None when nobody is left."""
    start = 0 if after is None else SLOTS.index(after) + 1
    order = SLOTS[start:] + (SLOTS[:start] if wrap and after is not None else ())
    return next((rota[slot] for slot in order if rota.get(slot) is not None), None)


@dataclass(frozen=True)
class OutboxMessage:
    """One claimed item, decrypted for the sender."""

    id: str
    kind: str
    recipient: str
    payload: dict
    reference: str | None
    attempts: int
    created_at: datetime
