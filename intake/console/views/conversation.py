"""One conversation, as an adviser works it: every message in order, claim and unclaim, the
reply (through the outbox, threaded to the parent's email), internal notes, close and reopen.

A guessed id is a plain 404, audited: nothing says whether such a conversation exists.
"""

from __future__ import annotations

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import not_found, render
from intake.mail.compose import adviser_reply
from intake.services import SERVICES
from storage.casework import CaseError

DONE = {
    "claimed": "You have claimed this conversation.",
    "unclaimed": "You have unclaimed this conversation: it is back in the queue.",
    "closed": "The conversation is closed. A new message from the parent reopens it.",
    "reopened": "The conversation is open again.",
    "noted": "Your note is saved.",
    "replied": "Your reply is queued and will be sent by email shortly.",
}
RIGHTS_DONE = {
    "responsibility": "Parental responsibility is saved.",
    "permission": "The permission is recorded.",
    "permission_withdrawn": "The permission is withdrawn. You can no longer ask that organisation.",
    "requested": "The request is recorded.",
    "linked": "The enquiries are linked.",
    "unlinked": "The enquiries are no longer linked.",
    "referred": "The referral is saved. The parent's enquiry is in the queue.",
}


async def case_page(request: web.Request, **context: object) -> web.Response:
    """The conversation page; `context` adds a form's errors and values, and its status."""
    services = request.app[SERVICES]
    me = request[SIGNED_IN].staff
    conversation_id = request.match_info["id"]
    try:
        case = await services.casework.case(conversation_id, me.id)
    except LookupError:
        return await not_found(request, "conversation")
    status = int(context.pop("status", 200))
    done = DONE.get(request.query.get("done", "")) or RIGHTS_DONE.get(request.query.get("done", ""))
    rights = await services.records.rights.of(conversation_id)
    page = {"case": case, "can_reply": _replyable(case), "done": done, "rights": rights, **context}
    return render(request, "conversation.html", page, status=status)


def _replyable(case) -> bool:  # noqa: ANN001
    contact = case.item.contact
    return case.item.channel == "email" and contact is not None and contact.kind == "email"


@requires(Can.WORK_CASES)
async def conversation(request: web.Request) -> web.StreamResponse:
    return await case_page(request)


def _change(method: str, done: str):  # noqa: ANN202
    @requires(Can.WORK_CASES)
    async def view(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        conversation_id = request.match_info["id"]
        try:
            await getattr(services.casework, method)(conversation_id, request[SIGNED_IN].staff.id)
        except LookupError:
            return await case_page(request)
        raise web.HTTPSeeOther(f"/console/conversations/{conversation_id}?done={done}")

    return view


claim = _change("claim", "claimed")
unclaim = _change("unclaim", "unclaimed")
close = _change("close", "closed")
reopen = _change("reopen", "reopened")


@requires(Can.WORK_CASES)
async def note(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    text = str((await request.post()).get("note", ""))
    try:
        await services.casework.add_note(
            request.match_info["id"], request[SIGNED_IN].staff.id, text
        )
    except CaseError as exc:
        return await case_page(request, errors={"note": str(exc)}, note=text, status=400)
    except LookupError:
        return await case_page(request)
    raise web.HTTPSeeOther(f"/console/conversations/{request.match_info['id']}?done=noted")


@requires(Can.WORK_CASES)
async def reply(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    me = request[SIGNED_IN].staff
    conversation_id = request.match_info["id"]
    text = str((await request.post()).get("reply", ""))
    try:
        case = await services.casework.case(conversation_id, me.id)
    except LookupError:
        return await case_page(request)
    if not _replyable(case):
        return await case_page(
            request, errors={"reply": "This parent can only be answered by phone"}, status=400
        )
    settings = services.settings
    details = case.details
    payload = adviser_reply(
        text,
        adviser=me.name,
        sender=settings.mail_address,
        token=details.get("thread_ref", ""),
        domain=settings.mail_address.rpartition("@")[2] or "localhost",
        in_reply_to=details.get("reply_to"),
    )
    try:
        await services.casework.reply(
            conversation_id, me.id, text, case.item.contact.value, payload
        )
    except CaseError as exc:
        return await case_page(request, errors={"reply": str(exc)}, reply=text, status=400)
    services.mail_sender.wake()
    raise web.HTTPSeeOther(f"/console/conversations/{conversation_id}?done=replied")
