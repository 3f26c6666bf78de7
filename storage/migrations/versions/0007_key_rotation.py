"""keys that survive a rotation, process heartbeats, and the lead's release of withheld items

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_material",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_key_material"),
    )
    op.create_table(
        "process_heartbeats",
        sa.Column("process", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("process", name="pk_process_heartbeats"),
    )
    op.create_index("ix_process_heartbeats_seen_at", "process_heartbeats", ["seen_at"])
    with op.batch_alter_table("concerns") as batch:
        batch.add_column(sa.Column("released_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "released_by",
                sa.String(length=32),
                sa.ForeignKey("staff.id", name="fk_concerns_released_by_staff"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("released_by")
        batch.drop_column("released_at")
    op.drop_index("ix_process_heartbeats_seen_at", table_name="process_heartbeats")
    op.drop_table("process_heartbeats")
    op.drop_table("key_material")
