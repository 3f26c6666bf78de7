"""Re-encrypt every sealed field under the current key, in batches, while the service runs.

Why its own module: a rotation must reach every ciphertext in the database (a value left under
the old key becomes unreadable when that key is retired), so the list of sealed columns lives
here, and a test fails when a table gains a sealed column this list does not name. Each batch
is its own short transaction, and a value is replaced only if it is still the one that was read
(a process that rewrote it meanwhile has already sealed it under the current key), so a rotation
can be stopped and started again at any point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from sqlalchemy import Table, select, update

from storage import callbacks, concerns, conversations, key_material, outbox, pending, replays
from storage.casework_tables import SEALED_COLUMNS, label
from storage.database import Database
from storage.staff import TOTP_SECRET
from storage.tables import (
    CallbackRequest,
    Concern,
    ConsentRecord,
    Conversation,
    KeyMaterial,
    Message,
    OutboxItem,
    PendingItem,
    Staff,
    WebhookReplay,
)


@dataclass(frozen=True)
class Sealed:
    """One table's sealed columns: column name -> the label its values are bound to."""

    table: Table
    key: str
    columns: dict[str, str]


SEALED = (
    Sealed(KeyMaterial.__table__, "name", {"secret_enc": key_material.COLUMN}),
    Sealed(
        Conversation.__table__,
        "id",
        {
            "contact_enc": conversations.CONTACT,
            "name_enc": conversations.NAME,
            "details_enc": conversations.DETAILS,
        },
    ),
    Sealed(Message.__table__, "id", {"body_enc": conversations.BODY}),
    Sealed(ConsentRecord.__table__, "id", {"answer_enc": conversations.ANSWER}),
    Sealed(
        CallbackRequest.__table__,
        "id",
        {"phone_enc": callbacks.PHONE, "answer_enc": callbacks.ANSWER},
    ),
    Sealed(PendingItem.__table__, "id", {"payload_enc": pending.PAYLOAD}),
    Sealed(
        Concern.__table__,
        "id",
        {
            "evidence_enc": concerns.EVIDENCE,
            "contact_enc": concerns.CONTACT,
            "decision_enc": concerns.DECISION,
        },
    ),
    Sealed(
        OutboxItem.__table__,
        "id",
        {"recipient_enc": outbox.RECIPIENT, "payload_enc": outbox.PAYLOAD},
    ),
    Sealed(WebhookReplay.__table__, "request_hash", {"body_enc": replays.BODY}),
    Sealed(Staff.__table__, "id", {"totp_secret_enc": TOTP_SECRET}),
    *(
        Sealed(table, key, {c: f"{table.name}.{label(c)}" for c in columns})
        for table, (key, columns) in SEALED_COLUMNS.items()
    ),
)


@dataclass
class Progress:
    """What one pass did, by table; `unreadable` values are ones no key we hold opens."""

    resealed: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


class KeyRotation:
    def __init__(self, db: Database, batch: int = 200) -> None:
        self._db = db
        self._cipher = db.cipher
        self._batch = batch

    async def reseal_all(self, report: Callable[[str, int], None] | None = None) -> Progress:
        """One pass over every sealed column; `report(table, count)` after each batch."""
        progress = Progress()
        for spec in SEALED:
            after: str | None = None
            while True:
                done, unreadable, after = await self._batch_of(spec, after)
                name = spec.table.name
                progress.resealed[name] = progress.resealed.get(name, 0) + done
                if unreadable:
                    progress.unreadable[name] = progress.unreadable.get(name, 0) + unreadable
                if report and done:
                    report(name, done)
                if after is None:
                    break
        return progress

    async def _batch_of(self, spec: Sealed, after: str | None) -> tuple[int, int, str | None]:
        key = spec.table.c[spec.key]
        wanted = [key, *(spec.table.c[c] for c in spec.columns)]
        query = select(*wanted).order_by(key).limit(self._batch)
        if after is not None:
            query = query.where(key > after)
        done = unreadable = 0
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).all()
            for row in rows:
                row_id = row[0]
                for column, label in spec.columns.items():
                    sealed = getattr(row, column)
                    if sealed is None or self._cipher.is_current(sealed):
                        continue
                    try:
                        plain = self._cipher.open(sealed, label, row_id)
                    except InvalidTag:
                        unreadable += 1
                        continue
                    changed = await session.execute(
                        update(spec.table)
                        .where(key == row_id, spec.table.c[column] == sealed)
                        .values({column: self._cipher.seal(plain, label, row_id)})
                    )
                    done += changed.rowcount
        last = rows[-1][0] if len(rows) == self._batch else None
        return done, unreadable, last

    async def remaining(self) -> dict[str, int]:
        """Values not yet under the current key, by table (zero tables left out)."""
        left: dict[str, int] = {}
        for spec in SEALED:
            columns = [spec.table.c[c] for c in spec.columns]
            async with self._db.sessions() as session:
                result = await session.stream(select(*columns).execution_options(yield_per=500))
                async for row in result:
                    stale = sum(1 for v in row if v is not None and not self._cipher.is_current(v))
                    if stale:
                        left[spec.table.name] = left.get(spec.table.name, 0) + stale
        return left
