"""The append-only audit log: who did what to which record, never what a parent said."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Tx
from storage.held import write
from storage.tables import AuditEntry, utcnow

_INSERT = insert(AuditEntry.__table__)  # built once; the values come with each execution


async def record(
    tx: Tx,
    actor: str,
    action: str,
    subject_type: str | None = None,
    subject_id: str | None = None,
    **detail: str | int | bool | None,
) -> None:
    """Add an entry inside the caller's transaction, so it commits or fails with the change."""
    await write(
        tx,
        _INSERT,
        {
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "detail": detail or None,
        },
    )


async def entries(session: AsyncSession, limit: int = 200) -> list[AuditEntry]:
    result = await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return list(result)


async def search(
    session: AsyncSession,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_type: str | None = None,
    limit: int = 200,
) -> list[tuple[AuditEntry, str | None]]:
    """Entries newest first, with the staff member's name where the actor is one."""
    from storage.tables import Staff

    query = (
        select(AuditEntry, Staff.name)
        .outerjoin(Staff, Staff.id == AuditEntry.actor)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.like(f"{action}%"))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    return [(entry, name) for entry, name in (await session.execute(query)).all()]
