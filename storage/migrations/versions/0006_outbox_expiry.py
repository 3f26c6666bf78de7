"""an outbox item may have a time after which it is deleted, sent or not (a decline's reply)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.create_index("ix_outbox_expires_at", "outbox", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_expires_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("expires_at")
