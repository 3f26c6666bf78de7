"""one conversation per thread; messages keyed by the channel's turn

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_thread_hash")
        batch.create_index("ix_conversations_thread_hash", ["thread_hash"], unique=True)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("turn_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            "uq_messages_conversation_id", ["conversation_id", "turn_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_conversation_id", type_="unique")
        batch.drop_column("turn_key")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_thread_hash")
        batch.create_index("ix_conversations_thread_hash", ["thread_hash"], unique=False)
