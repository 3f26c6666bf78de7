"""`intake rotate-key` as an operator runs it: with the generated key file and with keys from
the environment; refusing to retire a key a running process still writes with; and the key
file refused beside a PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake.settings import Settings, SettingsError
from storage import key_material
from storage.crypto import Keyring
from storage.database import Database
from storage.records import Records
from storage.tables import ProcessHeartbeat
from storage.values import Channel, ConsentGiven, ConsentMethod, Contact
from tests.cli.helpers import intake, sar

PARENT = Contact.phone("07911 123987")
OLD = "the-old-key-from-the-councils-secret-store-k3Jd9"
NEW = "the-new-key-from-the-councils-secret-store-Xw8pq"


async def _conversation(db: Database) -> str:
    consent = ConsentGiven(
        channel=Channel.VOICE,
        method=ConsentMethod.KEYPAD,
        wording_version="2026-11",
        wording_text="May we keep a record?",
        given_at=datetime.now(UTC),
        thread_ref="CArotate",
    )
    return await Records(db).conversations.open(
        consent, contact=PARENT, texts=["about the EHCP review"]
    )


async def _open(data: Path, **env: str) -> Database:
    settings = Settings.from_env({"INTAKE_DATA_DIR": str(data), **env})
    settings.prepare_data_dir()
    return await Database.open(settings.database_url, settings.keyring())


async def _words(data: Path, conversation_id: str, **env: str) -> list[str]:
    db = await _open(data, **env)
    try:
        return [m.text for m in (await Records(db).conversations.view(conversation_id)).messages]
    finally:
        await db.close()


async def test_generated_key_is_replaced_and_the_old_one_deleted(tmp_path: Path):
    data = tmp_path / "var"
    db = await _open(data)
    try:
        conversation_id = await _conversation(db)
    finally:
        await db.close()
    before = (data / "secret.key").read_text()

    done = intake("rotate-key", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert "A new secret key is in" in done.stdout
    assert "is retired: secret.key.old is deleted" in done.stdout
    assert (data / "secret.key").read_text() != before
    assert not (data / "secret.key.old").exists()
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600
    assert await _words(data, conversation_id) == ["about the EHCP review"]
    found = sar(data, "--phone", PARENT.value)
    assert "about the EHCP review" in found.stdout  # found by its blind index after the change


async def test_a_process_still_on_the_old_key_stops_the_rotation_until_restarted(tmp_path: Path):
    data = tmp_path / "var"
    db = await _open(data, INTAKE_SECRET_KEY=OLD)
    try:
        conversation_id = await _conversation(db)
        await key_material.beat(db.engine, "gw:1", db.cipher.key_id.hex(), datetime.now(UTC))
    finally:
        await db.close()
    keys = {"INTAKE_SECRET_KEY": NEW, "INTAKE_OLD_SECRET_KEY": OLD}

    refused = intake("rotate-key", data_dir=data, **keys)
    assert refused.returncode == 1
    assert "still seal under another key" in refused.stderr and "restart them" in refused.stderr
    assert OLD not in refused.stderr + refused.stdout and NEW not in refused.stderr

    db = await _open(data, **keys)  # the process restarts with both keys: its beat is new
    try:
        async with db.engine.begin() as conn:
            await conn.execute(ProcessHeartbeat.__table__.delete())
        await key_material.beat(db.engine, "gw:1", db.cipher.key_id.hex(), datetime.now(UTC))
    finally:
        await db.close()
    done = intake("rotate-key", "--batch", "1", data_dir=data, **keys)
    assert done.returncode == 0, done.stderr
    assert "remove INTAKE_OLD_SECRET_KEY" in done.stdout
    assert await _words(data, conversation_id, INTAKE_SECRET_KEY=NEW) == ["about the EHCP review"]


async def test_a_stopped_process_does_not_block_the_rotation(tmp_path: Path):
    data = tmp_path / "var"
    db = await _open(data, INTAKE_SECRET_KEY=OLD)
    try:
        await _conversation(db)
        long_ago = datetime.now(UTC) - timedelta(minutes=10)
        await key_material.beat(db.engine, "gw:1", db.cipher.key_id.hex(), long_ago)
        async with db.engine.begin() as conn:
            await conn.execute(ProcessHeartbeat.__table__.update().values(seen_at=long_ago))
    finally:
        await db.close()
    done = intake("rotate-key", data_dir=data, INTAKE_SECRET_KEY=NEW, INTAKE_OLD_SECRET_KEY=OLD)
    assert done.returncode == 0, done.stderr


def test_the_wrong_key_is_one_clear_line(tmp_path: Path):
    data = tmp_path / "var"
    assert intake("migrate", data_dir=data, INTAKE_SECRET_KEY=OLD).returncode == 0
    wrong = intake("migrate", data_dir=data, INTAKE_SECRET_KEY=NEW)
    assert wrong.returncode == 1
    assert "sealed under a different secret key" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_key_file_inside_a_postgresql_data_directory_is_refused(tmp_path: Path, pg_database: str):
    cluster = tmp_path / "postgresql" / "15" / "main"
    cluster.mkdir(parents=True)
    (cluster / "PG_VERSION").write_text("15\n")
    done = intake("migrate", data_dir=cluster / "intake", INTAKE_DATABASE_URL=pg_database)
    assert done.returncode == 1
    assert "inside the PostgreSQL data directory" in done.stderr
    assert "INTAKE_SECRET_KEY" in done.stderr
    assert not (cluster / "intake" / "secret.key").exists()


def test_key_file_where_the_server_keeps_its_files_is_refused(tmp_path: Path):
    settings = Settings.from_env(
        {
            "INTAKE_DATA_DIR": str(tmp_path / "pgdata" / "intake"),
            "INTAKE_DATABASE_URL": "postgresql+asyncpg://db.example/intake",
        }
    )
    with pytest.raises(SettingsError, match="inside the PostgreSQL data directory"):
        settings.refuse_key_beside_database(str(tmp_path / "pgdata"))
    settings.refuse_key_beside_database(str(tmp_path / "elsewhere"))  # apart: allowed
    with_key = Settings.from_env(
        {
            "INTAKE_DATA_DIR": str(tmp_path / "pgdata" / "intake"),
            "INTAKE_DATABASE_URL": "postgresql+asyncpg://db.example/intake",
            "INTAKE_SECRET_KEY": NEW,
        }
    )
    with_key.refuse_key_beside_database(str(tmp_path / "pgdata"))  # no key file at all
    assert Keyring.from_secret(NEW, [OLD]).previous  # both keys open while rotating
