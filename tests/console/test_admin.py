"""The admin's pages, over real HTTP as a browser without JavaScript uses them: staff accounts
(adding, a new role, a new password, disabling: each signs the person out at once) and the
on-call rota entered ahead as shifts. Nobody else may open or send any of them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.tables import AuditEntry
from storage.values import OnCallEntry, utcnow
from tests.console.conftest import PASSWORD, Console, StaffBrowser

STAFF = "/console/admin/staff"
ROTA = "/console/admin/rota"
NEW_PASSWORD = "a brand new password 2"
ANN = {"name": "Ann Adviser", "email": "ann@council.example", "role": "adviser"}


async def admin(console: Console) -> tuple[str, StaffBrowser]:
    admin_id = await console.add_staff("admin", "dana@council.example", "Dana Admin")
    return admin_id, await console.browser("dana@council.example")


async def adviser(console: Console) -> tuple[str, StaffBrowser]:
    ann_id = await console.add_staff("adviser", ANN["email"], ANN["name"])
    return ann_id, await console.browser(ANN["email"])


async def audit_trail(console: Console, subject_id: str) -> list[tuple[str, str]]:
    """(actor, action) of the audit entries about one record, oldest first."""
    async with console.services.db.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == subject_id).order_by(AuditEntry.id)
        )
        return [(row.actor, row.action) for row in rows]


def signed_out(page) -> bool:  # noqa: ANN001
    return page.status == 200 and "/console/sign-in" in page.url and "Sign in" in page.words


def local(day_offset: int, hour: int) -> datetime:
    """A time on a day to come, in the service's zone (the console reads times in it)."""
    zone = ZoneInfo("Europe/London")
    day = datetime.now(zone).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), zone)


def typed(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M}"  # what a datetime-local input sends


# -- staff accounts ----------------------------------------------------------------------------
async def test_admin_adds_an_adviser_who_can_then_sign_in(console: Console):
    admin_id, browser = await admin(console)
    page = await browser.get(STAFF)
    assert "Add a member of staff" in page.words and "Dana Admin" in page.words

    added = await browser.post(STAFF, {**ANN, "password": PASSWORD})
    assert added.status == 200 and "The account is added" in added.words
    assert "Ann Adviser" in added.words and "Adviser" in added.words
    listed = await browser.get(STAFF)
    assert "ann@council.example" in listed.words and "Active" in listed.words

    ann = await console.browser(ANN["email"])  # signs in, or the helper fails
    assert "Queue" in (await ann.get("/console/")).words
    [member] = [s for s in await console.services.staff.list() if s.email == ANN["email"]]
    trail = await audit_trail(console, member.id)
    assert trail[0] == (admin_id, "staff.add") and (member.id, "sign_in") in trail


async def test_an_account_added_without_a_password_cannot_sign_in_until_given_one(
    console: Console,
):
    _, browser = await admin(console)
    await browser.get(STAFF)
    added = await browser.post(STAFF, ANN)
    assert "Not set yet" in added.words and "No password yet" in (await browser.get(STAFF)).words
    ann = await console.browser()
    assert (await ann.sign_in(ANN["email"], "any password at all")).status == 401

    [member] = [s for s in await console.services.staff.list() if s.email == ANN["email"]]
    await browser.get(f"{STAFF}/{member.id}")
    await browser.post(f"{STAFF}/{member.id}/password", {"password": NEW_PASSWORD})
    signed_in = await ann.sign_in(ANN["email"], NEW_PASSWORD)
    assert signed_in.status == 200 and "/console/sign-in" not in signed_in.url


async def test_mistakes_are_shown_by_each_field_with_what_was_typed_and_nothing_is_saved(
    console: Console,
):
    _, browser = await admin(console)
    await browser.get(STAFF)
    wrong = await browser.post(
        STAFF, {"name": "", "email": "ann@council", "role": "boss", "password": "short"}
    )
    assert wrong.status == 400 and "There is a problem" in wrong.words
    for message in (
        "Enter their name",
        "Enter an email address in the right format",
        "Choose their role",
        "Password must be at least 12 characters",
    ):
        assert message in wrong.words
    assert 'value="ann@council"' in wrong.text and "short" not in wrong.text

    too_long = await browser.post(
        STAFF,
        {
            "name": "N" * 201,
            "email": "a" * 250 + "@council.example",
            "role": "adviser",
            "password": "p" * 201,
        },
    )
    assert too_long.status == 400
    for message in (
        "Name must be 200 characters or fewer",
        "Email address must be 254 characters or fewer",
        "Password must be 200 characters or fewer",
    ):
        assert message in too_long.words
    assert "N" * 201 in too_long.text  # kept as typed, not cut short

    await browser.post(STAFF, {**ANN, "password": PASSWORD})
    again = await browser.post(STAFF, {**ANN, "email": "ANN@council.example"})
    assert again.status == 400 and "already an account for this email address" in again.words
    assert len(await console.services.staff.list()) == 2


async def test_disabling_an_adviser_signs_them_out_at_once(console: Console):
    admin_id, browser = await admin(console)
    ann_id, ann = await adviser(console)
    assert (await ann.get("/console/")).status == 200

    await browser.get(f"{STAFF}/{ann_id}")
    done = await browser.post(f"{STAFF}/{ann_id}/disable")
    assert "The account is disabled" in done.words and "Enable account" in done.words
    assert signed_out(await ann.get("/console/"))
    refused = await ann.sign_in(ANN["email"])
    assert refused.status == 401

    enabled = await browser.post(f"{STAFF}/{ann_id}/enable")
    assert "They can sign in again" in enabled.words
    assert (await ann.sign_in(ANN["email"])).status == 200
    trail = [a for a in await audit_trail(console, ann_id) if a[0] == admin_id]
    assert trail == [(admin_id, "staff.disabled"), (admin_id, "staff.enabled")]


async def test_a_password_reset_signs_them_out_unlocks_them_and_the_old_password_stops_working(
    console: Console,
):
    admin_id, browser = await admin(console)
    ann_id, ann = await adviser(console)
    intruder = await console.browser()
    for _ in range(5):
        await intruder.sign_in(ANN["email"], "a wrong password!")
    assert (await console.services.staff.get(ann_id)).locked
    assert "Locked" in (await browser.get(STAFF)).words

    await browser.get(f"{STAFF}/{ann_id}")
    short = await browser.post(f"{STAFF}/{ann_id}/password", {"password": "too short"})
    assert short.status == 400 and "at least 12 characters" in short.words
    assert (await ann.get("/console/")).status == 200  # nothing changed yet

    done = await browser.post(f"{STAFF}/{ann_id}/password", {"password": NEW_PASSWORD})
    assert "Their password is reset" in done.words
    assert signed_out(await ann.get("/console/"))
    assert (await ann.sign_in(ANN["email"], PASSWORD)).status == 401
    assert "/console/sign-in" not in (await ann.sign_in(ANN["email"], NEW_PASSWORD)).url
    assert (admin_id, "staff.password_reset") in await audit_trail(console, ann_id)


async def test_a_new_role_signs_them_out_and_applies_when_they_sign_in_again(console: Console):
    admin_id, browser = await admin(console)
    ann_id, ann = await adviser(console)
    assert (await ann.get("/console/audit")).status == 403

    await browser.get(f"{STAFF}/{ann_id}")
    done = await browser.post(f"{STAFF}/{ann_id}/role", {"role": "safeguarding_lead"})
    assert "Their role is changed" in done.words and "Safeguarding lead" in done.words
    assert signed_out(await ann.get("/console/"))
    await ann.sign_in(ANN["email"])
    assert (await ann.get("/console/audit")).status == 200
    assert (admin_id, "staff.role_changed") in await audit_trail(console, ann_id)


async def test_an_admin_cannot_disable_themselves_or_give_up_their_own_admin_role(
    console: Console,
):
    admin_id, browser = await admin(console)
    page = await browser.get(f"{STAFF}/{admin_id}")
    assert "This is your own account" in page.words

    refused = await browser.post(f"{STAFF}/{admin_id}/disable")
    assert refused.status == 400 and "You cannot disable your own account" in refused.words
    refused = await browser.post(f"{STAFF}/{admin_id}/role", {"role": "adviser"})
    assert refused.status == 400 and "You cannot remove your own admin role" in refused.words
    assert (await browser.get(STAFF)).status == 200  # still signed in, still the admin
    changes = [a for a in await audit_trail(console, admin_id) if a[0] == admin_id]
    assert changes == [(admin_id, "sign_in")]  # refused: nothing changed, nothing audited


async def test_a_guessed_account_address_is_not_found(console: Console):
    _, browser = await admin(console)
    assert (await browser.get(f"{STAFF}/{'0' * 32}")).status == 404


async def test_advisers_leads_and_maintainers_are_refused_every_admin_page_and_form(
    console: Console,
):
    ann_id, _ = await adviser(console)
    await console.add_staff("safeguarding_lead", "lee@council.example", "Lee Lead")
    await console.add_staff("maintainer", "max@council.example", "Max Maintainer")
    shift = await console.services.rota.add_shift(
        "primary", "Lee Lead", "07911 000111", "lee@council.example", utcnow()
    )
    routes = [
        (route.method, route.resource.canonical)
        for route in console.gateway.http.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/console/admin/")
        and route.method in ("GET", "POST")
    ]
    assert len(routes) >= 10  # every page and form of the admin's
    for email in (ANN["email"], "lee@council.example", "max@council.example"):
        browser = await console.browser(email)
        csrf = (await browser.get("/console/")).csrf
        for method, path in routes:
            ids = {"{id}": shift.id if path.startswith(ROTA) else ann_id}
            for name, value in ids.items():
                path = path.replace(name, value)
            page = await (
                browser.get(path)
                if method == "GET"
                else browser.post(path, {"role": "admin", "password": NEW_PASSWORD}, csrf=csrf)
            )
            assert page.status == 403, (email, method, path)
            assert "Your role does not include this page" in page.words
    assert (await console.services.staff.get(ann_id)).role.value == "adviser"
    assert [s.id for s in await console.services.rota.shifts()] == [shift.id]


# -- the on-call rota --------------------------------------------------------------------------
SHIFT = {
    "slot": "primary",
    "name": "Sam Lead",
    "phone": "07911 000111",
    "email": "sam@council.example",
}


async def test_a_week_entered_ahead_is_who_the_alerts_go_to_that_week(console: Console):
    admin_id, browser = await admin(console)
    page = await browser.get(ROTA)
    assert "On call now" in page.words and "Nobody" in page.words

    start, end = local(7, 9), local(14, 9)
    done = await browser.post(ROTA, {**SHIFT, "starts": typed(start), "ends": typed(end)})
    assert done.status == 200 and "The shift is added" in done.words
    assert f"{start:%a} {start.day} {start:%b %Y}, 09:00" in done.words
    assert "+447911000111" in done.words

    rota = console.services.rota
    sam = OnCallEntry("primary", "Sam Lead", "+447911000111", "sam@council.example")
    assert (await rota.show(now=start + timedelta(days=2)))["primary"] == sam
    assert (await rota.show())["primary"] is None  # not yet
    [shift] = await rota.shifts()
    assert shift.starts_at == start and shift.ends_at == end  # read as local time
    assert await audit_trail(console, shift.id) == [(admin_id, "oncall.shift_added")]


async def test_an_overlapping_shift_is_refused_naming_the_clash_and_nothing_is_saved(
    console: Console,
):
    _, browser = await admin(console)
    await browser.get(ROTA)
    await browser.post(ROTA, {**SHIFT, "starts": typed(local(7, 9)), "ends": typed(local(14, 9))})
    clash = {
        **SHIFT,
        "name": "Alex Cover",
        "phone": "07911 000222",
        "email": "alex@council.example",
        "starts": typed(local(10, 9)),
        "ends": "",
    }
    refused = await browser.post(ROTA, clash)
    assert refused.status == 400 and "There is a problem" in refused.words
    assert "This overlaps Sam Lead's primary shift" in refused.words
    assert 'value="Alex Cover"' in refused.text and f'value="{clash["starts"]}"' in refused.text
    assert len(await console.services.rota.shifts()) == 1

    deputy = await browser.post(ROTA, {**clash, "slot": "deputy"})  # the other slot is free
    assert "The shift is added" in deputy.words


async def test_shift_mistakes_are_shown_by_their_fields(console: Console):
    _, browser = await admin(console)
    await browser.get(ROTA)
    wrong = await browser.post(
        ROTA,
        {
            "slot": "",
            "name": "N" * 201,
            "phone": "call me maybe",
            "email": "sam@",
            "starts": "next tuesday",
            "ends": typed(local(-3, 9)),
        },
    )
    assert wrong.status == 400
    for message in (
        "Choose primary or deputy",
        "Name must be 200 characters or fewer",
        "Enter a date and time",
    ):
        assert message in wrong.words
    ends_first = await browser.post(
        ROTA, {**SHIFT, "phone": "call me maybe", "starts": typed(local(2, 9)), "ends": ""}
    )
    assert "Enter a phone number, like 07700 900123" in ends_first.words
    backwards = await browser.post(
        ROTA, {**SHIFT, "starts": typed(local(2, 9)), "ends": typed(local(1, 9))}
    )
    assert "The end must be after the start" in backwards.words
    spring = await browser.post(ROTA, {**SHIFT, "starts": "2027-03-28T01:30", "ends": ""})
    assert "That time does not exist on that day: the clocks go forward" in spring.words
    assert await console.services.rota.shifts() == []


async def test_removing_the_current_shift_leaves_nobody_on_call_and_a_future_one_goes(
    console: Console,
):
    admin_id, browser = await admin(console)
    rota = console.services.rota
    await rota.set("primary", "Sam Lead", "07911 000111", "sam@council.example")
    later = await rota.add_shift(
        "deputy", "Pat Deputy", "07911 000333", "pat@council.example", local(3, 9)
    )
    page = await browser.get(ROTA)
    assert "On now" in page.words and "Until further notice" in page.words
    [current] = [s for s in await rota.shifts() if s.slot == "primary"]

    ended = await browser.post(f"{ROTA}/{current.id}/remove")
    assert "The shift has ended now" in ended.words
    assert (await rota.show())["primary"] is None
    removed = await browser.post(f"{ROTA}/{later.id}/remove")
    assert "The shift is removed" in removed.words and "No shifts on the rota" in removed.words
    gone = await browser.post(f"{ROTA}/{later.id}/remove")
    assert gone.status == 404 and "not on the rota any more" in gone.words
    assert (admin_id, "oncall.shift_ended") in await audit_trail(console, current.id)
    assert (admin_id, "oncall.shift_removed") in await audit_trail(console, later.id)


async def test_the_audit_log_shows_each_change_the_admin_made(console: Console):
    _, browser = await admin(console)
    ann_id, _ = await adviser(console)
    await browser.get(f"{STAFF}/{ann_id}")
    await browser.post(f"{STAFF}/{ann_id}/role", {"role": "maintainer"})
    await browser.post(f"{STAFF}/{ann_id}/password", {"password": NEW_PASSWORD})
    await browser.post(f"{STAFF}/{ann_id}/disable")
    await browser.get(ROTA)
    await browser.post(ROTA, {**SHIFT, "starts": typed(local(1, 9)), "ends": ""})

    staff_log = await browser.get("/console/audit?what=staff")
    for action in ("staff: role changed", "staff: password reset", "staff: disabled"):
        assert action in staff_log.words
    assert "Dana Admin" in staff_log.words and "Staff account: Ann Adviser" in staff_log.words
    rota_log = await browser.get("/console/audit?what=oncall")
    assert "oncall: shift added" in rota_log.words
