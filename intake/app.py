"""Composition root: builds the services from Settings, the aiohttp app, and its workers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from aiohttp import web

from intake.admin_choices import AdminChoices
from intake.console.auth import console_guard
from intake.console.live import LiveFeed
from intake.console.routes import register_console
from intake.console.warnings_mailer import run_warning_mailer
from intake.core.gateway import Gateway
from intake.core.purge import run_purge_worker
from intake.core.types import RiskAssessor
from intake.core.wording import wording_files
from intake.logs import log_event
from intake.mail.replies import MailReplies
from intake.mail.sender import OutboxSender
from intake.mail.server import SmtpServer, start_smtp_server, tls_context
from intake.mail.service import MailService
from intake.mail.web import MAIL, register_consent_routes
from intake.metrics import Metrics
from intake.safeguarding.alerts import Alerter
from intake.safeguarding.call_webhook import ROUTES as CALL_ROUTES
from intake.safeguarding.call_webhook import call_handlers
from intake.safeguarding.calls import TwilioCalls
from intake.safeguarding.sms import TwilioSms
from intake.safeguarding.sms_webhook import sms_handler, sms_status_handler
from intake.services import SERVICES, Services
from intake.settings import Settings, SettingsError
from intake.voice.handlers import VOICE_ROUTES, VoiceAdapter
from intake.voice.hours import HoursError, OfficeHours, bank_holidays
from intake.voice.signature import TwilioSignature, development_auth_token
from nlp.workers import DetectorWorkers
from storage import key_material
from storage.casework import Casework
from storage.database import Database
from storage.engine import safe_url
from storage.migrate import is_current
from storage.records import Records
from storage.retention import Retention
from storage.rota import RotaStore
from storage.staff_sessions import StaffSessions
from storage.values import utcnow

log = logging.getLogger("intake.app")
LOOPBACK = frozenset({"127.0.0.1", "::1"})
T = TypeVar("T", TwilioSms, TwilioCalls)


SMTP = web.AppKey("smtp", SmtpServer)


def load_risk_detector(settings: Settings | None = None) -> RiskAssessor:
    """The child-risk detector (rules and the committed model), loaded once per process; a
    missing or corrupt model file raises nlp.model.ModelFileError."""
    from nlp.risk import get_detector

    return get_detector(settings.risk_model if settings else None)


async def open_database(settings: Settings) -> Database:
    settings.prepare_data_dir()
    db = await Database.open(settings.database_url, settings.keyring())
    if not db.is_sqlite and settings.key_file is not None:
        try:
            settings.refuse_key_beside_database(await db.server_data_directory())
        except SettingsError:
            await db.close()
            raise
    return db


def build_services(
    settings: Settings,
    db: Database,
    risk: RiskAssessor,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Services:
    """Wire the stores, the core and the channels over an open database."""
    metrics = metrics or Metrics()
    records = Records(db)
    live = LiveFeed(
        None
        if db.is_sqlite
        else db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    domain = settings.mail_address.rpartition("@")[2] or "localhost"
    mail_sender = OutboxSender(records.outbox, settings.smtp_relay, domain=domain, metrics=metrics)
    try:
        default_hours = OfficeHours.parse(
            settings.office_hours, settings.timezone, bank_holidays(settings.bank_holidays)
        )
    except HoursError as exc:
        raise SettingsError(str(exc)) from None
    # the admin's hours and wording over the defaults, followed while the service runs
    choices = AdminChoices(
        db,
        default_hours,
        wording_files(),
        hold_seconds=settings.pending_ttl.total_seconds(),
        retention_days=settings.retention_days,
    )
    hours, wording = choices.hours, choices.wording
    alerter = Alerter(
        db,
        records.concerns,
        RotaStore(db),
        _twilio(settings, TwilioSms),
        settings.escalate_after,
        metrics=metrics,
        clock=clock,
        outbox=records.outbox,
        sender_address=settings.mail_address,
        calls=_twilio(settings, TwilioCalls),
        public_url=settings.public_url,
        zone=hours.zone,
        in_hours=hours.open_at,
    )
    gateway = Gateway(
        records.turns,
        risk,
        wording,
        pending_ttl=settings.pending_ttl,
        escalate_after=settings.escalate_after,
        metrics=metrics,
        on_concern=lambda concern_id: (alerter.schedule(concern_id), live.publish("concern")),
        on_queued=mail_sender.wake,
        on_activity=lambda _conversation: live.publish("conversation"),
        due_for_reminder=records.pending.due_for_reminder,
        in_hours=lambda: hours.open_at(clock()),
        decline_reply_ttl=settings.decline_reply_ttl,
        callbacks=records.callbacks,
    )
    replies = MailReplies(
        wording,
        db.keyring,
        address=settings.mail_address,
        public_url=settings.public_url,
        phone=settings.service_phone,
        hours=hours.spoken,
        childrens_services=settings.childrens_services_number,
    )
    mail = MailService(
        gateway,
        replies,
        db.keyring,
        extra_addresses=settings.mail_extra_addresses,
        metrics=metrics,
        authserv_id=settings.mail_authserv_id,
    )
    voice = VoiceAdapter(
        gateway,
        settings,
        twilio_signature(settings, db),
        hours,
        rota=RotaStore(db),
        replays=records.replays,
        keyring=db.keyring,
        metrics=metrics,
        clock=clock,
    )
    sessions = StaffSessions(db, records.keys)
    casework = Casework(db, records.conversations, records.outbox)
    return Services(
        settings,
        db,
        records,
        wording,
        metrics,
        gateway,
        mail,
        mail_sender,
        alerter,
        voice,
        live,
        casework,
        sessions,
        choices,
    )


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process is up and its event loop answers; and how many messages since
    start came from senders our upstream found forged (many: is INTAKE_MAIL_AUTHSERV_ID right,
    or is someone forging?)."""
    metrics = request.app[SERVICES].metrics
    unverified = int(metrics.value("intake_mail_unverified_total", channel="email"))
    return web.json_response({"status": "ok", "unverified_senders": unverified})


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
    open concerns and failed mail). Labels are states and channels, never personal.

    Only for the monitoring system: it shows when a concern has just been raised. With
    INTAKE_METRICS_TOKEN set, a request must bring it as a bearer token; without one, only
    this machine may ask."""
    services = request.app[SERVICES]
    if not _may_read_metrics(request, services.settings.metrics_token):
        return web.Response(status=403, text="forbidden\n")
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


def _may_read_metrics(request: web.Request, token: str | None) -> bool:
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return (request.remote or "") in LOOPBACK


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


def create_app(
    settings: Settings,
    *,
    risk: RiskAssessor | None = None,
    clock: Callable[[], datetime] = utcnow,
    smtp: bool = True,
    tune: Callable[[Services], None] | None = None,
) -> web.Application:
    """The whole gateway as one aiohttp application that owns its lifecycle: the database and
    the services, every worker, then the SMTP server, each an aiohttp cleanup context, started
    in that order and stopped in reverse. `intake serve` and the tests both run this.

    Routes are fixed before start; they reach the services through the app once they exist.
    `tune` lets a test adjust services (e.g. quicker retries) before anything runs.
    """
    app = web.Application(middlewares=[request_log, console_guard], client_max_size=1024 * 1024)

    async def services_context(app: web.Application) -> AsyncIterator[None]:
        db = await open_database(settings)
        try:
            services = build_services(
                settings, db, risk or load_risk_detector(settings), clock=clock
            )
            if tune is not None:
                tune(services)
            app[SERVICES] = services
            app[MAIL] = services.mail
            await services.choices.refresh()
            await services.voice.start()
            await services.live.start()
            yield
        finally:
            if SERVICES in app:
                await app[SERVICES].live.close()
            await db.close()

    app.cleanup_ctx.append(services_context)
    app.on_shutdown.append(_end_event_streams)
    for name, run in WORKERS:
        app.cleanup_ctx.append(_worker(name, run))
    if smtp:  # last in, first out: mail stops arriving before the workers stop
        app.cleanup_ctx.append(_smtp_context(settings))

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    for path in VOICE_ROUTES:
        app.router.add_post(path, _voice_route(path))
    app.router.add_post("/twilio/sms", _sms_route)
    app.router.add_post("/twilio/sms/status", _sms_status_route)
    for path in CALL_ROUTES:
        app.router.add_post(path, _call_route(path))
    register_consent_routes(app, settings.public_url)
    register_console(app, settings.timezone)
    return app


async def _end_event_streams(app: web.Application) -> None:
    """Open console event streams end first, so stopping the server does not wait for them."""
    if SERVICES in app:
        app[SERVICES].live.end_streams()


def _voice_route(path: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await request.app[SERVICES].voice.handlers[path](request)

    return handle


def _call_route(path: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        handlers = call_handlers(services.alerter, twilio_signature(services.settings, services.db))
        return await handlers[path](request)

    return handle


async def _sms_status_route(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    signature = twilio_signature(services.settings, services.db)
    return await sms_status_handler(services.alerter, signature)(request)


async def _sms_route(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    handler = sms_handler(services.alerter, twilio_signature(services.settings, services.db))
    return await handler(request)


def _smtp_context(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """The SMTP server on aiohttp's loop, started after the services and stopped before them."""
    try:
        tls = tls_context(settings.smtp_tls_cert, settings.smtp_tls_key)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot load the SMTP TLS certificate or key: {exc}") from None

    async def context(app: web.Application) -> AsyncIterator[None]:
        try:
            server = await start_smtp_server(
                app[SERVICES].mail,
                settings.smtp_host,
                settings.smtp_port,
                max_bytes=settings.mail_max_bytes,
                tls=tls,
            )
        except OSError as exc:
            raise SettingsError(f"cannot listen for mail: {exc.strerror or exc}") from None
        app[SMTP] = server
        try:
            yield
        finally:
            await server.close()

    return context


def _twilio(settings: Settings, kind: type[T]) -> T | None:
    """Alerts go by SMS (and calls) through the Twilio account; without one they wait,
    visibly (the email still goes)."""
    if not (
        settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_phone_number
    ):
        return None
    return kind(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_phone_number,
        settings.twilio_api_url,
    )


def twilio_signature(settings: Settings, db: Database) -> TwilioSignature:
    token = settings.twilio_auth_token or development_auth_token(db.keyring)
    return TwilioSignature(token, settings.public_url)


Worker = Callable[[Services, asyncio.Event], Awaitable[None]]


def _worker(name: str, run: Worker) -> Callable[[web.Application], AsyncIterator[None]]:
    """One background worker as a cleanup context: started with the app, asked to stop (and
    awaited) before the services it uses are closed."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(app[SERVICES], stop), name=name)
        yield
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    return context


async def _purge(services: Services, stop: asyncio.Event) -> None:
    """Holds nobody answered, webhook answers and reply counts past their time; closed
    conversations and decided concerns past their retention periods."""
    records = services.records
    purges = {
        "held": services.gateway.expire_holds,
        "webhook_replays": records.replays.purge_expired,
        "auto_reply_rate_limit": records.reply_limit.purge_expired,
        "outbox_expired": records.outbox.purge_expired,
        "reminders": services.gateway.remind_holds,
        "callbacks": records.callbacks.expire,
        "retention": Retention(
            services.db, services.settings.retention_days, services.settings.concern_retention_days
        ).purge_count,
    }
    await run_purge_worker(purges, services.settings.purge_interval, stop, services.metrics)


async def _follow_admin_choices(services: Services, stop: asyncio.Event) -> None:
    await services.choices.run(stop)


async def _send_mail(services: Services, stop: asyncio.Event) -> None:
    await services.mail_sender.run(stop)


async def _alert(services: Services, stop: asyncio.Event) -> None:
    """Alerts retried and escalated; the SMS client closed once the worker has stopped."""
    # often enough that a failed SMS or call is tried again within 30 seconds even if this
    # process restarted in between (the alerter's own timers do it sooner)
    interval = max(1.0, min(5.0, services.settings.escalate_after.total_seconds() / 4))
    try:
        await services.alerter.run(stop, interval)
    finally:
        await services.alerter.close()


async def _heartbeat(services: Services, stop: asyncio.Event) -> None:
    """Say every 30 seconds that this process runs and which key it seals under."""
    engine, key_id, started = services.db.engine, services.db.cipher.key_id.hex(), utcnow()
    name = key_material.process_name()
    try:
        while not stop.is_set():
            try:
                await key_material.beat(engine, name, key_id, started)
            except Exception as exc:  # noqa: BLE001 - a database outage: try again next time
                log_event(log, "heartbeat_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            await key_material.stop_beating(engine, name)


HEARTBEAT_SECONDS = 30.0
WORKERS = (
    ("purge-worker", _purge),
    ("outbox-sender", _send_mail),
    ("alert-worker", _alert),
    ("heartbeat", _heartbeat),
    ("warning-mailer", run_warning_mailer),
    ("admin-choices", _follow_admin_choices),
)


async def serve(settings: Settings, risk: RiskAssessor | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop accepting, finish workers and close the database.

    The risk detector is loaded first: without its model nothing is opened or listened on;
    then its workers (INTAKE_RISK_WORKERS), which longer texts are assessed in."""
    detector = risk or load_risk_detector(settings)
    workers = None
    if settings.risk_workers:
        workers = DetectorWorkers(detector, settings.risk_workers, settings.risk_model)
        await workers.start()
    app = create_app(settings, risk=workers or detector)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
    except OSError as exc:  # a port in use or an address we may not bind
        await _stop(runner, workers)
        raise SettingsError(f"cannot listen: {exc.strerror or exc}") from None
    except BaseException:
        await _stop(runner, workers)
        raise
    log_event(
        log,
        "serving",
        host=settings.http_host,
        port=settings.http_port,
        database=safe_url(settings.database_url).split(":", 1)[0],
    )
    # What start-up made (the risk model, spaCy's tables, routes, compiled statements) lives as
    # long as the process: out of the collector's sight, a full collection no longer scans it
    # (under load, such a pause held every request for 100 ms and more).
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log_event(log, "stopping")
    await _stop(runner, workers)
    log_event(log, "stopped")


async def _stop(runner: web.AppRunner, workers: DetectorWorkers | None) -> None:
    """The app first (it may still be assessing), then the detector's workers."""
    try:
        await runner.cleanup()
    finally:
        if workers is not None:
            await asyncio.to_thread(workers.close)
