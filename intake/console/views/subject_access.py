"""Subject access in the console (the safeguarding lead's): find a parent by phone or email and
see everything held about them, as `intake sar` gives it, with "Download JSON" and a printable
page. Items tied to a safeguarding concern are listed as withheld until the lead releases them.

The contact is sent by POST, never in a URL (addresses and numbers stay out of logs and
history); every export is audited by the store."""

from __future__ import annotations

import json

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import render, security_headers
from intake.services import SERVICES
from storage.concerns import NotPermitted
from storage.values import Contact, InvalidContact

NOT_A_CONTACT = (
    "Enter the parent's email address, like name@example.org, or a UK phone number, like"
    " 07700 900123"
)


def _contact(raw: str) -> Contact:
    raw = raw.strip()
    if not raw:
        raise InvalidContact("empty")
    return Contact.email(raw) if "@" in raw else Contact.phone(raw)


@requires(Can.SUBJECT_ACCESS)
async def page(request: web.Request) -> web.StreamResponse:
    return render(request, "subject_access.html", {})


async def _export(request: web.Request, raw: str) -> dict | web.Response:
    try:
        contact = _contact(raw)
    except InvalidContact:
        page = {"errors": {"contact": NOT_A_CONTACT}, "contact": raw}
        return render(request, "subject_access.html", page, status=400)
    me = request[SIGNED_IN].staff
    return await request.app[SERVICES].records.access.export(contact, me.id, me.role)


@requires(Can.SUBJECT_ACCESS)
async def find(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    raw = str(form.get("contact", ""))
    held = await _export(request, raw)
    if isinstance(held, web.Response):
        return held
    done = "Released. Those items are now included below." if form.get("released") else None
    return render(request, "subject_access.html", {"held": held, "contact": raw, "done": done})


@requires(Can.SUBJECT_ACCESS)
async def download(request: web.Request) -> web.StreamResponse:
    held = await _export(request, str((await request.post()).get("contact", "")))
    if isinstance(held, web.Response):
        return held
    response = web.Response(
        text=json.dumps(held, indent=2, ensure_ascii=False),
        content_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="subject-access.json"'},
    )
    security_headers(response)
    return response


@requires(Can.SUBJECT_ACCESS)
async def release(request: web.Request) -> web.StreamResponse:
    """The lead decides a withheld concern's items may be given in answer to this request."""
    services = request.app[SERVICES]
    form = await request.post()
    me = request[SIGNED_IN].staff
    ref = str(form.get("ref", "")).strip().upper()
    found = [c for c in await services.concerns.list() if c.id[:8].upper() == ref]
    if len(found) == 1:
        try:
            await services.concerns.release_for_access(found[0].id, me.role, me.id)
        except NotPermitted:
            raise web.HTTPForbidden() from None
    return await find(request)
