"""System health, for the admin and the maintainer: enough to keep the service running, and
nothing that names a parent."""

from __future__ import annotations

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.pages import render
from intake.services import SERVICES
from storage.health import Health


@requires(Can.SEE_HEALTH)
async def health(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    report = await Health(services.db).report()
    return render(request, "health.html", {"report": report})
