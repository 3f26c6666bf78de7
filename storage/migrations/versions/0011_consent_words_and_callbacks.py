"""a consent record keeps the parent's own words; a caller who said no to a record may still
ask for a call-back, their number kept under its own consent until the call is made

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_records") as batch:
        batch.add_column(sa.Column("answer_enc", sa.LargeBinary(), nullable=True))
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("wording_version", sa.String(length=40), nullable=False),
        sa.Column("wording_text", sa.Text(), nullable=False),
        sa.Column("answer_enc", sa.LargeBinary(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_callback_requests"),
    )
    op.create_index("ix_callback_requests_phone_hash", "callback_requests", ["phone_hash"])
    op.create_index("ix_callback_requests_requested_at", "callback_requests", ["requested_at"])


def downgrade() -> None:
    op.drop_index("ix_callback_requests_requested_at", "callback_requests")
    op.drop_index("ix_callback_requests_phone_hash", "callback_requests")
    op.drop_table("callback_requests")
    with op.batch_alter_table("consent_records") as batch:
        batch.drop_column("answer_enc")
