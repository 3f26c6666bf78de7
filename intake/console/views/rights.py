"""The policy's rights on a conversation, as controls an adviser cannot get wrong: parental
responsibility, permissions to ask other organisations, requests made under them, and links
between two parents' enquiries. The store refuses what the policy does not allow; these views
turn its refusals into the page's error messages."""

from __future__ import annotations

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import not_found, render
from intake.console.views.conversation import case_page
from intake.mail.compose import information_request
from intake.services import SERVICES
from storage.rights import RightsError
from storage.values import InvalidContact, normalise_email


def _back(request: web.Request, done: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/console/conversations/{request.match_info['id']}?done={done}")


@requires(Can.WORK_CASES)
async def responsibility(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    rights = request.app[SERVICES].records.rights
    try:
        await rights.record_responsibility(
            request.match_info["id"], form.get("responsibility") == "yes", _me(request)
        )
    except LookupError:
        return await not_found(request, "conversation")
    raise _back(request, "responsibility")


@requires(Can.WORK_CASES)
async def permission(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    organisation, purpose = str(form.get("organisation", "")), str(form.get("purpose", ""))
    rights = request.app[SERVICES].records.rights
    try:
        await rights.record_permission(
            request.match_info["id"], organisation, purpose, _me(request)
        )
    except RightsError as exc:
        return await case_page(
            request,
            errors={"organisation": str(exc)},
            organisation=organisation,
            purpose=purpose,
            status=400,
        )
    except LookupError:
        return await not_found(request, "conversation")
    raise _back(request, "permission")


@requires(Can.WORK_CASES)
async def withdraw_permission(request: web.Request) -> web.StreamResponse:
    rights = request.app[SERVICES].records.rights
    try:
        await rights.withdraw_permission(
            request.match_info["id"], request.match_info["permission"], _me(request)
        )
    except RightsError as exc:
        return await case_page(request, errors={"permissions": str(exc)}, status=400)
    raise _back(request, "permission_withdrawn")


@requires(Can.WORK_CASES)
async def request_page(request: web.Request, **context: object) -> web.StreamResponse:
    """ "Request information" of one organisation: offered only while the policy allows it."""
    services = request.app[SERVICES]
    conversation_id = request.match_info["id"]
    rights = await services.records.rights.of(conversation_id)
    found = [p for p in rights.permissions if p.id == request.match_info["permission"]]
    if not found or not rights.may_ask(found[0].id):
        return await case_page(
            request,
            errors={
                "permissions": "You can ask an organisation only when parental responsibility"
                " and the parent's permission for that organisation are recorded"
            },
            status=403 if found else 404,
        )
    status = int(context.pop("status", 200))
    page = {"conversation_id": conversation_id, "permission": found[0], **context}
    return render(request, "request_information.html", page, status=status)


@requires(Can.WORK_CASES)
async def request_information_(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    form = await request.post()
    asked, email = str(form.get("asked", "")).strip(), str(form.get("email", "")).strip()
    conversation_id, permission_id = request.match_info["id"], request.match_info["permission"]
    outgoing = None
    rights = await services.records.rights.of(conversation_id)
    if email:
        try:
            address = normalise_email(email)
        except InvalidContact:
            return await request_page(
                request,
                errors={"email": "Enter the organisation's email address, like name@example.org"},
                asked=asked,
                email=email,
                status=400,
            )
        organisation = next(
            (p.organisation for p in rights.permissions if p.id == permission_id), ""
        )
        me = request[SIGNED_IN].staff
        settings = services.settings
        outgoing = (
            address,
            information_request(
                asked,
                organisation=organisation,
                adviser=me.name,
                sender=settings.mail_address,
                domain=settings.mail_address.rpartition("@")[2] or "localhost",
            ),
        )
    try:
        await services.records.rights.request_information(
            conversation_id, permission_id, asked, _me(request), outgoing
        )
    except RightsError as exc:
        return await request_page(
            request, errors={"asked": str(exc)}, asked=asked, email=email, status=400
        )
    if outgoing:
        services.mail_sender.wake()
    raise _back(request, "requested")


@requires(Can.WORK_CASES)
async def link_page(request: web.Request, **context: object) -> web.StreamResponse:
    """ "Link to another enquiry": the other enquiry chosen from the queue, with a reason."""
    services = request.app[SERVICES]
    conversation_id = request.match_info["id"]
    items = [i for i in await services.casework.queue() if i.id != conversation_id]
    status = int(context.pop("status", 200))
    page = {"conversation_id": conversation_id, "items": items, **context}
    return render(request, "link_enquiry.html", page, status=status)


@requires(Can.WORK_CASES)
async def link(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    other, reason = str(form.get("other", "")), str(form.get("reason", ""))
    rights = request.app[SERVICES].records.rights
    try:
        await rights.link(request.match_info["id"], other, reason, _me(request))
    except RightsError as exc:
        field = "reason" if "reason" in str(exc) else "other"
        return await link_page(
            request, errors={field: str(exc)}, other=other, reason=reason, status=400
        )
    except LookupError:
        return await not_found(request, "conversation")
    raise _back(request, "linked")


@requires(Can.WORK_CASES)
async def unlink(request: web.Request) -> web.StreamResponse:
    rights = request.app[SERVICES].records.rights
    try:
        await rights.unlink(request.match_info["id"], request.match_info["link"], _me(request))
    except RightsError as exc:
        return await case_page(request, errors={"links": str(exc)}, status=400)
    raise _back(request, "unlinked")


def _me(request: web.Request) -> str:
    return request[SIGNED_IN].staff.id
