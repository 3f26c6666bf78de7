"""The SMTP front door: aiosmtpd's protocol on the running event loop, with our handler.

Its one job: say yes to a message only once it is durably held. Recipients other than the
service's addresses get 550 at RCPT (never an open relay); oversize mail gets 552; a message is
answered 250 only after the MailService has held it (or kept it, or deliberately dropped a
machine's message); any failure of ours becomes 451 so the sending server retries, never 500,
which would lose the mail. The server runs on the same loop as aiohttp and the database engine
(aiosmtpd's threaded Controller would not), started and stopped from an aiohttp cleanup context.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session

from intake.logs import log_event
from intake.mail.service import MailService

log = logging.getLogger("intake.mail.smtp")

ACCEPTED = "250 2.0.0 Message accepted"
TRY_LATER = "451 4.3.0 Temporary failure here, please try again later"
NO_SUCH_USER = "550 5.1.1 Recipient not accepted here"
TOO_MANY = "452 4.5.3 Too many recipients"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
LINE_LIMIT = 1024 * 1024  # bytes per line: real mail has 100 KB header lines; 1 MiB is plenty
MAX_RECIPIENTS = 20
IDLE_TIMEOUT = 120  # seconds a connection may sit silent


class IntakeSMTP(SMTP):
    """aiosmtpd's protocol with our deliberate limits instead of its defaults."""

    line_length_limit = LINE_LIMIT
    # aiosmtpd logs peers and addresses at INFO on "mail.log"; configure_logging quiets it, and
    # the server sets the level again below so a test's caplog cannot collect addresses.


class MailHandler:
    """aiosmtpd handler hooks: RCPT (who), DATA (what), and exceptions (never 500)."""

    def __init__(self, service: MailService, max_recipients: int = MAX_RECIPIENTS) -> None:
        self.service = service
        self.max_recipients = max_recipients

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        if not self.service.accepts(address):
            return NO_SUCH_USER
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return TOO_MANY
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            result = await self.service.receive(raw, envelope.mail_from)
        except Exception as exc:  # noqa: BLE001 - anything of ours: the sender must retry
            log_event(log, "mail_deferred", logging.WARNING, error=type(exc).__name__)
            return TRY_LATER
        return f"{ACCEPTED} ({result.outcome})"

    async def handle_exception(self, error: Exception) -> str:
        log_event(log, "smtp_error", logging.WARNING, error=type(error).__name__)
        return TRY_LATER


@dataclass
class SmtpServer:
    server: asyncio.base_events.Server

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key or None)
    return context


async def start_smtp_server(
    service: MailService,
    host: str,
    port: int,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    tls: ssl.SSLContext | None = None,
    hostname: str | None = None,
) -> SmtpServer:
    """Listen on the running loop; returns the server (port 0 picks a free port)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = MailHandler(service)
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return IntakeSMTP(
            handler,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=hostname or service.domain,
            ident="intake",
            tls_context=tls,
            require_starttls=False,
            timeout=IDLE_TIMEOUT,
            loop=loop,
        )

    server = await loop.create_server(factory, host=host, port=port)
    smtp = SmtpServer(server)
    log_event(log, "smtp_listening", host=host, port=smtp.port)
    return smtp


def smtp_context(
    get_service: Callable[[], MailService | None],
    host: str,
    port: int,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    tls: ssl.SSLContext | None = None,
) -> Callable[[object], AsyncIterator[None]]:
    """An aiohttp cleanup context that runs the SMTP server beside the HTTP app."""

    async def context(_app: object) -> AsyncIterator[None]:
        service = get_service()
        if service is None:
            yield
            return
        smtp = await start_smtp_server(service, host, port, max_bytes=max_bytes, tls=tls)
        try:
            yield
        finally:
            await smtp.close()

    return context
