"""The schema of the policy's rights in casework: parental responsibility, permissions to ask
other organisations, the information asked for under them, referrals from others and links
between enquiries.

Why apart from storage.tables: these rows belong to a conversation and go with it (every
foreign key cascades), so an erasure or a withdrawal leaves none of them behind; what they say
(an organisation, a purpose, a reason) can identify a family, so it is ciphertext like any
parent's words. Imported by storage.tables, so one metadata holds the whole schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, UTCDateTime

_CONVERSATION = "conversations.id"


def label(column: str) -> str:
    """What a sealed value of `table.column_enc` is bound to: "permissions.organisation"."""
    return column.removesuffix("_enc")


class ResponsibilityRecord(Base):
    """What the parent said about parental responsibility, who recorded it and when (the
    latest row is what holds; earlier ones are the history)."""

    __tablename__ = "responsibility_records"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(_CONVERSATION, ondelete="CASCADE"), index=True
    )
    held: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Permission(Base):
    """The parent's permission for us to ask one organisation about their child."""

    __tablename__ = "permissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(_CONVERSATION, ondelete="CASCADE"), index=True
    )
    organisation_enc: Mapped[bytes] = mapped_column(LargeBinary)
    purpose_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InformationRequest(Base):
    """What an adviser asked of an organisation under a permission, and when."""

    __tablename__ = "information_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(_CONVERSATION, ondelete="CASCADE"), index=True
    )
    permission_id: Mapped[str] = mapped_column(ForeignKey("permissions.id", ondelete="CASCADE"))
    asked_enc: Mapped[bytes] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # when sent through the outbox
    outbox_id: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """Who referred the parent, why, and how the parent gave permission for the referral."""

    __tablename__ = "referrals"
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey(_CONVERSATION, ondelete="CASCADE"), primary_key=True
    )
    referrer_enc: Mapped[bytes] = mapped_column(LargeBinary)
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationLink(Base):
    """Two enquiries about the same child (two parents), joined only for a stated reason,
    and reversible: nothing is ever merged."""

    __tablename__ = "conversation_links"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_id: Mapped[str] = mapped_column(ForeignKey(_CONVERSATION, ondelete="CASCADE"), index=True)
    second_id: Mapped[str] = mapped_column(
        ForeignKey(_CONVERSATION, ondelete="CASCADE"), index=True
    )
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    linked_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unlinked_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Every sealed column here, by table, for key rotation (storage.rotation) and the stores.
SEALED_COLUMNS = {
    Permission.__table__: ("id", ("organisation_enc", "purpose_enc")),
    InformationRequest.__table__: ("id", ("asked_enc", "email_enc")),
    Referral.__table__: ("conversation_id", ("referrer_enc", "reason_enc")),
    ConversationLink.__table__: ("id", ("reason_enc",)),
}
