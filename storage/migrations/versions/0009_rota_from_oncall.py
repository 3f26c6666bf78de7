"""the on-call rota moves to shifts: each oncall row becomes an open-ended shift from when it
was set (the oncall table stays, unused)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PERSON = ("slot", "name", "phone", "email")
oncall = sa.table(
    "oncall", *(sa.column(c, sa.String()) for c in _PERSON), sa.column("updated_at", UTCDateTime())
)
shifts = sa.table(
    "rota_shifts",
    sa.column("id", sa.String()),
    *(sa.column(c, sa.String()) for c in _PERSON),
    sa.column("starts_at", UTCDateTime()),
    sa.column("ends_at", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
)


def upgrade() -> None:
    """Whoever was on call stays on call: a slot that already has shifts is left as it is."""
    bind = op.get_bind()
    planned = set(bind.scalars(sa.select(shifts.c.slot).distinct()))
    for row in bind.execute(sa.select(oncall)).mappings().all():
        if row["slot"] in planned:
            continue
        bind.execute(
            shifts.insert().values(
                id=uuid.uuid4().hex,
                **{c: row[c] for c in _PERSON},
                starts_at=row["updated_at"],
                ends_at=None,
                created_at=row["updated_at"],
            )
        )


def downgrade() -> None:
    """The older code reads oncall: give it whoever is on call now (the shifts stay)."""
    bind = op.get_bind()
    now = sa.literal(datetime.now(UTC), UTCDateTime())
    current = (
        sa.select(shifts)
        .where(
            shifts.c.starts_at <= now,
            sa.or_(shifts.c.ends_at.is_(None), shifts.c.ends_at > now),
        )
        .order_by(shifts.c.starts_at)
    )
    latest = {row["slot"]: row for row in bind.execute(current).mappings().all()}
    bind.execute(oncall.delete())
    for row in latest.values():
        bind.execute(
            oncall.insert().values(**{c: row[c] for c in _PERSON}, updated_at=row["starts_at"])
        )
