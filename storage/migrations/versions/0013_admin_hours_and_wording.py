"""the admin's office hours, day by day, and the wording versions added in the console

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _staff(name: str, table: str) -> sa.Column:
    return sa.Column(
        name,
        sa.String(length=32),
        sa.ForeignKey("staff.id", name=f"fk_{table}_{name}_staff"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "office_hours",
        sa.Column("weekday", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=True),
        sa.Column("closes", sa.String(length=5), nullable=True),
        _staff("updated_by", "office_hours"),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("weekday", name="pk_office_hours"),
    )
    op.create_table(
        "wording_versions",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=False),
        sa.Column("based_on", sa.String(length=40), nullable=False),
        _staff("created_by", "wording_versions"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_wording_versions"),
    )


def downgrade() -> None:
    op.drop_table("wording_versions")
    op.drop_table("office_hours")
