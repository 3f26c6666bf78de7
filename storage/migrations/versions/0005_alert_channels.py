"""alerts by channel (SMS, phone call, email) with retries; each concern's alert chronology

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=8), nullable=False, server_default="sms")
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("provider_ref", sa.String(length=64), nullable=True))
    with op.batch_alter_table("concerns") as batch:
        batch.add_column(sa.Column("model_version", sa.String(length=40), nullable=True))
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("concern_id", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=True),
        sa.Column("slot", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concerns.id"],
            name="fk_alert_events_concern_id_concerns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_concern_id", "alert_events", ["concern_id"])


def downgrade() -> None:
    op.drop_table("alert_events")
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("model_version")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("provider_ref")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
        batch.drop_column("channel")
