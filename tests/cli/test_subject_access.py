"""Subject access as a DPO checks it: only a named admin or the lead may run it, every run is
in the audit log under their name, and what is tied to a safeguarding concern is listed as
withheld, without its words, until the safeguarding lead releases it."""

from __future__ import annotations

import json
from pathlib import Path

from intake.core.types import Inbound, Turn
from intake.settings import Settings
from storage import audit
from storage.database import Database
from storage.staff import StaffStore
from storage.values import Channel, Contact
from tests.cli.helpers import intake, sar
from tests.conftest import make_gateway

CALLER = Contact.phone("07911 246810")
DISCLOSURE = "Zephrine is scared because her dad hits my son at night"  # KeywordRisk flags it
ADVICE = "and we also need help with Zephrine's annual review"
LEAD_PASSWORD = "the safeguarding lead's long password"


async def _open(data: Path) -> Database:
    settings = Settings.from_env({"INTAKE_DATA_DIR": str(data)})
    settings.prepare_data_dir()
    return await Database.open(settings.database_url, settings.keyring())


async def _consented_call_with_a_concern(data: Path) -> None:
    db = await _open(data)
    try:
        gateway = make_gateway(db)
        for turn, extra in (
            (Turn.START, {}),
            (Turn.ANSWER, {"digits": "1"}),
            (Turn.MESSAGE, {"text": DISCLOSURE}),
            (Turn.MESSAGE, {"text": ADVICE}),
        ):
            await gateway.handle(Inbound(Channel.VOICE, "CAsar", turn, contact=CALLER, **extra))
        staff = StaffStore(db)
        await staff.add("lead@council.example", "Lee Lead", "safeguarding_lead", LEAD_PASSWORD)
        await staff.add("ann@council.example", "Ann Adviser", "adviser", LEAD_PASSWORD)
    finally:
        await db.close()


async def _audit(data: Path) -> list:
    db = await _open(data)
    try:
        async with db.sessions() as session:
            return await audit.entries(session)
    finally:
        await db.close()


def test_a_shell_alone_gets_nothing(tmp_path: Path):
    data = tmp_path / "var"
    anonymous = intake("sar", "--phone", CALLER.value, data_dir=data)
    assert anonymous.returncode == 2 and "--staff" in anonymous.stderr
    assert anonymous.stdout == ""
    sar(data, "--phone", CALLER.value)  # the DPO exists now
    wrong = intake(
        "sar",
        "--phone",
        CALLER.value,
        "--staff",
        "dpo@council.example",
        "--password-stdin",
        data_dir=data,
        stdin="not the password\n",
    )
    assert wrong.returncode == 1 and "sign-in failed" in wrong.stderr and wrong.stdout == ""


async def test_concern_items_are_withheld_until_the_lead_releases_them(tmp_path: Path):
    data = tmp_path / "var"
    await _consented_call_with_a_concern(data)

    first = sar(data, "--phone", CALLER.value)
    assert first.returncode == 0, first.stderr
    assert "Zephrine" not in first.stdout and "hits" not in first.stdout
    result = json.loads(first.stdout)
    [conversation] = result["conversations"]
    assert conversation["contact"]["value"] == CALLER.value and conversation["messages"] == []
    kinds = [w["item"] for w in result["withheld"]]
    assert kinds.count("safeguarding_concern") == 1 and kinds.count("message") == 2
    assert all("safeguarding exemption" in w["reason"] for w in result["withheld"])
    assert result["safeguarding_concerns"] == []
    ref = next(w["ref"] for w in result["withheld"] if w["item"] == "safeguarding_concern")

    adviser = intake(
        "concerns",
        "release",
        ref,
        "--staff",
        "ann@council.example",
        "--password-stdin",
        data_dir=data,
        stdin=LEAD_PASSWORD + "\n",
    )
    assert adviser.returncode == 1 and "only the safeguarding role" in adviser.stderr
    released = intake(
        "concerns",
        "release",
        ref,
        "--staff",
        "lead@council.example",
        "--password-stdin",
        data_dir=data,
        stdin=LEAD_PASSWORD + "\n",
    )
    assert released.returncode == 0, released.stderr
    assert "released for subject access by Lee Lead" in released.stdout

    after = json.loads(sar(data, "--phone", CALLER.value).stdout)
    assert [m["text"] for m in after["conversations"][0]["messages"]] == [DISCLOSURE, ADVICE]
    [concern] = after["safeguarding_concerns"]
    assert concern["ref"] == ref and "hits my son" in concern["evidence"]
    assert after["withheld"] == []

    entries = await _audit(data)
    runs = [e for e in entries if e.action == "subject_access"]
    assert len(runs) == 2
    db = await _open(data)
    try:
        dpo = next(s for s in await StaffStore(db).list() if s.email == "dpo@council.example")
        lead = next(s for s in await StaffStore(db).list() if s.role == "safeguarding_lead")
    finally:
        await db.close()
    assert {e.actor for e in runs} == {dpo.id}
    assert [e.detail["withheld"] for e in reversed(runs)] == [3, 0]
    assert any(e.action == "concern.release_for_access" and e.actor == lead.id for e in entries)


async def test_an_adviser_may_not_run_subject_access(tmp_path: Path):
    data = tmp_path / "var"
    await _consented_call_with_a_concern(data)
    done = intake(
        "sar",
        "--phone",
        CALLER.value,
        "--staff",
        "ann@council.example",
        "--password-stdin",
        data_dir=data,
        stdin=LEAD_PASSWORD + "\n",
    )
    assert done.returncode == 1 and "admin or the safeguarding lead" in done.stderr
    assert done.stdout == ""
