"""The look-up and signing keys, kept in the database sealed under the secret key, and each
process's heartbeat naming the key it seals under.

Why: the blind index (thread and contact hashes) cannot be recomputed, since thread references
are never stored; and consent links already emailed must keep working. So these keys are
derived once from the first secret key and then kept, sealed like any field, so a rotation of
the secret key re-seals them instead of changing them. Heartbeats let `intake rotate-key` refuse
to retire a key while a running process still writes with it.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import delete, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import FieldCipher, Keyring, SecretKeyError
from storage.tables import KeyMaterial, ProcessHeartbeat
from storage.values import utcnow

INDEX_KEYS = "index"
COLUMN = "key_material.secret"
ALIVE = timedelta(seconds=90)  # a heartbeat older than this is a process that has stopped


async def settle(engine: AsyncEngine, keyring: Keyring) -> Keyring:
    """The keyring with the database's own look-up and signing keys, storing them (sealed under
    the current key) the first time. A database sealed under a key this process does not hold
    is refused with a message that says what to do."""
    async with engine.begin() as conn:
        if not await conn.run_sync(lambda c: inspect(c).has_table(KeyMaterial.__tablename__)):
            return keyring  # opened without migrations: nothing kept yet
        cipher = FieldCipher(keyring)
        sealed = await conn.scalar(
            select(KeyMaterial.secret_enc).where(KeyMaterial.name == INDEX_KEYS)
        )
        if sealed is None:
            secret = (keyring.lookup_key + keyring.signing_key).hex()
            insert = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert
            await conn.execute(  # two processes starting together: the first one's keys win
                insert(KeyMaterial.__table__).on_conflict_do_nothing(index_elements=["name"]),
                {
                    "name": INDEX_KEYS,
                    "secret_enc": cipher.seal(secret, COLUMN, INDEX_KEYS),
                    "created_at": utcnow(),
                },
            )
            sealed = await conn.scalar(
                select(KeyMaterial.secret_enc).where(KeyMaterial.name == INDEX_KEYS)
            )
    try:
        raw = bytes.fromhex(cipher.open(sealed, COLUMN, INDEX_KEYS))
    except InvalidTag:
        raise SecretKeyError(
            "this database was sealed under a different secret key: start with the key it was "
            "sealed under, or, while rotating, give the old key in INTAKE_OLD_SECRET_KEY"
        ) from None
    return keyring.with_index_keys(raw[:32], raw[32:])


def process_name() -> str:
    """Host, process id and a random part: one name per running gateway, even two in one
    Python process (as the tests run them)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:128]


async def beat(engine: AsyncEngine, name: str, key_id: str, started_at: datetime) -> None:
    """Say this process is alive and which key it seals under."""
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(delete(ProcessHeartbeat).where(ProcessHeartbeat.process == name))
        await conn.execute(
            ProcessHeartbeat.__table__.insert(),
            {"process": name, "key_id": key_id, "started_at": started_at, "seen_at": now},
        )


async def stop_beating(engine: AsyncEngine, name: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(ProcessHeartbeat).where(ProcessHeartbeat.process == name))


async def live_processes(engine: AsyncEngine) -> list[ProcessHeartbeat]:
    """Processes that have said they are alive in the last 90 seconds."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(ProcessHeartbeat).where(ProcessHeartbeat.seen_at > utcnow() - ALIVE)
        )
        return [ProcessHeartbeat(**r._mapping) for r in rows]
