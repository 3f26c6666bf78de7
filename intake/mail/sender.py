"""The outbox sender: takes due email from the durable outbox and hands it to the relay.

Its one job: deliver what the service promised, or say clearly that it could not. Items are
claimed (leased, so two gateways never send one twice), sent with aiosmtplib to
INTAKE_SMTP_RELAY, then deleted (a parent's address is not kept once the mail has gone; for a
parent who has not consented the freed pages are erased too). A temporary failure is retried
with exponential back-off; a permanent one (5xx, or too many attempts) stays in the outbox as
"failed" for staff to see, its content erased if the parent had not consented.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta
from typing import Protocol

import aiosmtplib

from intake.logs import log_event
from intake.mail.compose import build_message
from intake.metrics import Metrics
from storage.values import OutboxMessage

log = logging.getLogger("intake.mail.outbox")

MAX_ATTEMPTS = 12
BASE_DELAY = 30.0  # seconds before the first retry; doubles each time
MAX_DELAY = 3600.0


class OutboxQueue(Protocol):
    """The durable outbox (storage's), as the sender uses it."""

    async def claim(self, limit: int = 20) -> list[OutboxMessage]: ...

    async def mark_sent(self, item_id: str, *, erase: bool) -> None: ...

    async def retry_later(self, item_id: str, error: str, delay: timedelta) -> None: ...

    async def mark_failed(self, item_id: str, error: str, *, erase: bool) -> None: ...


def parse_relay(relay: str) -> tuple[str, int]:
    host, _, port = relay.rpartition(":")
    if not host:
        return relay, 25
    return host.strip("[]"), int(port)


class OutboxSender:
    def __init__(
        self,
        outbox: OutboxQueue,
        relay: str | None,
        *,
        domain: str,
        metrics: Metrics | None = None,
        base_delay: float = BASE_DELAY,
        max_attempts: int = MAX_ATTEMPTS,
        timeout: float = 30.0,
        poll_interval: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.relay = parse_relay(relay) if relay else None
        self.domain = domain
        self.metrics = metrics or Metrics()
        self.base_delay = base_delay
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: send now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send due items until `stop` is set; a failing database is retried, never fatal."""
        if self.relay is None:
            log_event(log, "outbox_waiting", reason="no_relay_configured")
            return
        while not stop.is_set():
            self._wake.clear()
            try:
                while await self.deliver_due() and not stop.is_set():
                    pass
            except Exception as exc:  # noqa: BLE001 - e.g. the database is down: try again
                log_event(log, "outbox_failed", logging.WARNING, error=type(exc).__name__)
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED),
                    timeout=self.poll_interval,
                )
            for waiter in waiters:
                waiter.cancel()

    async def deliver_due(self, limit: int = 20) -> int:
        """Send up to `limit` due items; returns how many were claimed."""
        items = await self.outbox.claim(limit)
        if items:
            await asyncio.gather(*(self._deliver(item) for item in items))
        return len(items)

    async def _deliver(self, item: OutboxMessage) -> None:
        erase = bool(item.payload.get("erase", True))
        try:
            message = build_message(item.recipient, item.payload, self.domain)
        except (ValueError, TypeError) as exc:
            await self._failed(item, f"unsendable: {type(exc).__name__}", erase)
            return
        assert self.relay is not None
        host, port = self.relay
        try:
            await aiosmtplib.send(
                message,
                hostname=host,
                port=port,
                sender=item.payload.get("from"),
                recipients=[item.recipient],
                timeout=self.timeout,
                start_tls=None,
            )
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
            code = _code(exc)
            if code is not None and code >= 500:
                await self._failed(item, f"smtp {code}", erase)
            else:
                await self._retry(item, f"smtp {code or 'error'}", erase)
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._retry(item, type(exc).__name__, erase)
            return
        await self.outbox.mark_sent(item.id, erase=erase)
        self.metrics.count("intake_outbox_sent_total", kind=item.kind)
        log_event(log, "outbox_sent", outbox_id=item.id, attempt=item.attempts)

    async def _retry(self, item: OutboxMessage, error: str, erase: bool) -> None:
        if item.attempts >= self.max_attempts:
            await self._failed(item, f"{error} after {item.attempts} attempts", erase)
            return
        delay = min(self.base_delay * 2 ** (item.attempts - 1), MAX_DELAY)
        delay *= 1 + random.random() * 0.2  # spread retries of many items
        await self.outbox.retry_later(item.id, error, timedelta(seconds=delay))
        self.metrics.count("intake_outbox_retries_total", kind=item.kind)
        log_event(
            log,
            "outbox_retry",
            logging.WARNING,
            outbox_id=item.id,
            attempt=item.attempts,
            error=error,
        )

    async def _failed(self, item: OutboxMessage, error: str, erase: bool) -> None:
        await self.outbox.mark_failed(item.id, error, erase=erase)
        self.metrics.count("intake_outbox_failed_total", kind=item.kind)
        log_event(
            log,
            "outbox_undeliverable",
            logging.ERROR,
            outbox_id=item.id,
            attempt=item.attempts,
            error=error,
        )


def _code(exc: Exception) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return max(codes) if codes else None
    return getattr(exc, "code", None)
