"""What one gateway process runs on, built once its database is open (intake.app builds it):
the stores, the core, the channels and the console's live feed, reached by every handler
through the aiohttp app."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from intake.admin_choices import AdminChoices
from intake.console.live import LiveFeed
from intake.core.gateway import Gateway
from intake.core.wording import Wording
from intake.mail.sender import OutboxSender
from intake.mail.service import MailService
from intake.metrics import Metrics
from intake.safeguarding.alerts import Alerter
from intake.settings import Settings
from intake.voice.handlers import VoiceAdapter
from storage.casework import Casework
from storage.concerns import ConcernStore
from storage.database import Database
from storage.outbox import Outbox
from storage.records import Records
from storage.rota import RotaStore
from storage.staff import StaffStore
from storage.staff_sessions import StaffSessions


@dataclass
class Services:
    """Everything one gateway process runs on, built once its database is open."""

    settings: Settings
    db: Database
    records: Records
    wording: Wording
    metrics: Metrics
    gateway: Gateway
    mail: MailService
    mail_sender: OutboxSender
    alerter: Alerter
    voice: VoiceAdapter
    live: LiveFeed
    casework: Casework
    sessions: StaffSessions
    choices: AdminChoices  # the admin's office hours and wording, as in force now

    @property
    def concerns(self) -> ConcernStore:
        return self.records.concerns

    @property
    def outbox(self) -> Outbox:
        return self.records.outbox

    @property
    def rota(self) -> RotaStore:
        return RotaStore(self.db)

    @property
    def staff(self) -> StaffStore:
        return StaffStore(self.db)


SERVICES = web.AppKey("services", Services)
