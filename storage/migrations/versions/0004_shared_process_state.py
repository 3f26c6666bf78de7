"""state several gateway processes must agree on: webhook replays, the automatic-reply limit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_replays",
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("call_hash", sa.String(length=64), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_hash", name="pk_webhook_replays"),
    )
    op.create_index("ix_webhook_replays_call_hash", "webhook_replays", ["call_hash"])
    op.create_index("ix_webhook_replays_expires_at", "webhook_replays", ["expires_at"])
    op.create_table(
        "auto_reply_rate_limit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auto_reply_rate_limit"),
    )
    op.create_index(
        "ix_auto_reply_rate_limit_contact_hash", "auto_reply_rate_limit", ["contact_hash"]
    )
    op.create_index("ix_auto_reply_rate_limit_sent_at", "auto_reply_rate_limit", ["sent_at"])


def downgrade() -> None:
    op.drop_table("auto_reply_rate_limit")
    op.drop_table("webhook_replays")
