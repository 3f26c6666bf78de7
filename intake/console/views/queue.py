"""The queue: concerns first (for the lead), then conversations nobody has claimed, then the
adviser's own; and the live event stream that tells an open queue to refresh itself."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from aiohttp_sse import sse_response

from intake.console.access import Can, may, requires
from intake.console.auth import COOKIE, SIGNED_IN
from intake.console.live import END
from intake.console.pages import render
from intake.console.views.erasure import DONE as ERASED
from intake.services import SERVICES
from storage.values import concern_reference, readable_phone

PING_SECONDS = 15.0  # keeps proxies from closing an idle stream, and rechecks the session


@requires(Can.SIGNED_IN)
async def home(request: web.Request) -> web.StreamResponse:
    signed_in = request[SIGNED_IN]
    if not may(signed_in.staff.role, Can.WORK_CASES):
        return render(request, "home.html", {})
    services = request.app[SERVICES]
    items = await services.casework.queue()
    concerns = []
    if may(signed_in.staff.role, Can.HANDLE_CONCERNS):
        concerns = [
            {
                "id": c.id,
                "ref": concern_reference(c.id),
                "severity": c.severity,
                "channel": c.channel,
                "raised_at": c.raised_at,
                "status": c.status,
                "parent_left": c.parent_left,
            }
            for c in await services.concerns.list()
            if c.status in ("open", "acknowledged")
        ]
        concerns.sort(key=lambda c: (c["status"] != "open", _TIER_ORDER.get(c["severity"], 3)))
    me = signed_in.staff.id
    sections = [
        (
            "Unclaimed conversations",
            [i for i in items if i.claimed_by is None],
            "No conversation is waiting to be picked up.",
        ),
        (
            "My conversations",
            [i for i in items if i.claimed_by == me],
            "You have not claimed any conversations.",
        ),
        (
            "Claimed by colleagues",
            [i for i in items if i.claimed_by not in (None, me)],
            "None.",
        ),
    ]
    callbacks = [
        {"id": c.id, "tel": c.phone, "phone": readable_phone(c.phone), "at": c.requested_at}
        for c in await services.records.callbacks.owed(me)
    ]
    done = {"called": CALLBACK_DONE, **ERASED}.get(request.query.get("done", ""))
    return render(
        request,
        "queue.html",
        {"concerns": concerns, "sections": sections, "callbacks": callbacks, "done": done},
    )


CALLBACK_DONE = "Thank you. The caller's number has been deleted."


@requires(Can.WORK_CASES)
async def callback_made(request: web.Request) -> web.StreamResponse:
    """An adviser rang a caller who kept no record: their number goes now, as promised."""
    services = request.app[SERVICES]
    await services.records.callbacks.made(request.match_info["id"], request[SIGNED_IN].staff.id)
    services.live.publish("conversation")
    raise web.HTTPSeeOther("/console/?done=called")


_TIER_ORDER = {"immediate": 0, "concern": 1, "review": 2}


@requires(Can.WORK_CASES)
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one line per change ("concern" or "conversation"), no content."""
    services = request.app[SERVICES]
    token = request.cookies.get(COOKIE)
    async with services.live.subscribe() as queue, sse_response(request) as stream:
        while stream.is_connected():
            with contextlib.suppress(TimeoutError):
                kind = await asyncio.wait_for(queue.get(), PING_SECONDS)
                if kind == END:
                    await stream.send("", event="end")
                    break
                await stream.send(kind, event="change")
                continue
            if await services.sessions.resolve(token, touch=False) is None:
                await stream.send("", event="end")
                break  # signed out or timed out: the stream ends with the session
            await stream.send("", event="ping")
    return stream
