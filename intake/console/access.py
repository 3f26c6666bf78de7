"""Who may do what in the console: the one table, checked for every route.

Why one place: the policy's limits on staff (an adviser never sees a concern's evidence; the
maintainer keeps the system running and sees no parent's words, address, number or name) must
hold on every page. Each view declares the capability it needs with `@requires`; the console's
middleware refuses, with 403 and an audit entry, anyone whose role lacks it, and a test fails
if a console route declares none.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable

from aiohttp import web

from storage.values import Role


class Can(enum.StrEnum):
    WORK_CASES = "work_cases"  # the queue, a conversation's words and contact, claim, reply
    HANDLE_CONCERNS = "handle_concerns"  # a concern's evidence, chronology, ack, decision
    SUBJECT_ACCESS = "subject_access"  # find a parent, see all that is held, release, export
    ERASE = "erase"  # erase a parent's records (keeping what safeguarding must keep)
    ADMINISTER = "administer"  # staff accounts and the rota
    READ_AUDIT = "read_audit"  # the audit log (the lead: concerns only)
    SEE_HEALTH = "see_health"  # queues, outbox, workers, database: no personal data
    SIGNED_IN = "signed_in"  # pages for anyone signed in (home, second factor, sign out)


ALLOWED: dict[Role, frozenset[Can]] = {
    Role.ADVISER: frozenset({Can.WORK_CASES, Can.SIGNED_IN}),
    Role.SAFEGUARDING_LEAD: frozenset(
        {
            Can.WORK_CASES,
            Can.HANDLE_CONCERNS,
            Can.SUBJECT_ACCESS,
            Can.ERASE,
            Can.READ_AUDIT,
            Can.SIGNED_IN,
        }
    ),
    Role.ADMIN: frozenset({Can.ADMINISTER, Can.READ_AUDIT, Can.SEE_HEALTH, Can.SIGNED_IN}),
    Role.MAINTAINER: frozenset({Can.SEE_HEALTH, Can.SIGNED_IN}),
}
PUBLIC = "public"  # the sign-in page and the stylesheets
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def may(role: Role, capability: Can) -> bool:
    return capability in ALLOWED.get(role, frozenset())


def requires(capability: Can | str) -> Callable[[Handler], Handler]:
    """Mark a view with what it needs; the middleware enforces it before the view runs."""

    def mark(view: Handler) -> Handler:
        view.capability = capability  # type: ignore[attr-defined]
        return view

    return mark


def capability_of(handler: object) -> Can | str | None:
    return getattr(handler, "capability", None)
