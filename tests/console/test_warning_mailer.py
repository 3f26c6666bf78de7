"""Warnings that must find a person: the worker emails every active admin once when a warning
appears, through the outbox and the relay, with no personal data."""

from __future__ import annotations

import asyncio

import pytest

import intake.app
from intake.console.warnings_mailer import (
    SUBJECT,
    WarningMailer,
    run_warning_mailer,
    warning_hash,
)
from storage import audit
from storage.health import Health
from tests.console.conftest import PUBLIC_URL, Console
from tests.mail.conftest import SERVICE

NOBODY = "Nobody is on call for safeguarding: set the on-call rota now."
ADMIN = "alex@council.example"


@pytest.fixture(autouse=True)
def _only_this_files_mailer(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests run the worker themselves: the gateway's own copy (once intake.app runs it)
    would email the same warning."""
    workers = tuple(w for w in intake.app.WORKERS if w[1] is not run_warning_mailer)
    monkeypatch.setattr(intake.app, "WORKERS", workers)


async def _staff(console: Console) -> str:
    admin_id = await console.add_staff("admin", ADMIN, "Alex Admin")
    await console.add_staff("adviser", "ada@council.example", "Ada Adviser")
    await console.add_staff("safeguarding_lead", "lee@council.example", "Lee Lead")
    return admin_id


def _to_admin(console: Console) -> list:
    return [m for to, m in console.gateway.relay.messages if to == [ADMIN]]


async def test_a_new_warning_emails_the_admin_once(console: Console):
    admin_id = await _staff(console)
    assert await Health(console.services.db).warnings() == [NOBODY]
    relay = console.gateway.relay
    mailer = WarningMailer(console.services)

    assert await mailer.check() == 1
    await relay.wait_for(1)
    [message] = _to_admin(console)
    assert len(relay.messages) == 1  # the adviser and the lead are not emailed
    assert message["Subject"] == SUBJECT and SERVICE in message["From"]
    body = message.get_content().replace("\r\n", "\n").strip()
    assert body == f"{NOBODY}\n\nOpen the console: {PUBLIC_URL}/console/"

    assert await mailer.check() == 0
    await console.gateway.outbox_drained()
    assert len(relay.messages) == 1

    async with console.services.db.sessions() as session:
        emailed = await audit.search(session, action="warning.emailed", subject_type="staff")
    [(entry, _)] = emailed
    assert entry.subject_id == admin_id and entry.detail == {"warning": warning_hash(NOBODY)}
    assert "call" not in str(entry.detail)


async def test_a_warning_is_emailed_once_a_day_by_whichever_process_sees_it(console: Console):
    await _staff(console)
    assert await WarningMailer(console.services).check() == 1
    rota = console.services.rota
    await rota.set("primary", "Lee Lead", "+447700900123", "lee@council.example")
    assert await WarningMailer(console.services).check() == 0
    for shift in await rota.shifts():
        await rota.remove_shift(shift.id)
    another_process = WarningMailer(console.services)  # or this one, after a restart
    assert await another_process.check() == 0  # the same warning, the same day: once
    await console.gateway.relay.wait_for(1)
    assert len(_to_admin(console)) == 1


async def test_the_worker_checks_until_stopped_and_emails_once(console: Console):
    await _staff(console)
    stop = asyncio.Event()
    task = asyncio.create_task(run_warning_mailer(console.services, stop, interval=0.05))
    try:
        await console.gateway.relay.wait_for(1)
        await asyncio.sleep(0.5)  # several more checks, the warning still there
        await console.gateway.outbox_drained()
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert len(_to_admin(console)) == 1 and len(console.gateway.relay.messages) == 1
