"""the staff console: sessions, lockout and second factor; casework on conversations; staff
notes and replies; concern decisions and where the evidence's phrases are

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("totp_confirmed_at", UTCDateTime(), nullable=True))
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("second_factor_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name="fk_staff_sessions_staff_id_staff",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("details_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column(
                "claimed_by",
                sa.String(length=32),
                sa.ForeignKey("staff.id", name="fk_conversations_claimed_by_staff"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_inbound_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("case_closed_at", UTCDateTime(), nullable=True))
    op.create_index("ix_conversations_last_inbound_at", "conversations", ["last_inbound_at"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("outbox_id", sa.String(length=32), nullable=True))
    op.create_table(
        "rota_shifts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rota_shifts"),
    )
    op.create_index("ix_rota_shifts_starts_at", "rota_shifts", ["starts_at"])
    op.create_index("ix_rota_shifts_ends_at", "rota_shifts", ["ends_at"])
    with op.batch_alter_table("concerns") as batch:
        batch.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("decision_kind", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("evidence_marks", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("evidence_marks")
        batch.drop_column("decision_kind")
        batch.drop_column("decided_at")
    op.drop_table("rota_shifts")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("outbox_id")
    op.drop_index("ix_conversations_last_inbound_at", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("case_closed_at")
        batch.drop_column("last_inbound_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
        batch.drop_column("details_enc")
    op.drop_index("ix_staff_sessions_staff_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret_enc")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
