"""The `intake` command's administrative verbs, and their refusals of bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

from intake.core.types import Inbound, Turn
from intake.settings import Settings
from storage.database import Database
from storage.records import Records
from storage.staff import StaffStore
from storage.values import Channel, Contact
from tests.cli.helpers import intake, sar
from tests.conftest import make_gateway


async def open_same_database(data_dir: Path) -> Database:
    settings = Settings.from_env({"INTAKE_DATA_DIR": str(data_dir)})
    settings.prepare_data_dir()
    return await Database.open(settings.database_url, settings.keyring())


def test_migrate_is_repeatable(tmp_path: Path):
    data = tmp_path / "var"
    for _ in range(2):
        done = intake("migrate", data_dir=data)
        assert done.returncode == 0, done.stderr
    assert (data / "intake.db").exists()
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600


async def test_staff_add_refuses_duplicates_and_unknown_roles_and_changes_nothing(tmp_path: Path):
    data = tmp_path / "var"
    ok = intake(
        "staff",
        "add",
        "ann@council.example",
        "--role",
        "adviser",
        "--name",
        "Ann",
        "--password-stdin",
        data_dir=data,
        stdin="a long enough password\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "adviser ann@council.example" in ok.stdout

    dup = intake(
        "staff", "add", "ANN@council.example", "--role", "admin", "--name", "Ann 2", data_dir=data
    )
    assert dup.returncode == 1 and "already exists" in dup.stderr
    role = intake(
        "staff", "add", "bob@council.example", "--role", "boss", "--name", "Bob", data_dir=data
    )
    assert role.returncode == 1 and "unknown role 'boss'" in role.stderr
    assert len(role.stderr.strip().splitlines()) == 1

    db = await open_same_database(data)
    try:
        staff = StaffStore(db)
        assert [s.email for s in await staff.list()] == ["ann@council.example"]
        assert await staff.verify("ann@council.example", "a long enough password")
    finally:
        await db.close()


def test_oncall_set_and_show(tmp_path: Path):
    data = tmp_path / "var"
    done = intake(
        "oncall",
        "set",
        "primary",
        "--name",
        "Sam Lead",
        "--phone",
        "07911 000111",
        "--email",
        "sam@council.example",
        data_dir=data,
    )
    assert done.returncode == 0, done.stderr
    bad = intake(
        "oncall",
        "set",
        "deputy",
        "--name",
        "Dee",
        "--phone",
        "call me maybe",
        "--email",
        "dee@council.example",
        data_dir=data,
    )
    assert bad.returncode == 1 and "phone number refused" in bad.stderr
    shown = intake("oncall", "show", data_dir=data)
    assert "primary: Sam Lead +447911000111 sam@council.example" in shown.stdout
    assert "deputy: (nobody)" in shown.stdout


def test_sar_for_an_unknown_person_is_plainly_empty(tmp_path: Path):
    done = sar(tmp_path / "var", "--phone", "07911 999888")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["conversations"] == [] and result["consent_records"] == []
    assert result["pending_hold"] == []


def test_sar_refuses_a_malformed_phone_number(tmp_path: Path):
    done = sar(tmp_path / "var", "--phone", "not a number")
    assert done.returncode == 1
    assert done.stderr.startswith("intake: ") and "phone" in done.stderr


async def test_sar_returns_a_consented_parent_and_nothing_for_a_declined_one(tmp_path: Path):
    data = tmp_path / "var"
    db = await open_same_database(data)
    try:
        gateway = make_gateway(db)
        yes, no = Contact.phone("07911 100200"), Contact.phone("07911 300400")
        for contact, thread, digits in ((yes, "CAyes", "1"), (no, "CAno", "2")):
            await gateway.handle(Inbound(Channel.VOICE, thread, Turn.START, contact=contact))
            await gateway.handle(
                Inbound(Channel.VOICE, thread, Turn.ANSWER, digits=digits, contact=contact)
            )
            await gateway.handle(
                Inbound(
                    Channel.VOICE,
                    thread,
                    Turn.MESSAGE,
                    text="about his annual review",
                    contact=contact,
                )
            )
    finally:
        await db.close()

    kept = json.loads(sar(data, "--phone", "+447911100200").stdout)
    assert kept["consent_records"][0]["method"] == "keypad"
    assert kept["conversations"][0]["messages"][0]["text"] == "about his annual review"
    assert kept["conversations"][0]["contact"]["value"] == "+447911100200"
    declined = json.loads(sar(data, "--phone", "07911 300400").stdout)
    assert declined["conversations"] == [] and declined["consent_records"] == []


async def test_concerns_list_shows_status_without_content(tmp_path: Path):
    data = tmp_path / "var"
    assert intake("concerns", "list", data_dir=data).stdout.strip() == "no safeguarding concerns"
    db = await open_same_database(data)
    try:
        await make_gateway(db).handle(
            Inbound(
                Channel.VOICE,
                "CArisk",
                Turn.ANSWER,
                text="no, but my partner hits my son",
                contact=Contact.phone("07911 555666"),
            )
        )
        assert len(await Records(db).concerns.list()) == 1
    finally:
        await db.close()
    listed = intake("concerns", "list", "--json", data_dir=data)
    [row] = json.loads(listed.stdout)
    assert row["severity"] == "immediate" and row["alert_status"] == "no_oncall"
    assert "hits" not in listed.stdout and "7911" not in listed.stdout
    assert "immediate" in intake("concerns", "list", data_dir=data).stdout


def test_unreachable_database_is_one_clear_line_without_the_password(tmp_path: Path):
    url = "postgresql+asyncpg://intake:s3cret-pw@127.0.0.1:1/intake"
    done = intake("migrate", data_dir=tmp_path / "var", INTAKE_DATABASE_URL=url)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "127.0.0.1:1/intake" in lines[0] and "s3cret-pw" not in done.stderr


def test_data_directory_that_cannot_be_created_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should go")
    done = intake("migrate", data_dir=blocker / "var", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot create the data directory" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert blocker.read_text() == "a file where the data directory should go"


def test_data_directory_that_is_not_writable_is_a_clear_error(tmp_path: Path):
    # /proc/1 exists and refuses new files even to root, as a read-only mount would.
    done = intake("migrate", data_dir=Path("/proc/1"), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "intake: the data directory /proc/1 is not writable"


async def test_outbox_status_shows_waiting_and_failed_items_without_recipients(tmp_path: Path):
    from storage.outbox import Outbox

    data = tmp_path / "var"
    assert intake("outbox", "status", data_dir=data).stdout.strip() == "outbox: empty"
    db = await open_same_database(data)
    try:
        outbox = Outbox(db)
        await outbox.enqueue("email", "waiting.parent@example.org", {"body": "hello"})
        failed = await outbox.enqueue("email", "bounced.parent@example.org", {"body": "x"})
        await outbox.mark_failed(failed, "smtp 550", erase=True)
    finally:
        await db.close()
    shown = intake("outbox", "status", data_dir=data)
    assert "1 failed, 1 queued" in shown.stdout
    assert "FAILED" in shown.stdout and failed in shown.stdout and "smtp 550" in shown.stdout
    assert "content erased" in shown.stdout and "parent@example.org" not in shown.stdout
    listed = json.loads(intake("outbox", "status", "--json", data_dir=data).stdout)
    assert listed["counts"] == {"failed": 1, "queued": 1}
    assert listed["failures"][0]["content_erased"] is True


async def test_only_a_signed_in_safeguarding_lead_reads_or_acknowledges_a_concern(tmp_path: Path):
    data = tmp_path / "var"
    for email, role in (
        ("lead@council.example", "safeguarding_lead"),
        ("ann@council.example", "adviser"),
    ):
        added = intake(
            "staff",
            "add",
            email,
            "--role",
            role,
            "--name",
            role.title(),
            "--password-stdin",
            data_dir=data,
            stdin="a long enough password\n",
        )
        assert added.returncode == 0, added.stderr
    db = await open_same_database(data)
    try:
        reply = await make_gateway(db).handle(
            Inbound(
                Channel.VOICE,
                "CAread",
                Turn.ANSWER,
                text="no, but my partner hits my son",
                contact=Contact.phone("07911 555777"),
            )
        )
    finally:
        await db.close()
    ref = reply.concern_id[:8].upper()

    def as_staff(verb: str, email: str, password: str = "a long enough password"):
        return intake(
            "concerns",
            verb,
            ref,
            "--staff",
            email,
            "--password-stdin",
            data_dir=data,
            stdin=password + "\n",
        )

    shown = as_staff("show", "lead@council.example")
    assert shown.returncode == 0, shown.stderr
    assert "hits my son" in shown.stdout and "+447911555777" in shown.stdout
    assert "alert chronology:" in shown.stdout
    adviser = as_staff("show", "ann@council.example")
    assert adviser.returncode == 1 and "only the safeguarding role" in adviser.stderr
    assert "hits" not in adviser.stdout
    wrong = as_staff("show", "lead@council.example", "not the password")
    assert wrong.returncode == 1 and "sign-in failed" in wrong.stderr
    acked = as_staff("ack", "lead@council.example")
    assert acked.returncode == 0 and "acknowledged" in acked.stdout
    [row] = json.loads(intake("concerns", "list", "--json", data_dir=data).stdout)
    assert row["status"] == "acknowledged"
    shown = as_staff("show", "lead@council.example")
    assert re.search(r"UTC  acknowledged +\(.+ \(command line\)\)", shown.stdout), shown.stdout
