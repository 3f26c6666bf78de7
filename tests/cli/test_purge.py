"""`intake purge` as an operator runs it: the dry run lists what would go (counts and ids, no
words, no numbers) and changes nothing; the purge itself erases it; bad periods are refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from intake.core.types import Inbound, Turn
from storage.records import Records
from storage.tables import Conversation
from storage.values import Channel, Contact, utcnow
from tests.cli.helpers import intake
from tests.cli.test_commands import open_same_database
from tests.conftest import make_gateway

WORDS = "about his tribunal hearing"
PERIODS = {"INTAKE_RETENTION_DAYS": "730", "INTAKE_CONCERN_RETENTION_DAYS": "2555"}


async def _old_closed_conversation(data: Path) -> str:
    db = await open_same_database(data)
    try:
        gateway, contact = make_gateway(db), Contact.phone("07911 600700")
        for turn, extra in ((Turn.START, {}), (Turn.ANSWER, {"digits": "1"})):
            await gateway.handle(Inbound(Channel.VOICE, "CAold", turn, contact=contact, **extra))
        await gateway.handle(
            Inbound(Channel.VOICE, "CAold", Turn.MESSAGE, text=WORDS, contact=contact)
        )
        conversation = await Records(db).conversations.id_for_thread(Channel.VOICE, "CAold")
        then = utcnow() - timedelta(days=800)
        async with db.transaction() as s:
            await s.execute(
                update(Conversation).values(
                    last_inbound_at=then, created_at=then, case_closed_at=then
                )
            )
    finally:
        await db.close()
    assert conversation is not None
    return conversation


async def test_the_dry_run_lists_ids_and_counts_then_purge_erases(tmp_path: Path):
    data = tmp_path / "var"
    conversation = await _old_closed_conversation(data)

    dry = intake("purge", "--dry-run", data_dir=data, **PERIODS)
    assert dry.returncode == 0, dry.stderr
    assert "closed conversations older than 730 days would be purged: 1" in dry.stdout
    assert conversation in dry.stdout
    assert "decided concerns older than 2555 days would be purged: 0" in dry.stdout
    assert "nothing was changed" in dry.stdout
    assert WORDS not in dry.stdout and "7911" not in dry.stdout
    assert conversation in intake("purge", "--dry-run", data_dir=data, **PERIODS).stdout

    done = intake("purge", data_dir=data, **PERIODS)
    assert done.returncode == 0, done.stderr
    assert "closed conversations older than 730 days purged: 1" in done.stdout
    assert conversation in done.stdout and WORDS not in done.stdout
    again = intake("purge", "--dry-run", data_dir=data, **PERIODS)
    assert "would be purged: 0" in again.stdout and conversation not in again.stdout


async def test_without_a_retention_period_purge_keeps_everything_and_says_so(tmp_path: Path):
    data = tmp_path / "var"
    conversation = await _old_closed_conversation(data)
    done = intake("purge", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert "closed conversations: kept (INTAKE_RETENTION_DAYS is not set)" in done.stdout
    assert "decided concerns: kept (INTAKE_CONCERN_RETENTION_DAYS is not set)" in done.stdout
    dry = intake("purge", "--dry-run", data_dir=data, INTAKE_RETENTION_DAYS="730")
    assert conversation in dry.stdout  # still there


def test_a_concern_period_shorter_than_the_conversations_is_refused(tmp_path: Path):
    done = intake(
        "purge",
        data_dir=tmp_path / "var",
        INTAKE_RETENTION_DAYS="730",
        INTAKE_CONCERN_RETENTION_DAYS="365",
    )
    assert done.returncode == 1
    assert "INTAKE_CONCERN_RETENTION_DAYS (365) must not be shorter" in done.stderr
    bad = intake("purge", data_dir=tmp_path / "var", INTAKE_RETENTION_DAYS="two years")
    assert bad.returncode == 1 and "must be a whole number" in bad.stderr
