"""A referral from someone else (a school, a health visitor): "New referral" on the queue.

Kept only with the parent's permission, which the referrer passed on: without the box ticked
nothing is stored and the form says why. With it, the parent's enquiry opens in the queue, its
consent recorded as given through the referrer (who, and how)."""

from __future__ import annotations

import secrets

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import render
from intake.services import SERVICES
from storage.values import Channel, Contact, InvalidContact

MAX = 2_000
NO_PERMISSION = (
    "Tick the box only if the parent has given permission for this referral. Without their"
    " permission we cannot keep anything about them: nothing has been saved. The referrer can"
    " give the parent our number or email instead."
)


@requires(Can.WORK_CASES)
async def referral_page(request: web.Request, **context: object) -> web.StreamResponse:
    status = int(context.pop("status", 200))
    return render(request, "referral.html", context, status=status)


def _contact(raw: str) -> Contact:
    if "@" in raw:
        return Contact.email(raw)
    return Contact.phone(raw)


@requires(Can.WORK_CASES)
async def referral(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    form = await request.post()
    fields = {
        k: " ".join(str(form.get(k, "")).split()) for k in ("referrer", "contact", "reason", "how")
    }
    permission = form.get("permission") == "yes"
    errors: dict[str, str] = {}
    if not permission:
        errors["permission"] = NO_PERMISSION
    if not fields["referrer"]:
        errors["referrer"] = "Enter who is referring the parent, for example the school's SENCo"
    contact = None
    try:
        contact = _contact(fields["contact"])
    except InvalidContact:
        errors["contact"] = (
            "Enter the parent's email address, like name@example.org, or a UK phone number,"
            " like 07700 900123"
        )
    if not fields["reason"]:
        errors["reason"] = "Enter the reason for the referral"
    if permission and not fields["how"]:
        errors["how"] = (
            "Enter how the parent gave permission, for example 'in a meeting on 1 December'"
        )
    if any(len(v) > MAX for v in fields.values()):
        errors.setdefault("reason", f"Each answer must be {MAX} characters or fewer")
    if errors:
        return await referral_page(request, errors=errors, **fields, status=400)
    channel = Channel.EMAIL if contact.kind == "email" else Channel.WEB
    consent = services.gateway.referral_consent(channel, secrets.token_urlsafe(16), fields["how"])
    conversation_id = await services.records.referrals.record(
        consent,
        contact=contact,
        referrer=fields["referrer"],
        reason=fields["reason"],
        staff_id=request[SIGNED_IN].staff.id,
    )
    services.live.publish("conversation")
    raise web.HTTPSeeOther(f"/console/conversations/{conversation_id}?done=referred")
