"""A running gateway for email: the real aiohttp app and the SMTP server on one loop over a real
SQLite file, a local SMTP server standing in for the relay, and a real SMTP client."""

from __future__ import annotations

import asyncio
import contextlib
import email
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP as AioSMTP

from intake.app import SERVICES, SMTP, Services, create_app
from intake.logs import configure_logging
from intake.mail.server import SmtpServer
from intake.settings import Settings
from tests.conftest import TEST_SECRET, KeywordRisk

SERVICE = "help@pps.example.org"
PUBLIC_URL = "https://intake.council.example"


def corpus_dir() -> Path | None:
    """The shared mail corpus: INTAKE_MAIL_CORPUS, or shared/ beside the repository."""
    configured = os.environ.get("INTAKE_MAIL_CORPUS")
    path = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
    )
    return path if path.is_dir() else None


@dataclass
class Relay:
    """A local SMTP server standing in for INTAKE_SMTP_RELAY; keeps what it is handed."""

    server: asyncio.base_events.Server | None = None
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "550 5.1.1 no such user"
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        if self.refuse_with:
            return self.refuse_with
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        self.arrived.set()
        return "250 OK"

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[EmailMessage]:
        async def reached() -> None:
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(reached(), seconds)
        return [m for _, m in self.messages]

    async def first_to(self, recipient: str, after: int = 0, seconds: float = 10.0) -> EmailMessage:
        """The first message to `recipient` among those handed over after the first `after`
        (mail to staff, an alert or a warning, may arrive in between)."""

        async def found() -> EmailMessage:
            while True:
                for recipients, message in self.messages[after:]:
                    if recipient in recipients:
                        return message
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(found(), seconds)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    relay = Relay()
    loop = asyncio.get_running_loop()
    relay.server = await loop.create_server(
        lambda: AioSMTP(relay, hostname="relay.test", loop=loop), "127.0.0.1", 0
    )
    try:
        yield relay
    finally:
        relay.server.close()


@dataclass
class MailGateway:
    services: Services
    http: TestServer
    smtp: SmtpServer
    session: aiohttp.ClientSession
    data_dir: Path
    relay: Relay

    @property
    def url(self) -> str:
        return str(self.http.make_url("/")).rstrip("/")

    async def send(
        self,
        raw: bytes | str | EmailMessage,
        *,
        mail_from: str = "parent@example.org",
        rcpt: str | list[str] = SERVICE,
        size: bool = False,
    ) -> tuple[int, str]:
        """One message over a fresh SMTP session; the code and text of the last reply."""
        async with SmtpClient(self.smtp.port) as client:
            return await client.send(raw, mail_from=mail_from, rcpt=rcpt, size=size)

    async def outbox_drained(self, seconds: float = 10.0) -> None:
        """Wait until nothing is queued (sent or failed)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (await self.services.outbox.counts()).get("queued", 0):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the outbox did not drain")
            self.services.mail_sender.wake()
            await asyncio.sleep(0.02)


class SmtpClient:
    """A real SMTP client session (aiosmtplib) that reports codes instead of raising."""

    def __init__(self, port: int) -> None:
        self.smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30, start_tls=False)

    async def __aenter__(self) -> SmtpClient:
        await self.smtp.connect()
        await self.smtp.ehlo()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            self.smtp.close()

    async def send(
        self,
        raw: bytes | str | EmailMessage,
        *,
        mail_from: str = "parent@example.org",
        rcpt: str | list[str] = SERVICE,
        size: bool = False,
    ) -> tuple[int, str]:
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes(policy=policy.SMTP)
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        options = [f"SIZE={len(raw)}"] if size else []
        try:
            await self.smtp.mail(mail_from, options=options)
            refused: aiosmtplib.SMTPResponseException | None = None
            accepted = 0
            for to in [rcpt] if isinstance(rcpt, str) else rcpt:
                try:  # like a real MTA: a refused recipient does not stop the others
                    await self.smtp.rcpt(to)
                    accepted += 1
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused = exc
            if not accepted and refused is not None:
                raise refused
            response = await self.smtp.data(raw)
        except aiosmtplib.SMTPResponseException as exc:
            if self.smtp.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await self.smtp.rset()
            return exc.code, exc.message
        return response.code, response.message


def mail_settings(data_dir: Path, relay_port: int, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "INTAKE_DATA_DIR": str(data_dir),
            "INTAKE_PUBLIC_URL": PUBLIC_URL,
            "INTAKE_MAIL_ADDRESS": SERVICE,
            "INTAKE_MAIL_EXTRA_ADDRESSES": "enquiries@pps.example.org",
            "INTAKE_SMTP_RELAY": f"127.0.0.1:{relay_port}",
            "INTAKE_SECRET_KEY": TEST_SECRET,
            "INTAKE_MAIL_MAX_BYTES": str(1024 * 1024),
            "INTAKE_SMTP_HOST": "127.0.0.1",
            "INTAKE_SMTP_PORT": "0",  # any free port: tests run side by side
            **extra,
        }
    )


@pytest.fixture
def risk_detector() -> KeywordRisk:
    return KeywordRisk()


@contextlib.asynccontextmanager
async def running_gateway(
    settings: Settings, relay: Relay, risk_detector: object
) -> AsyncIterator[MailGateway]:
    """The app (HTTP, workers) and the SMTP server on this loop, as `intake serve` runs them."""
    settings.prepare_data_dir()
    configure_logging(settings.data_dir, "DEBUG")

    def quick_retries(services: Services) -> None:
        services.mail_sender.base_delay = 0.05  # retries in tests come quickly
        services.mail_sender.poll_interval = 0.1

    app = create_app(settings, risk=risk_detector, tune=quick_retries)
    http = TestServer(app, host="127.0.0.1")
    await http.start_server()
    session = aiohttp.ClientSession()
    try:
        yield MailGateway(app[SERVICES], http, app[SMTP], session, settings.data_dir, relay)
    finally:
        await session.close()
        with contextlib.suppress(Exception):
            await http.close()
        for handler in list(logging.getLogger().handlers):
            handler.close()
            logging.getLogger().removeHandler(handler)


@pytest.fixture
async def mail_gateway(
    tmp_path: Path, relay: Relay, risk_detector: object
) -> AsyncIterator[MailGateway]:
    settings = mail_settings(tmp_path / "var", relay.port)
    async with running_gateway(settings, relay, risk_detector) as gateway:
        yield gateway


def parent_mail(
    text: str,
    *,
    sender: str = "Jo Parent <parent@example.org>",
    subject: str = "Help with my son's EHCP",
    msgid: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SERVICE
    msg["Subject"] = subject
    msg["Message-ID"] = msgid or email.utils.make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    return msg


def reply_to(request: EmailMessage, text: str, **kwargs: object) -> EmailMessage:
    """A parent's reply to one of our messages, threaded as a mail client would thread it."""
    quoted = "\n".join("> " + line for line in request.get_content().splitlines())
    body = f"{text}\n\nOn Mon, 30 Nov 2026 at 10:00, Service <{SERVICE}> wrote:\n{quoted}\n"
    return parent_mail(
        body,
        subject="Re: " + str(request["Subject"]),
        in_reply_to=str(request["Message-ID"]),
        references=str(request["Message-ID"]),
        **kwargs,
    )


def form_value(page: str) -> str:
    """The consent page's anti-forgery value, as a browser posting the form sends it."""
    found = re.search(r"name='form' value='([^']+)'", page)
    assert found, page
    return found.group(1)


async def choose_on_page(gw: MailGateway, link: str, choice: str):  # noqa: ANN201
    """Open the consent link and press a button, as a parent's browser does; the response."""
    async with gw.session.get(f"{gw.url}/consent/{link}") as response:
        form = form_value(await response.text())
    return await gw.session.post(f"{gw.url}/consent/{link}", data={"form": form, "choice": choice})
