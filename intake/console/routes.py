"""The console's routes, templates and static files, added to the gateway's aiohttp app.

Every route here is checked by intake.console.auth.console_guard against the capability its
view declares (intake.console.access)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from intake.console import auth
from intake.console.access import PUBLIC, requires
from intake.console.pages import setup_templates
from intake.console.views import (
    admin,
    admin_hours,
    admin_wording,
    audit,
    case_study,
    concern,
    conversation,
    erasure,
    health,
    queue,
    referral,
    rights,
    second_factor,
    subject_access,
)

STATIC = Path(__file__).resolve().parent / "static"
CONVERSATION = "/console/conversations/{id:[0-9a-f]{1,32}}"
CONCERN = "/console/concerns/{id:[0-9a-fA-F]{1,32}}"


def register_console(app: web.Application, zone: str = "Europe/London") -> None:
    setup_templates(app, zone)
    add = app.router
    add.add_get("/console", _to_console)
    add.add_get("/console/", queue.home)
    add.add_get("/console/sign-in", auth.sign_in_page)
    add.add_post("/console/sign-in", auth.sign_in)
    add.add_post("/console/sign-out", auth.sign_out)
    add.add_get("/console/events", queue.events)
    add.add_post("/console/callbacks/{id}/made", queue.callback_made)
    add.add_get("/console/referrals/new", referral.referral_page)
    add.add_post("/console/referrals", referral.referral)
    add.add_get("/console/subject-access", subject_access.page)
    add.add_post("/console/subject-access", subject_access.find)
    add.add_post("/console/subject-access/download", subject_access.download)
    add.add_post("/console/subject-access/release", subject_access.release)
    for path, view in (
        ("responsibility", rights.responsibility),
        ("permissions", rights.permission),
        ("permissions/{permission}/withdraw", rights.withdraw_permission),
        ("permissions/{permission}/request", rights.request_information_),
        ("link", rights.link),
        ("links/{link}/unlink", rights.unlink),
        ("erase", erasure.erase),
        ("withdraw", erasure.withdraw),
    ):
        add.add_post(f"{CONVERSATION}/{path}", view)
    add.add_get(f"{CONVERSATION}/permissions/{{permission}}/request", rights.request_page)
    add.add_get(f"{CONVERSATION}/link", rights.link_page)
    add.add_get(f"{CONVERSATION}/erase", erasure.erase_page)
    add.add_get(f"{CONVERSATION}/withdraw", erasure.withdraw_page)
    add.add_get(CONVERSATION, conversation.conversation)
    for verb in ("claim", "unclaim", "close", "reopen", "note", "reply"):
        add.add_post(f"{CONVERSATION}/{verb}", getattr(conversation, verb))
    case_study.register(add)
    add.add_get(CONCERN, concern.concern)
    add.add_post(f"{CONCERN}/acknowledge", concern.acknowledge)
    add.add_post(f"{CONCERN}/decision", concern.decide)
    add.add_get("/console/audit", audit.audit_log)
    add.add_get("/console/health", health.health)
    admin.register(add)
    admin_hours.register(add)
    admin_wording.register(add)
    second_factor.register(add)
    add.add_static("/console/static/", STATIC, append_version=False)
    add.add_static("/assets/", STATIC / "moj" / "assets")  # MoJ's stylesheet asks for /assets/


@requires(PUBLIC)
async def _to_console(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/console/")
