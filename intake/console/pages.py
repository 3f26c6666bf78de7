"""Rendering a console page: the template, what every page needs (who is signed in, the form
token, the navigation, the warnings), and the headers every console response carries.

Templates autoescape everything, so a parent's text (or a member of staff's) is always shown as
text: no HTML of theirs is ever rendered.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp_jinja2
import jinja2
from aiohttp import web

from intake.console.access import Can, may
from intake.services import SERVICES
from storage.values import utcnow

SERVICES_KEY = SERVICES
WARNINGS = web.RequestKey("warnings", list)  # what the lead and the admin must act on
TEMPLATES = Path(__file__).resolve().parent / "templates"
SERVICE_NAME = "Parent Partnership Service"
_HEADERS = {
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on every
    # form, and the guard could not tell our own pages from another site's. Nothing is sent to
    # other sites either way.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def security_headers(response: web.StreamResponse) -> None:
    if response.prepared:  # a live event stream: its headers went with its first byte
        return
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    if response.content_type.startswith(("text/css", "application/javascript", "image/")):
        response.headers["Cache-Control"] = "max-age=3600"


def setup_templates(app: web.Application, zone: str = "Europe/London") -> None:
    """Times are shown in the service's own zone (INTAKE_TIMEZONE), as advisers read them."""
    try:
        local = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):  # start-up refuses it in one line, later
        local = ZoneInfo("UTC")
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    )
    env.filters["local"] = lambda value, fmt="%d %b %Y %H:%M": _local_time(value, local, fmt)
    env.filters["age"] = _age


def render(request: web.Request, template: str, context: dict, status: int = 200) -> web.Response:
    from intake.console.auth import SIGNED_IN, csrf_token  # the guard sets who is signed in

    services = request.app[SERVICES]
    signed_in = request.get(SIGNED_IN)
    role = signed_in.staff.role if signed_in else None
    page = {
        "service_name": SERVICE_NAME,
        "me": signed_in.staff if signed_in else None,
        "csrf": csrf_token(services.db.keyring.signing_key, signed_in.id) if signed_in else "",
        "can": {c.value: role is not None and may(role, c) for c in Can},
        "path": request.path,
        "warnings": request.get(WARNINGS, []),
        "errors": {},
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    security_headers(response)
    return response


def _local_time(value: datetime | None, zone: ZoneInfo, fmt: str) -> str:
    return "" if value is None else value.astimezone(zone).strftime(fmt)


def _age(value: datetime | None) -> str:
    """How long ago, in words a tired adviser reads at a glance."""
    if value is None:
        return ""
    seconds = max(0, int((utcnow() - value).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = hours // 24
    return f"{days} days ago"


async def not_found(request: web.Request, kind: str) -> web.Response:
    """A guessed or stale id: a plain 404 that says nothing about what exists, audited."""
    from intake.console.auth import SIGNED_IN
    from storage import audit

    services = request.app[SERVICES]
    async with services.db.transaction() as session:
        staff = request[SIGNED_IN].staff.id
        await audit.record(session, staff, f"{kind}.not_found", kind, None)
    text = f"There is no {kind} at this address."
    return render(request, "refused.html", {"heading": "Page not found", "text": text}, 404)
