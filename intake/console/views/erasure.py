"""Erasure at a parent's request (the lead's), and a withdrawal of consent a parent tells an
adviser: a confirmation page that says plainly what goes and what must stay, a required reason,
then one button. The store keeps the policy's exception; this page says so before anyone
presses it."""

from __future__ import annotations

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import not_found, render
from intake.services import SERVICES
from storage.erasure import ErasureError

DONE = {
    "erased": "The parent's records are erased. What safeguarding must keep is kept, and the"
    " safeguarding lead can see that this happened.",
    "withdrawn": "Consent is withdrawn and the conversation is erased. Any safeguarding concern"
    " is kept, and the safeguarding lead is told.",
}


async def _confirm(request: web.Request, withdrawn: bool, **context: object) -> web.Response:
    services = request.app[SERVICES]
    conversation_id = request.match_info["id"]
    try:
        plan = await services.records.erasure.plan(conversation_id)
    except LookupError:
        return await not_found(request, "conversation")
    status = int(context.pop("status", 200))
    page = {"conversation_id": conversation_id, "plan": plan, "withdrawn": withdrawn, **context}
    return render(request, "erase.html", page, status=status)


async def _erase(request: web.Request, withdrawn: bool) -> web.StreamResponse:
    services = request.app[SERVICES]
    reason = str((await request.post()).get("reason", ""))
    try:
        plan = await services.records.erasure.erase(
            request.match_info["id"], request[SIGNED_IN].staff.id, reason, withdrawn=withdrawn
        )
    except ErasureError as exc:
        return await _confirm(
            request, withdrawn, errors={"reason": str(exc)}, reason=reason, status=400
        )
    except LookupError:
        return await not_found(request, "conversation")
    services.live.publish("conversation")
    if plan.concerns_kept:
        services.live.publish("concern")  # the lead's queue shows it
    raise web.HTTPSeeOther(f"/console/?done={'withdrawn' if withdrawn else 'erased'}")


@requires(Can.ERASE)
async def erase_page(request: web.Request) -> web.StreamResponse:
    return await _confirm(request, withdrawn=False)


@requires(Can.ERASE)
async def erase(request: web.Request) -> web.StreamResponse:
    return await _erase(request, withdrawn=False)


@requires(Can.WORK_CASES)
async def withdraw_page(request: web.Request) -> web.StreamResponse:
    return await _confirm(request, withdrawn=True)


@requires(Can.WORK_CASES)
async def withdraw(request: web.Request) -> web.StreamResponse:
    return await _erase(request, withdrawn=True)
