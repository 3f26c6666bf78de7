"""The audit log, with filters (who, what, when). The admin sees every entry; the safeguarding
lead sees those about concerns. Each entry names the member of staff and the reference of what
they viewed or changed, never what a parent said."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from intake.console.access import Can, may, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import render
from intake.services import SERVICES
from storage import audit
from storage.values import concern_reference

ACTIONS = {
    "": "Anything",
    "sign_in": "Signing in (and failures)",
    "conversation": "Conversations",
    "concern": "Concerns",
    "staff": "Staff accounts",
    "oncall": "On-call rota",
    "subject_access": "Subject access",
    "access.refused": "Refused pages",
}


@requires(Can.READ_AUDIT)
async def audit_log(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    me = request[SIGNED_IN].staff
    zone = ZoneInfo(services.settings.timezone)
    query = request.query
    errors, since, until = {}, None, None
    for name in ("from", "to"):
        raw = query.get(name, "").strip()
        if raw:
            try:
                day = datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time(), zone)
            except ValueError:
                errors[name] = "Enter a date like 2026-12-01"
                continue
            if name == "from":
                since = day
            else:
                until = day + timedelta(days=1)
    action = query.get("what", "")
    if action not in ACTIONS:
        action = ""
    everything = may(me.role, Can.ADMINISTER)
    async with services.db.sessions() as session:
        rows = await audit.search(
            session,
            actor=query.get("who") or None,
            action=action or None,
            since=since,
            until=until,
            subject_type=None if everything else "concern",
        )
    staff = await services.staff.list()
    names = {s.id: s.name for s in staff}
    entries = [
        {
            "at": entry.at,
            "who": name or _system(entry.actor),
            "action": entry.action.replace("_", " ").replace(".", ": "),
            "reference": _reference(entry.subject_type, entry.subject_id, names),
        }
        for entry, name in rows
    ]
    page = {
        "entries": entries,
        "staff": staff,
        "actions": ACTIONS,
        "chosen": {"who": query.get("who", ""), "what": action},
        "dates": {"from": query.get("from", ""), "to": query.get("to", "")},
        "errors": errors,
        "everything": everything,
    }
    return render(request, "audit.html", page, status=400 if errors else 200)


def _system(actor: str) -> str:
    return {"gateway": "The gateway", "cli": "Command line", "unknown": "Unknown email"}.get(
        actor, "The gateway" if len(actor) != 32 else "A former member of staff"
    )


def _reference(kind: str | None, subject: str | None, names: dict[str, str]) -> str:
    if not subject:
        return ""
    if kind == "staff":
        return f"Staff account: {names.get(subject, 'removed')}"
    if kind == "concern":
        return f"Concern {concern_reference(subject)}"
    if kind == "conversation":
        return f"Conversation {subject[:8].upper()}"
    return {"contact": "A parent (found by keyed hash)", "oncall": "On-call rota"}.get(
        kind or "", kind or ""
    )
