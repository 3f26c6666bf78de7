"""A safeguarding concern, for the lead: the excerpt with the words that raised it marked, its
tier, categories and explanation, the contact kept for acting on it, the alert chronology,
"Acknowledge" (as the SMS ACK does) and the decision with its reason."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import not_found, render
from intake.services import SERVICES
from storage.concerns import DECISIONS
from storage.values import concern_reference

CATEGORY_NAMES = {
    "physical_abuse": "Physical abuse",
    "sexual_abuse": "Sexual abuse",
    "neglect": "Neglect",
    "emotional_abuse": "Emotional abuse",
    "domestic_abuse": "Domestic abuse",
    "self_harm": "Self-harm or suicide",
    "exploitation": "Exploitation",
    "grooming": "Grooming",
    "missing": "Missing child",
    "fgm": "Female genital mutilation",
    "forced_marriage": "Forced marriage",
    "radicalisation": "Radicalisation",
    "institutional_abuse": "Abuse in a school or care setting",
    "unexplained_injury": "Unexplained injury",
    "parental_crisis": "A parent in crisis",
    "bullying": "Bullying",
    "unclassified_concern": "Not classified",
}
MAX_REASON = 5_000
DONE = {
    "acknowledged": "Acknowledged. No more alerts will be sent and nothing escalates.",
    "decided": "Your decision is recorded.",
}


def shown_marks(marks: tuple[tuple, ...]) -> list[tuple]:
    """What to mark for the lead: the rules' phrases where there are any (they are exact);
    otherwise the sentences the model found. The model's single words are left unmarked: on
    their own ("since", "partner") they explain nothing to a person."""
    ruled = [m for m in marks if not str(m[3]).startswith("model.")]
    return ruled or [m for m in marks if m[3] == "model.sentence"]


def segments(text: str, marks: tuple[tuple, ...]) -> list[tuple[str, str | None]]:
    """The excerpt in pieces, each marked with its category where it raised the concern."""
    pieces, at = [], 0
    for start, end, category, _rule in sorted(shown_marks(marks)):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        if start > at:
            pieces.append((text[at:start], None))
        pieces.append((text[start:end], CATEGORY_NAMES.get(category, category)))
        at = end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


async def _concern(request: web.Request, status: int = 200, **context: object) -> web.Response:
    services = request.app[SERVICES]
    me = request[SIGNED_IN].staff
    concern_id = await services.concerns.resolve(request.match_info["id"])
    if concern_id is None:
        return await not_found(request, "concern")
    detail = await services.concerns.read(concern_id, me.role, me.id)  # audited
    summary = detail.summary
    decision = None
    if detail.decision:
        staff = {s.id: s.name for s in await services.staff.list()}
        decision = {
            "label": DECISIONS.get(detail.decision.get("kind") or "", "Decision"),
            "reason": detail.decision.get("reason", ""),
            "reference": detail.decision.get("reference", ""),
            "by": staff.get(detail.decision.get("by") or "", "the safeguarding lead"),
            "at": _when(detail.decision.get("at")),
        }
    page = {
        "ref": concern_reference(summary.id),
        "summary": summary,
        "detail": detail,
        "categories": [CATEGORY_NAMES.get(c, c) for c in summary.categories],
        "explanation": _explanation(detail),
        "segments": segments(detail.evidence, detail.evidence_marks),
        "chronology": await services.concerns.chronology(summary.id),
        "conversation_id": await services.concerns.conversation_for(summary.id),
        "status_text": _status(summary.status),
        "decision": decision,
        "decisions": list(DECISIONS.items()),
        "done": DONE.get(request.query.get("done", "")),
        **context,
    }
    return render(request, "concern.html", page, status=status)


def _when(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None


def _status(status: str) -> str:
    return {
        "open": "Not yet acknowledged: alerts are being sent",
        "acknowledged": "Acknowledged",
        "decided": "Decided",
    }.get(status, status)


def _explanation(detail) -> str:  # noqa: ANN001
    """Why it was flagged, in words: the phrases the rules found, and whether the model did."""
    found = [
        f"“{detail.evidence[start:end]}” ({CATEGORY_NAMES.get(category, category).lower()})"
        for start, end, category, rule in sorted(detail.evidence_marks)
        if not str(rule).startswith("model.")
    ]
    named = [r for r in detail.rules if not r.startswith("model.")]
    if found:
        because = "The rules found " + ", ".join(dict.fromkeys(found))
    elif named:
        because = "The rules matched " + ", ".join(named)
    else:
        because = ""
    if detail.model_version:
        model = f"the risk model ({detail.model_version})"
        because = f"{because}, and {model} agreed" if because else f"{model.capitalize()} found it"
    return (because or "Flagged") + "."


@requires(Can.HANDLE_CONCERNS)
async def concern(request: web.Request) -> web.StreamResponse:
    return await _concern(request)


@requires(Can.HANDLE_CONCERNS)
async def acknowledge(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    me = request[SIGNED_IN].staff
    concern_id = await services.concerns.resolve(request.match_info["id"])
    if concern_id is None:
        return await _concern(request)
    await services.concerns.acknowledge(concern_id, f"{me.name} (console)", actor=me.id)
    services.live.publish("concern")
    raise web.HTTPSeeOther(f"/console/concerns/{concern_id}?done=acknowledged")


@requires(Can.HANDLE_CONCERNS)
async def decide(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    me = request[SIGNED_IN].staff
    concern_id = await services.concerns.resolve(request.match_info["id"])
    if concern_id is None:
        return await _concern(request)
    form = await request.post()
    kind = str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()
    reference = str(form.get("reference", "")).strip()
    errors = {}
    if kind not in DECISIONS:
        errors["decision"] = "Choose what was decided"
    if not reason:
        errors["reason"] = "Give the reason for the decision"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"The reason must be {MAX_REASON:,} characters or fewer"
    if kind == "referred" and not reference:
        errors["reference"] = "Enter children's services' reference for the referral"
    elif len(reference) > 100:
        errors["reference"] = "The reference must be 100 characters or fewer"
    if errors:
        kept = {"chosen": kind, "reason": reason, "reference": reference}
        return await _concern(request, status=400, errors=errors, **kept)
    await services.concerns.decide(concern_id, me, kind, reason, reference)
    services.live.publish("concern")
    raise web.HTTPSeeOther(f"/console/concerns/{concern_id}?done=decided")
