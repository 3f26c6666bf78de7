"""The console over real HTTP, as a browser without JavaScript would use it: a running gateway
(HTTP, SMTP, workers, a local relay), staff accounts, and a signed-in client that sends the
form's token and our Origin as a browser does. Browser tests (test_browser.py) drive Chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from intake.mail.web import origin_of
from tests.mail.conftest import (
    MailGateway,
    Relay,
    choose_on_page,
    mail_settings,
    parent_mail,
    relay,  # noqa: F401 - a fixture these tests use
    risk_detector,  # noqa: F401 - a fixture these tests use
    running_gateway,
)

PASSWORD = "a long staff password 4 tests"
# Plain http, as the test server speaks: with https the session cookie is Secure and an http
# client would (rightly) never send it back.
PUBLIC_URL = "http://intake.council.example"
ORIGIN = origin_of(PUBLIC_URL)
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class Page:
    status: int
    url: str
    text: str

    @property
    def csrf(self) -> str:
        found = _CSRF.search(self.text)
        return found.group(1) if found else ""

    @property
    def words(self) -> str:
        """What a person reads: the text without tags, entities decoded."""
        import html

        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", self.text))).strip()


@dataclass
class StaffBrowser:
    """One member of staff's browser: its own cookies, our Origin on every form it sends."""

    gateway: MailGateway
    session: aiohttp.ClientSession
    last: Page | None = None

    async def get(self, path: str) -> Page:
        async with self.session.get(self.gateway.url + path) as response:
            self.last = Page(response.status, str(response.url), await response.text())
        return self.last

    async def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: str | None = None,
        **headers: str,
    ) -> Page:
        """Send a form as the page it came from would: its token (unless `csrf` is given, ""
        for none) and our Origin (unless headers say otherwise)."""
        form = dict(data or {})
        token = self.last.csrf if csrf is None and self.last else csrf
        if token:
            form["csrf"] = token
        sent = {"Origin": ORIGIN, **{k.replace("_", "-"): v for k, v in headers.items()}}
        async with self.session.post(self.gateway.url + path, data=form, headers=sent) as response:
            self.last = Page(response.status, str(response.url), await response.text())
        return self.last

    async def sign_in(self, email: str, password: str = PASSWORD) -> Page:
        await self.get("/console/sign-in")
        return await self.post("/console/sign-in", {"email": email, "password": password})


@dataclass
class Console:
    gateway: MailGateway
    browsers: list[StaffBrowser] = field(default_factory=list)

    @property
    def services(self):  # noqa: ANN201
        return self.gateway.services

    async def add_staff(self, role: str, email: str, name: str) -> str:
        member = await self.services.staff.add(email, name, role, PASSWORD)
        return member.id

    async def browser(self, email: str | None = None) -> StaffBrowser:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        browser = StaffBrowser(self.gateway, session)
        self.browsers.append(browser)
        if email:
            page = await browser.sign_in(email)
            assert page.status == 200 and "/console/sign-in" not in page.url, page.words[:300]
        return browser

    async def consented_email(
        self,
        text: str,
        *,
        subject: str = "Help with my son's EHCP",
        sender: str = "parent@example.org",
    ) -> str:
        """A parent writes and says yes on the consent page; the new conversation's id."""
        mail = parent_mail(text, sender=f"Jo Parent <{sender}>", subject=subject)
        before = len(self.gateway.relay.messages)
        code, _ = await self.gateway.send(mail, mail_from=sender)
        assert code == 250
        request = await self.gateway.relay.first_to(sender, after=before)
        link = re.search(r"/consent/(\S+)", request.get_content()).group(1)
        response = await choose_on_page(self.gateway, link, "yes")
        assert response.status == 200
        [item] = [i for i in await self.services.casework.queue() if i.subject == subject]
        return item.id


@pytest.fixture
async def console(
    tmp_path: Path,
    relay: Relay,  # noqa: F811 - the mail tests' fixture
    risk_detector: object,  # noqa: F811 - the mail tests' fixture
) -> AsyncIterator[Console]:
    settings = mail_settings(tmp_path / "var", relay.port, INTAKE_PUBLIC_URL=PUBLIC_URL)
    async with running_gateway(settings, relay, risk_detector) as gateway:
        console = Console(gateway)
        try:
            yield console
        finally:
            for browser in console.browsers:
                await browser.session.close()
