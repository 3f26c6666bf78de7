"""The database schema. Sensitive columns are ciphertext (see storage.crypto); *_hash columns are
keyed look-up hashes. Nothing here is plaintext parent data."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.values import utcnow  # noqa: F401 - re-exported: callers import it from here too

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Five wrong passwords lock the account for 15 minutes, in the database (every process).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A second factor (TOTP): the shared secret, sealed; set once the code has been confirmed.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time-step of the last code accepted: a code is good once, in every process.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class StaffSession(Base):
    """A signed-in browser. Kept server-side, so signing out, disabling an account or a password
    reset ends it at once; the cookie holds a random token, this table only its keyed hash."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # keyed hash of the token
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentRecord(Base):
    __tablename__ = "consent_records"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    wording_version: Mapped[str] = mapped_column(String(40))
    wording_text: Mapped[str] = mapped_column(Text)
    answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # the parent's own words
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("consent_records.id", ondelete="RESTRICT"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    # One conversation per thread: a racing duplicate "yes" (a retried webhook reaching
    # another gateway process) fails here instead of opening a second conversation.
    thread_hash: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    contact_kind: Mapped[str | None] = mapped_column(String(8))
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="open")
    parental_responsibility: Mapped[bool | None] = mapped_column(Boolean)
    callback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What an adviser needs to answer: the email's subject, the thread's reference and the
    # Message-ID to reply to (sealed JSON; the parent's words, so never plaintext).
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The casework: who has picked it up, and whether staff have finished with it. A parent's
    # new message reopens it. (`status` is the channel's: a call that has ended is "closed".)
    claimed_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    case_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "turn_key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # "in" from the parent, "out" to them, "note" between staff (never sent)
    direction: Mapped[str] = mapped_column(String(8))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    author_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    # The channel's identity for the turn (a call step, a Message-ID hash): a redelivered turn
    # is not stored twice, whichever process receives it.
    turn_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outbox_id: Mapped[str | None] = mapped_column(String(32))  # an adviser's reply, as queued


class PendingItem(Base):
    """The pending hold: one thread's state before the parent has answered."""

    __tablename__ = "pending_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    thread_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(24))
    contact_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Concern(Base):
    __tablename__ = "concerns"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list] = mapped_column(JSON)
    rules: Mapped[list] = mapped_column(JSON)
    evidence_enc: Mapped[bytes] = mapped_column(LargeBinary)
    thread_hash: Mapped[str] = mapped_column(String(64), index=True)
    contact_kind: Mapped[str | None] = mapped_column(String(8))
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    decision_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_kind: Mapped[str | None] = mapped_column(String(24))  # referred | advice | none
    # Where in the evidence excerpt each risk phrase is: [[start, end, category, rule], ...]
    evidence_marks: Mapped[list | None] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(40))  # the risk model that judged
    # Subject access withholds a concern's items until the safeguarding lead releases them.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    concern_id: Mapped[str] = mapped_column(
        ForeignKey("concerns.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[str] = mapped_column(String(16))  # primary | deputy | console
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms | call | email
    recipient: Mapped[str | None] = mapped_column(String(200))
    # queued | sending | sent | retrying | acknowledged | escalated | cancelled | no_oncall
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set on one alert of each person's set: when it falls due, the next person is alerted.
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_ref: Mapped[str | None] = mapped_column(String(64))  # Twilio's message/call sid


class AlertEvent(Base):
    """One line of a concern's alert chronology: a notification, its delivery result, an
    acknowledgement or an escalation, with its time. No personal data: slots, not people."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concern_id: Mapped[str] = mapped_column(
        ForeignKey("concerns.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(8))
    slot: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(200))


class OutboxItem(Base):
    __tablename__ = "outbox"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | sms | call
    recipient_enc: Mapped[bytes] = mapped_column(LargeBinary)
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # deleted at this time whether sent or not (a reply to a parent who said no)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class OnCall(Base):
    __tablename__ = "oncall"
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)  # primary | deputy
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RotaShift(Base):
    """Who is on call in a slot from one time to another (no end: until further notice), so a
    week can be entered ahead. Who is on call now is one query; overlaps in a slot are refused."""

    __tablename__ = "rota_shifts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[str] = mapped_column(String(16))  # primary | deputy
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only: triggers in the migration refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict | None] = mapped_column(JSON)


class DailyTally(Base):
    """Anonymous counts per channel, day and outcome: the only trace a decline leaves."""

    __tablename__ = "daily_tallies"
    __table_args__ = (UniqueConstraint("day", "channel", "outcome"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(24))
    count: Mapped[int] = mapped_column(Integer, default=0)


class WebhookReplay(Base):
    """A webhook's answer, so Twilio's retry of it (to any process, or after a restart) gets the
    same TwiML and changes nothing twice. The answer can hold what a caller said, so it is
    ciphertext, and it is deleted when the call ends or its short TTL passes."""

    __tablename__ = "webhook_replays"
    request_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_hash: Mapped[str] = mapped_column(String(64), index=True)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # None while being answered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AutoReplyRateLimit(Base):
    """An automatic reply sent to an address (keyed hash) in the last hour: the shared limit."""

    __tablename__ = "auto_reply_rate_limit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_hash: Mapped[str] = mapped_column(String(64), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KeyMaterial(Base):
    """Keys that must outlive a change of the secret key (look-up, signing), sealed under it."""

    __tablename__ = "key_material"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessHeartbeat(Base):
    """Each running process, the key it seals under and when it last said so (for rotate-key)."""

    __tablename__ = "process_heartbeats"
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CallbackRequest(Base):
    """A caller who said no to a record but yes to a call-back: the number, sealed, under its
    own consent, kept only until the call is made. The id is the call's keyed hash: one a call."""

    __tablename__ = "callback_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    wording_version: Mapped[str] = mapped_column(String(40))
    wording_text: Mapped[str] = mapped_column(Text)
    answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    method: Mapped[str] = mapped_column(String(16))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)  # for a subject access
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
