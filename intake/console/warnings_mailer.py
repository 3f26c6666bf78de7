"""Warnings that must find a person, by email: nobody on call, an alert that could not be
delivered, a process that stopped. The console shows them on every page for the lead and the
admin; this worker also emails every active admin when one appears.

Why by email, and once: a banner helps nobody at night or at the weekend, and the same email
every minute would soon be ignored. A warning is emailed when it was not there at the previous
check, and at most once a day whichever process sees it (the audit log keeps the day's record),
and the email says only what the banner says, which names
no parent and holds nothing anyone wrote. Each email sent is in the audit log with a short hash
of its warning, not its words.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from email.utils import make_msgid

from sqlalchemy import select

from intake.logs import log_event
from intake.services import Services
from storage import audit
from storage.health import Health
from storage.staff import StaffView
from storage.tables import AuditEntry
from storage.values import Role, utcnow

log = logging.getLogger("intake.console.warnings")
SUBJECT = "Parent Partnership Service: needs attention"
ACTOR = "warning-mailer"  # who the audit log says sent it: this worker, not a person


def warning_hash(text: str) -> str:
    """Enough to tell warnings apart in the audit log."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def warning_payload(text: str, *, sender: str, public_url: str) -> dict:
    """An outbox payload in intake.mail.compose's shape, starting a thread of its own."""
    domain = sender.rpartition("@")[2] or "localhost"
    return {
        "purpose": "staff_warning",
        "from": sender,
        "subject": SUBJECT,
        "body": f"{text}\n\nOpen the console: {public_url.rstrip('/')}/console/\n",
        "message_id": make_msgid(idstring="warning", domain=domain).strip("<>"),
        "in_reply_to": None,
        "references": [],
        "auto": True,
        "erase": False,
    }


def _reference(warning: str) -> str:
    """One email per warning per day, whichever gateway process notices it first."""
    return f"{warning_hash(warning)}:{utcnow():%Y-%m-%d}"


class WarningMailer:
    """Remembers the warnings at the previous check and emails the admins the new ones."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._previous: set[str] = set()

    async def check(self) -> int:
        """One look at the warnings; how many emails were queued. A warning not emailed (the
        database failed, or there is no admin yet) is tried again at the next check."""
        current = await Health(self._services.db).warnings()
        self._previous &= set(current)  # one that clears and comes back is emailed again
        new = [w for w in current if w not in self._previous]
        if not new:
            return 0
        admins = [s for s in await self._services.staff.list() if s.active and s.role is Role.ADMIN]
        if not admins:
            log_event(log, "warning_not_emailed", logging.ERROR, reason="no_admin", count=len(new))
            return 0
        sent = 0
        for warning in new:
            if not await self._sent_today(warning):  # by another process, or before a restart
                await self._send(warning, admins)
                sent += len(admins)
            self._previous.add(warning)
        if sent:
            self._services.mail_sender.wake()
        return sent

    async def _sent_today(self, warning: str) -> bool:
        async with self._services.db.sessions() as session:
            found = await session.scalar(
                select(AuditEntry.id)
                .where(
                    AuditEntry.action == "warning.emailed",
                    AuditEntry.subject_type == "warning",
                    AuditEntry.subject_id == _reference(warning),
                )
                .limit(1)
            )
        return found is not None

    async def _send(self, warning: str, admins: list[StaffView]) -> None:
        """One warning to every admin, with its audit entries, in one transaction."""
        settings, db = self._services.settings, self._services.db
        digest = warning_hash(warning)
        async with db.transaction() as session:
            for admin in admins:
                payload = warning_payload(
                    warning, sender=settings.mail_address, public_url=settings.public_url
                )
                await self._services.outbox.enqueue(
                    "email", admin.email, payload, reference=f"warning:{digest}", session=session
                )
                await audit.record(
                    session, ACTOR, "warning.emailed", "staff", admin.id, warning=digest
                )
            # the day's record that this warning went out, whichever process sent it
            await audit.record(session, ACTOR, "warning.emailed", "warning", _reference(warning))
        log_event(log, "warning_emailed", count=len(admins))


async def run_warning_mailer(
    services: Services, stop: asyncio.Event, interval: float = 60.0
) -> None:
    """Check every `interval` seconds until `stop` is set; a failed check is tried again."""
    mailer = WarningMailer(services)
    while not stop.is_set():
        try:
            await mailer.check()
        except Exception as exc:  # noqa: BLE001 - a database blip must not end the worker
            log_event(log, "warning_check_failed", logging.WARNING, error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
