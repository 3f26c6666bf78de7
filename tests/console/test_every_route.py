"""Every console route, for every role, against the one access table: a GET opens for exactly
the roles whose capability it needs, and a POST from a role without it is refused with 403 and
changes nothing. New routes are covered as they are added, since the list comes from the app."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from intake.console.access import PUBLIC, may
from storage.tables import AuditEntry, Concern, Conversation, Message, OutboxItem, Staff
from storage.values import Role
from tests.console.conftest import Console

SKIP = {"/console/events"}  # a stream that stays open; its refusal is tested in test_access


async def _routes(console: Console) -> list[tuple[str, str, object]]:
    app = console.gateway.http.app
    found = []
    for route in app.router.routes():
        resource = route.resource
        path = resource.canonical if resource else ""
        if not path.startswith("/console/") or path.startswith("/console/static"):
            continue
        need = getattr(route.handler, "capability", None)
        if need in (None, PUBLIC, "second_factor") or path in SKIP:
            continue
        found.append((route.method, path, need))
    return found


def _concrete(path: str, ids: dict[str, str]) -> str:
    kind = "staff" if "/admin/staff/" in path else "shift" if "/admin/rota/" in path else None
    kind = kind or ("concern" if "/concerns/" in path else "conversation")
    path = re.sub(r"\{id(:[^}]*)?\}", ids[kind], path)
    return re.sub(r"\{\w+(:[^}]*)?\}", "0" * 32, path)  # a second id (a permission, a link)


async def _state(console: Console) -> tuple:
    """Everything a refused POST must leave as it was (the audit log may only grow)."""
    async with console.services.db.sessions() as session:
        counts = []
        for table in (Conversation, Message, OutboxItem, Concern, Staff):
            counts.append(await session.scalar(select(func.count()).select_from(table)))
        rows = (
            await session.execute(select(Conversation.claimed_by, Conversation.case_closed_at))
        ).all()
        concerns = (await session.execute(select(Concern.status))).all()
        staff = (await session.execute(select(Staff.role, Staff.active))).all()
    return tuple(counts), sorted(map(tuple, rows), key=str), sorted(concerns), sorted(staff)


@pytest.mark.parametrize("role", list(Role))
async def test_every_route_for_every_role(console: Console, role: Role):
    conversation_id = await console.consented_email("Please help, my partner hits my son")
    [concern] = await console.services.concerns.list()
    shift = await console.services.rota.set(
        "primary", "Lee Lead", "07911000111", "lee@council.example"
    )
    assert shift is not None
    [current] = await console.services.rota.shifts()
    email = f"{role.value}@council.example"
    me = await console.add_staff(role.value, email, f"Someone {role.value}")
    ids = {"conversation": conversation_id, "concern": concern.id, "staff": me, "shift": current.id}
    browser = await console.browser(email)
    checked = refusals = 0
    for method, path, need in await _routes(console):
        url = _concrete(path, ids)
        allowed = may(role, need)
        if method == "GET":
            page = await browser.get(url)
            assert (page.status != 403) == allowed, (role, url, page.status)
            checked, refusals = checked + 1, refusals + (not allowed)
        elif method == "POST" and not allowed:
            await browser.get("/console/")  # a real token for this session
            before = await _state(console)
            page = await browser.post(url, {"reply": "x", "note": "x", "role": "admin"})
            assert page.status == 403, (role, url, page.status)
            assert await _state(console) == before, (role, url)
            checked, refusals = checked + 1, refusals + 1
    assert checked >= 10
    async with console.services.db.sessions() as session:
        refused = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "access.refused", AuditEntry.actor == me
            )
        )
    assert refused == refusals  # every refusal is in the audit log
