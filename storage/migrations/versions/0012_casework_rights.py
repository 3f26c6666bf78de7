"""the policy's rights in casework: parental responsibility, permissions to ask other
organisations and what was asked, referrals, and links between enquiries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _conversation(name: str, table: str, **kw: object) -> sa.Column:
    return sa.Column(
        name,
        sa.String(length=32),
        sa.ForeignKey(
            "conversations.id", name=f"fk_{table}_{name}_conversations", ondelete="CASCADE"
        ),
        **kw,
    )


def _staff(name: str, table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.String(length=32),
        sa.ForeignKey("staff.id", name=f"fk_{table}_{name}_staff"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "responsibility_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        _conversation("conversation_id", "responsibility_records", nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        _staff("recorded_by", "responsibility_records"),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_responsibility_records"),
    )
    op.create_index(
        "ix_responsibility_records_conversation_id", "responsibility_records", ["conversation_id"]
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.String(length=32), nullable=False),
        _conversation("conversation_id", "permissions", nullable=False),
        sa.Column("organisation_enc", sa.LargeBinary(), nullable=False),
        sa.Column("purpose_enc", sa.LargeBinary(), nullable=True),
        _staff("recorded_by", "permissions"),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        _staff("withdrawn_by", "permissions", nullable=True),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_permissions"),
    )
    op.create_index("ix_permissions_conversation_id", "permissions", ["conversation_id"])
    op.create_table(
        "information_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        _conversation("conversation_id", "information_requests", nullable=False),
        sa.Column(
            "permission_id",
            sa.String(length=32),
            sa.ForeignKey(
                "permissions.id",
                name="fk_information_requests_permission_id_permissions",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("asked_enc", sa.LargeBinary(), nullable=False),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("outbox_id", sa.String(length=32), nullable=True),
        _staff("requested_by", "information_requests"),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_information_requests"),
    )
    op.create_index(
        "ix_information_requests_conversation_id", "information_requests", ["conversation_id"]
    )
    op.create_table(
        "referrals",
        _conversation("conversation_id", "referrals", nullable=False),
        sa.Column("referrer_enc", sa.LargeBinary(), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        _staff("recorded_by", "referrals"),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_referrals"),
    )
    op.create_table(
        "conversation_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        _conversation("first_id", "conversation_links", nullable=False),
        _conversation("second_id", "conversation_links", nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        _staff("linked_by", "conversation_links"),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        _staff("unlinked_by", "conversation_links", nullable=True),
        sa.Column("unlinked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_links"),
    )
    op.create_index("ix_conversation_links_first_id", "conversation_links", ["first_id"])
    op.create_index("ix_conversation_links_second_id", "conversation_links", ["second_id"])


def downgrade() -> None:
    for table in (
        "conversation_links",
        "referrals",
        "information_requests",
        "permissions",
        "responsibility_records",
    ):
        op.drop_table(table)
