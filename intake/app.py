"""Composition root: builds the services from Settings, the aiohttp app, and its workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from intake.core.gateway import Gateway
from intake.core.purge import run_purge_worker
from intake.core.types import RiskAssessor
from intake.core.wording import Wording, current_wording
from intake.logs import log_event
from intake.mail.notice import EmailNotice
from intake.mail.sender import OutboxSender
from intake.mail.server import smtp_context, tls_context
from intake.mail.service import MailService
from intake.mail.web import MAIL, register_consent_routes
from intake.metrics import Metrics
from intake.safeguarding.alerts import Alerter
from intake.safeguarding.sms import TwilioSms
from intake.safeguarding.sms_webhook import sms_handler
from intake.settings import Settings, SettingsError
from intake.voice.handlers import VoiceAdapter
from intake.voice.hours import HoursError, OfficeHours
from intake.voice.signature import TwilioSignature, development_auth_token
from storage.concerns import ConcernStore
from storage.database import Database
from storage.engine import safe_url
from storage.migrate import is_current
from storage.outbox import Outbox
from storage.records import Records
from storage.rota import RotaStore
from storage.staff import StaffStore
from storage.tables import utcnow

log = logging.getLogger("intake.app")


@dataclass
class Services:
    settings: Settings
    db: Database
    records: Records
    concerns: ConcernStore
    staff: StaffStore
    rota: RotaStore
    wording: Wording
    metrics: Metrics
    gateway: Gateway
    outbox: Outbox | None = None
    mail: MailService | None = None
    mail_sender: OutboxSender | None = None
    alerter: Alerter | None = None


SERVICES = web.AppKey("services", Services)


def load_risk_detector() -> RiskAssessor:
    """The rule-based child-risk detector, loaded once per process."""
    from nlp.risk import get_detector

    return get_detector()


async def open_database(settings: Settings) -> Database:
    settings.prepare_data_dir()
    return await Database.open(settings.database_url, settings.keyring())


def build_services(
    settings: Settings, db: Database, risk: RiskAssessor, metrics: Metrics | None = None
) -> Services:
    metrics = metrics or Metrics()
    records = Records(db)
    concerns = ConcernStore(db, records)
    wording = current_wording().for_service(settings.pending_ttl.total_seconds())
    rota = RotaStore(db)
    outbox = Outbox(db)
    alerter = Alerter(
        db,
        concerns,
        rota,
        _sms_sender(settings),
        settings.escalate_after,
        metrics=metrics,
        outbox=outbox,
        sender_address=settings.mail_address,
    )
    gateway = Gateway(
        records,
        concerns,
        risk,
        wording,
        pending_ttl=settings.pending_ttl,
        escalate_after=settings.escalate_after,
        metrics=metrics,
        on_concern=alerter.schedule,
    )
    services = Services(
        settings,
        db,
        records,
        concerns,
        StaffStore(db),
        rota,
        wording,
        metrics,
        gateway,
        outbox=outbox,
        alerter=alerter,
    )
    _add_mail(services)
    return services


def _add_mail(services: Services) -> None:
    """The email channel: outbox, its sender, and the flow the SMTP server hands mail to."""
    settings, db = services.settings, services.db
    services.outbox = services.outbox or Outbox(db)
    domain = settings.mail_address.rpartition("@")[2] or "localhost"
    services.mail_sender = OutboxSender(
        services.outbox, settings.smtp_relay, domain=domain, metrics=services.metrics
    )
    services.mail = MailService(
        services.gateway,
        services.records,
        services.outbox,
        services.wording,
        db.keyring,
        address=settings.mail_address,
        extra_addresses=settings.mail_extra_addresses,
        public_url=settings.public_url,
        metrics=services.metrics,
        on_queued=services.mail_sender.wake,
    )


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process is up and its event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers and its schema is current."""
    services = request.app[SERVICES]
    checks = {"database": await services.db.ping()}
    if checks["database"]:
        try:
            checks["schema"] = await is_current(services.db.engine)
        except Exception:  # noqa: BLE001 - readiness is a yes or no
            checks["schema"] = False
    ready = all(checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


async def metrics_view(request: web.Request) -> web.Response:
    """Counters since start, plus what is waiting in the database right now (for alerting on
    open concerns and failed mail). Labels are states and channels, never personal."""
    services = request.app[SERVICES]
    text = services.metrics.render()
    try:
        lines = [
            "# TYPE intake_concerns_open gauge",
            f"intake_concerns_open {await services.concerns.count_open()}",
        ]
        if services.outbox is not None:
            lines.append("# TYPE intake_outbox_items gauge")
            for status, count in sorted((await services.outbox.counts()).items()):
                lines.append(f'intake_outbox_items{{status="{status}"}} {count}')
        text += "\n".join(lines) + "\n"
    except Exception:  # noqa: BLE001 - the database is down: /readyz says so; counters still show
        text += "# database unavailable: no gauges\n"
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


@web.middleware
async def request_log(request: web.Request, handler):  # noqa: ANN001
    """Log the route pattern, never the path, query or body (they can carry personal data)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "<unmatched>"
        log_event(
            log,
            "http_request",
            method=request.method,
            route=route,
            http_status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def make_app(services: Services, clock: Callable[[], datetime] = utcnow) -> web.Application:
    app = web.Application(middlewares=[request_log], client_max_size=1024 * 1024)
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    _voice_adapter(services, clock).register(app)
    if services.alerter is not None:
        app.router.add_post(
            "/twilio/sms", sms_handler(services.alerter, twilio_signature(services))
        )
    if services.mail is not None:
        app[MAIL] = services.mail
        register_consent_routes(app)
    app.cleanup_ctx.append(_workers)
    return app


def smtp_server(services: Services) -> Callable[[web.Application], AsyncIterator[None]]:
    """The SMTP server as a cleanup context: on aiohttp's loop, started and stopped with it."""
    settings = services.settings
    try:
        tls = tls_context(settings.smtp_tls_cert, settings.smtp_tls_key)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot load the SMTP TLS certificate or key: {exc}") from None
    return smtp_context(
        lambda: services.mail,
        settings.smtp_host,
        settings.smtp_port,
        max_bytes=settings.mail_max_bytes,
        tls=tls,
    )


def _sms_sender(settings: Settings) -> TwilioSms | None:
    """Alerts go by SMS through the Twilio account; without one they wait, visibly."""
    if not (
        settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_phone_number
    ):
        return None
    return TwilioSms(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_phone_number,
        settings.twilio_api_url,
    )


def twilio_signature(services: Services) -> TwilioSignature:
    settings = services.settings
    token = settings.twilio_auth_token or development_auth_token(services.db.keyring)
    return TwilioSignature(token, settings.public_url)


def _voice_adapter(services: Services, clock: Callable[[], datetime]) -> VoiceAdapter:
    settings = services.settings
    try:
        hours = OfficeHours.parse(settings.office_hours, settings.timezone)
    except HoursError as exc:
        raise SettingsError(str(exc)) from None
    notices = None
    if services.outbox is not None:
        notices = EmailNotice(
            services.records,
            services.outbox,
            services.wording,
            sender=settings.mail_address,
            on_queued=services.mail_sender.wake if services.mail_sender else None,
        )
    return VoiceAdapter(services, twilio_signature(services), hours, notices=notices, clock=clock)


async def _workers(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(
            run_purge_worker(
                services.records,
                services.settings.purge_interval,
                stop,
                services.metrics,
                before_purge=services.mail.before_purge if services.mail else None,
            ),
            name="purge-worker",
        )
    ]
    if services.mail_sender is not None:
        tasks.append(asyncio.create_task(services.mail_sender.run(stop), name="outbox-sender"))
    alerter = services.alerter
    if alerter is not None:
        interval = max(1.0, min(15.0, services.settings.escalate_after.total_seconds() / 4))
        tasks.append(asyncio.create_task(alerter.run(stop, interval), name="alert-worker"))
    yield
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    if alerter is not None:
        await alerter.close()


async def serve(settings: Settings, risk: RiskAssessor | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop accepting, finish workers and close the database."""
    db = await open_database(settings)
    try:
        services = build_services(settings, db, risk or load_risk_detector())
        app = make_app(services)
        app.cleanup_ctx.append(smtp_server(services))
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        try:
            await runner.setup()
            site = web.TCPSite(runner, settings.http_host, settings.http_port)
            await site.start()
        except OSError as exc:  # a port in use or an address we may not bind
            await runner.cleanup()
            raise SettingsError(f"cannot listen: {exc.strerror or exc}") from None
        log_event(
            log,
            "serving",
            host=settings.http_host,
            port=settings.http_port,
            database=safe_url(settings.database_url).split(":", 1)[0],
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log_event(log, "stopping")
        await runner.cleanup()
    finally:
        await db.close()
    log_event(log, "stopped")
