"""A whole declined conversation, by phone and by email, leaves no trace of the parent: not in
any file under the data directory (database, WAL, logs) and not in any log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from intake.core.types import Inbound, Turn
from intake.logs import configure_logging
from storage.crypto import Keyring
from storage.database import Database
from storage.records import Records
from storage.values import Channel, Contact
from tests.conftest import DPO, TEST_SECRET, files_containing, make_gateway

PHONE_RAW = "07911 555 017"
PHONE = "+447911555017"
ADDRESS = "zebedee.quartermaine@example.org"
WORDS = "Quillonfrey cannot get a place at Brambleworth school"


@pytest.fixture
def logs_to_data_dir(tmp_path: Path):
    configure_logging(tmp_path / "data", "DEBUG")
    yield tmp_path / "data" / "logs" / "intake.log"
    for handler in list(logging.getLogger().handlers):
        handler.close()
        logging.getLogger().removeHandler(handler)


async def test_declined_call_and_email_leave_nothing(
    tmp_path: Path, logs_to_data_dir: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    data_dir = tmp_path / "data"
    db = await Database.open(
        f"sqlite+aiosqlite:///{data_dir / 'intake.db'}", Keyring.from_secret(TEST_SECRET)
    )
    gateway = make_gateway(db)
    caller = Contact.phone(PHONE_RAW)
    for inbound in (
        Inbound(Channel.VOICE, "CAdecline", Turn.START, contact=caller),
        Inbound(Channel.VOICE, "CAdecline", Turn.ANSWER, text=f"no thanks {WORDS}", contact=caller),
        Inbound(Channel.VOICE, "CAdecline", Turn.MESSAGE, text=WORDS, contact=caller),
        Inbound(Channel.VOICE, "CAdecline", Turn.HANGUP, contact=caller),
    ):
        await gateway.handle(inbound)

    parent = Contact.email(ADDRESS, name="Zebedee Quartermaine")
    await gateway.handle(
        Inbound(Channel.EMAIL, "thr-decline", Turn.MESSAGE, text=WORDS, contact=parent)
    )
    await gateway.handle(
        Inbound(
            Channel.EMAIL,
            "thr-decline",
            Turn.ANSWER,
            text="NO",
            contact=parent,
        )
    )
    await gateway.handle(Inbound(Channel.EMAIL, "thr-decline", Turn.HANGUP, contact=parent))

    records = Records(db)
    assert (await records.access.export(caller, *DPO))["conversations"] == []
    assert (await records.access.export(parent, *DPO))["pending_hold"] == []
    await db.close()

    needles = [
        s.encode()
        for s in (
            PHONE,
            PHONE_RAW,
            "7911555017",
            ADDRESS,
            "Quillonfrey",
            "Brambleworth",
            "Quartermaine",
        )
    ]
    assert logs_to_data_dir.exists() and logs_to_data_dir.stat().st_size > 0
    assert files_containing(data_dir, needles) == []
    assert "Quillonfrey" not in caplog.text and PHONE not in caplog.text
    assert ADDRESS not in caplog.text
    # The declines were counted, anonymously.
    db = await Database.open(
        f"sqlite+aiosqlite:///{data_dir / 'intake.db'}", Keyring.from_secret(TEST_SECRET)
    )
    try:
        outcomes = {(c, o): n for _, c, o, n in await Records(db).tallies.all()}
    finally:
        await db.close()
    assert outcomes == {("voice", "declined"): 1, ("email", "declined"): 1}
