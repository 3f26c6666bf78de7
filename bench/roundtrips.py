"""SQL statements and transactions per turn: one phone call through the real aiohttp app
(in-process, signed Twilio-style posts) and one email handed to the mail service, on a
temporary SQLite database with the real risk detector.

    python -m bench.roundtrips [--json]

Statements are counted with a ``before_cursor_execute`` listener on the SQLAlchemy ``Engine``
class, i.e. on every engine's sync_engine, so the count does not depend on how the app gets
its engine. BEGIN/COMMIT/ROLLBACK are the engine's transaction events (the SQLite driver
begins implicitly, so no BEGIN statement shows). "trips" are the driver's trips to SQLite
(storage.sqlite_driver: on the event loop, or its connection's thread), each of which can carry
several statements and a commit.
A step lasts from its request until no statement has run for SETTLE seconds, so work the
turn starts in the background is included; what the long-running workers (outbox sender,
alerts, purge) do meanwhile is shown apart ("bg_"). --json also prints one JSON object as
the last line of stdout, for machines (CI, comparisons).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import event
from sqlalchemy.engine import Engine

from intake.settings import Settings
from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver

TOKEN = "bench-token-0123456789abcdef0123"
PUBLIC = "https://intake.bench.invalid"
SERVICE = "help@pps.example.org"
PARENT = "parent@example.org"
OPEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday morning
WORKERS = ("purge-worker", "outbox-sender", "alert-worker")  # asyncio task names at HEAD
SETTLE = 0.3
KINDS = (
    "statements",
    "trips",
    "begins",
    "commits",
    "rollbacks",
    "bg_statements",
    "bg_trips",
    "bg_commits",
)


class SqlCounter:
    """Counts statements and transaction events on every SQLAlchemy engine while listening."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.last = 0.0
        self._hooks: list[tuple[str, Callable[..., None]]] = [
            ("before_cursor_execute", lambda *_a, **_k: self._hit("statements")),
            ("begin", lambda *_a: self._hit("begins")),
            ("commit", lambda *_a: self._hit("commits")),
            ("rollback", lambda *_a: self._hit("rollbacks")),
        ]

    def _hit(self, kind: str) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name() in WORKERS:
            kind = "bg_" + kind
        self.counts[kind] += 1
        self.last = asyncio.get_running_loop().time()

    def __enter__(self) -> SqlCounter:
        for name, fn in self._hooks:
            event.listen(Engine, name, fn)
        from storage import sqlite_driver

        self._driver, call = sqlite_driver.OneTripConnection, sqlite_driver.OneTripConnection.call

        def counted(connection: Any, *args: Any, **how: Any) -> Any:
            self._hit("trips")
            return call(connection, *args, **how)

        self._call, self._driver.call = call, counted
        return self

    def __exit__(self, *exc: object) -> None:
        for name, fn in self._hooks:
            event.remove(Engine, name, fn)
        self._driver.call = self._call

    async def step(self, action: Awaitable[Any]) -> tuple[Any, dict[str, int]]:
        """Run one turn and what it cost, up to SETTLE seconds after its last statement."""
        self.counts.clear()
        result = await action
        loop = asyncio.get_running_loop()
        self.last = max(self.last, loop.time())
        for _ in range(100):  # until quiet for SETTLE seconds: the turn is done
            idle = loop.time() - self.last
            if idle >= SETTLE:
                break
            await asyncio.sleep(SETTLE - idle)
        return result, {kind: self.counts[kind] for kind in KINDS}


def settings(data_dir: Path, relay_port: int) -> Settings:
    return Settings.from_env(
        {
            "INTAKE_DATA_DIR": str(data_dir),
            "TWILIO_AUTH_TOKEN": TOKEN,
            "INTAKE_PUBLIC_URL": PUBLIC,
            "INTAKE_ADVISER_NUMBER": "+441632960001",
            "INTAKE_OFFICE_HOURS": "Mon-Sun 00:00-23:59",
            "INTAKE_MAIL_ADDRESS": SERVICE,
            "INTAKE_SMTP_RELAY": f"127.0.0.1:{relay_port}",
            "INTAKE_LOG_LEVEL": "WARNING",
        }
    )


@contextlib.asynccontextmanager
async def running_app(config: Settings) -> AsyncIterator[web.Application]:
    """The gateway's aiohttp app, built by the project's own entry point (the one place to adapt
    when construction changes): `create_app` where it exists, else build_services + make_app."""
    from nlp.risk import get_detector

    risk, clock = get_detector(), lambda: OPEN
    import intake.app as entry

    if hasattr(entry, "create_app"):
        yield entry.create_app(config, risk=risk, clock=clock)
        return
    db = await entry.open_database(config)
    try:
        yield entry.make_app(entry.build_services(config, db, risk), clock=clock)
    finally:
        await db.close()


class Relay:
    """A local SMTP server standing in for the relay: keeps what the outbox hands it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


def _mail(subject: str, text: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Jo Parent <{PARENT}>", SERVICE, subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return bytes(msg)


async def _wait_for(relay: Relay, count: int, seconds: float = 10.0) -> EmailMessage:
    for _ in range(int(seconds / 0.05)):
        if len(relay.messages) >= count:
            return relay.messages[count - 1]
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the relay got {len(relay.messages)} message(s), expected {count}")


async def measure() -> dict[str, dict[str, dict[str, int]]]:
    from aiosmtpd.smtp import SMTP

    from intake.mail.web import MAIL

    relay, loop = Relay(), asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(relay, hostname="relay"), "127.0.0.1", 0)
    voice: dict[str, dict[str, int]] = {}
    mail: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-roundtrips-") as tmp:
        config = settings(Path(tmp) / "var", smtp.sockets[0].getsockname()[1])
        async with running_app(config) as app, contextlib.AsyncExitStack() as stack:
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            stack.push_async_callback(server.close)
            session = await stack.enter_async_context(aiohttp.ClientSession())
            counter = stack.enter_context(SqlCounter())
            await asyncio.sleep(SETTLE)  # the workers' first rounds, before counting
            url = str(server.make_url("/")).rstrip("/")
            call = CallDriver(session, url, TwilioSignature(TOKEN, PUBLIC), "+447911123456")
            doc, voice["incoming call"] = await counter.step(call.start())
            _expect(doc.gather_action and "/consent" in doc.gather_action, "a consent question")
            doc, voice["consent: 1 (yes)"] = await counter.step(call.answer(doc, digits="1"))
            _expect("How can we help" in doc.spoken, "the how-can-we-help question")
            speech = "I need help with my son's EHC plan review"
            doc, voice["how can we help: speech"] = await counter.step(
                call.answer(doc, speech=speech)
            )
            if doc.dial_number is None and doc.gather_action:  # the notice offered by email
                doc, voice["notice offer: no"] = await counter.step(call.answer(doc, digits="2"))
            _expect(doc.dial_number is not None, "the adviser being dialled")
            _, voice["status: completed"] = await counter.step(call.hang_up("completed"))

            service = app[MAIL]
            text = "My son is nine and his school wants him on a reduced timetable. Can you help?"
            first = _mail("Reduced timetable", text)
            got, mail["new parent message"] = await counter.step(
                _then(service.receive(first, PARENT), _wait_for(relay, 1))
            )
            _expect(got.outcome == "held", f"a held message, not {got.outcome}")
            request = relay.messages[0]
            reply = _mail(
                "Re: " + str(request["Subject"]),
                "YES\n\n> " + "\n> ".join(request.get_content().splitlines()),
                In_Reply_To=str(request["Message-ID"]),
                References=str(request["Message-ID"]),
            )
            got, mail["reply: YES"] = await counter.step(
                _then(service.receive(reply, PARENT), _wait_for(relay, 2))
            )
            _expect(got.outcome == "answered_yes", f"a yes, not {got.outcome}")
    smtp.close()
    return {"voice": voice, "email": mail}


async def _then(first: Awaitable[Any], second: Awaitable[Any]) -> Any:
    result = await first
    await second
    return result


def _expect(ok: object, what: str) -> None:
    if not ok:
        raise RuntimeError(f"the turn did not go as a real one would: expected {what}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.roundtrips", description=__doc__)
    parser.add_argument("--json", action="store_true", help="JSON summary as the last line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(measure())
    print(f"{'channel':<8}{'step':<26}" + "".join(f"{k:>14}" for k in KINDS))
    for channel, steps in result.items():
        for step, counts in steps.items():
            print(f"{channel:<8}{step:<26}" + "".join(f"{counts[k]:>14}" for k in KINDS))
        total = {k: sum(c[k] for c in steps.values()) for k in KINDS}
        print(f"{channel:<8}{'total':<26}" + "".join(f"{total[k]:>14}" for k in KINDS))
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
