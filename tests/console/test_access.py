"""Who sees what, enforced in one place and tested for every route: each console route declares
what it needs; each role gets exactly its pages; sessions end when they should; wrong passwords
lock an account, durably."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.app import create_app
from intake.console.access import ALLOWED, PUBLIC, Can, capability_of
from intake.settings import Settings
from storage.tables import AuditEntry
from storage.values import Role
from tests.console.conftest import PASSWORD, Console

PAGES = {  # a GET of each page, and who may open it
    "/console/audit": {Role.SAFEGUARDING_LEAD, Role.ADMIN},
    "/console/health": {Role.ADMIN, Role.MAINTAINER},
    "/console/events": {Role.ADVISER, Role.SAFEGUARDING_LEAD},
}


def test_every_console_route_says_what_it_needs(tmp_path):
    app = create_app(Settings.from_env({"INTAKE_DATA_DIR": str(tmp_path)}), smtp=False)
    missing = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/console") or path.startswith("/console/static"):
            continue
        need = capability_of(route.handler)
        if need is None:
            missing.append((route.method, path))
        elif need not in (PUBLIC, "second_factor"):
            assert isinstance(need, Can), path
    assert missing == []


def test_the_table_matches_the_policy():
    assert Can.HANDLE_CONCERNS in ALLOWED[Role.SAFEGUARDING_LEAD]
    assert Can.HANDLE_CONCERNS not in ALLOWED[Role.ADVISER]
    assert Can.WORK_CASES not in ALLOWED[Role.MAINTAINER] | ALLOWED[Role.ADMIN]
    assert ALLOWED[Role.MAINTAINER] == {Can.SEE_HEALTH, Can.SIGNED_IN}


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_opens_exactly_its_pages(console: Console, role: Role):
    email = f"{role.value}@council.example"
    await console.add_staff(role.value, email, f"Someone {role.value}")
    browser = await console.browser(email)
    for path, allowed in PAGES.items():
        if path == "/console/events" and role in allowed:
            continue  # a stream that stays open: its refusal is what matters here
        page = await browser.get(path)
        assert page.status == (200 if role in allowed else 403), (role, path, page.words[:200])


async def test_after_sign_out_the_old_cookie_opens_nothing(console: Console):
    await console.add_staff("adviser", "ann@council.example", "Ann Adviser")
    browser = await console.browser("ann@council.example")
    [cookie] = [c for c in browser.session.cookie_jar if c.key == "intake_session"]
    stolen = cookie.value
    await browser.get("/console/")
    out = await browser.post("/console/sign-out")
    assert "/console/sign-in" in out.url
    thief = await console.browser()
    headers = {"Cookie": f"intake_session={stolen}"}
    async with thief.session.get(console.gateway.url + "/console/", headers=headers) as response:
        assert "/console/sign-in" in str(response.url)
    async with thief.session.get(
        console.gateway.url + "/console/audit", headers=headers, allow_redirects=False
    ) as response:
        assert response.status == 303


async def test_wrong_passwords_lock_the_account_for_everyone(console: Console):
    await console.add_staff("adviser", "ann@council.example", "Ann Adviser")
    browser = await console.browser()
    for attempt in range(10):
        page = await browser.sign_in("ann@council.example", f"wrong password {attempt}")
        assert page.status == 401 and "/console/sign-in" in page.url
    assert "locked for 15 minutes" in page.words
    right = await browser.sign_in("ann@council.example", PASSWORD)
    assert right.status == 401 and "locked for 15 minutes" in right.words
    assert await console.services.staff.verify("ann@council.example", PASSWORD) is None  # CLI too
    async with console.services.db.sessions() as session:
        actions = [e.action for e in await session.scalars(select(AuditEntry))]
    assert actions.count("staff.locked") >= 1 and actions.count("sign_in.failed") >= 5
    assert "sign_in.locked_out" in actions


async def test_the_session_cookie_is_http_only_same_site_and_secure_on_https(
    tmp_path, relay, risk_detector
):
    from tests.mail.conftest import mail_settings, running_gateway

    settings = mail_settings(tmp_path / "var", relay.port)  # https://… public URL
    async with (
        running_gateway(settings, relay, risk_detector) as gateway,
        gateway.session.get(gateway.url + "/console/sign-in") as response,
    ):
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
