"""Two-step sign-in: a code from an authenticator app after the password, over real HTTP as a
browser without JavaScript uses it, and the store behind it on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest

from storage import audit
from storage.database import Database
from storage.second_factor import SecondFactor, SecondFactorError
from storage.staff import StaffStore
from tests.conftest import files_containing
from tests.console.conftest import PASSWORD, PUBLIC_URL, Console, StaffBrowser
from tests.mail.conftest import Relay, mail_settings, running_gateway

SET_UP = "/console/second-factor/set-up"
ENTER = "/console/second-factor"
_KEY = re.compile(r'id="key">([A-Z2-7 ]+)<')


def shown_key(text: str) -> str:
    """The key as the set-up page shows it, in fours; the secret without its spaces."""
    found = _KEY.search(text)
    assert found, "no key on the page"
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", found.group(1))
    return found.group(1).replace(" ", "")


async def fresh_code(secret: str, used: list[int]) -> str:
    """A code the gateway accepts now: its step within one of now and later than any used."""
    while True:
        now = int(time.time() // 30)
        step = max(now, used[-1] + 1) if used else now
        if step <= now + 1:
            used.append(step)
            return pyotp.TOTP(secret).generate_otp(step)
        await asyncio.sleep(1)


def wrong_code(secret: str, at: float | None = None) -> str:
    """Six digits that are no code of the window around `at` (default now)."""
    now = int((time.time() if at is None else at) // 30)
    right = {pyotp.TOTP(secret).generate_otp(s) for s in range(now - 2, now + 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in right)


async def set_up(browser: StaffBrowser, used: list[int]) -> str:
    """Turn on two-step sign-in from the set-up page; the secret."""
    page = await browser.get(SET_UP)
    secret = shown_key(page.text)
    page = await browser.post(SET_UP, {"code": await fresh_code(secret, used)})
    assert page.status == 200 and page.url.endswith("/console/"), page.words[:300]
    return secret


async def stays_on_code_page(browser: StaffBrowser) -> None:
    """Nothing in the console opens, by any method, until the code has been given."""
    for path in ("/console/", "/console/health", SET_UP):
        page = await browser.get(path)
        assert _path(page.url) == ENTER and "Enter your code" in page.words, path
    page = await browser.post("/console/conversations/0123abcd/claim")
    assert _path(page.url) == ENTER


async def test_after_set_up_the_password_alone_opens_nothing(console: Console):
    staff_id = await console.add_staff("adviser", "ada@council.example", "Ada Adviser")
    browser = await console.browser("ada@council.example")
    page = await browser.get(SET_UP)
    words = page.words
    secret = shown_key(page.text)
    assert "Set up two-step sign-in" in words and "Turn on two-step sign-in" in words
    assert "Code from your authenticator app" in words
    assert "otpauth://totp/" in words and f"secret={secret}" in words
    assert shown_key((await browser.get(SET_UP)).text) == secret  # a reload: the same key
    assert "Your role needs" not in page.text  # advisers are not made to

    page = await browser.post(SET_UP, {"code": wrong_code(secret)})
    assert page.status == 401 and "There is a problem" in page.words
    assert "govuk-error-message" in page.text and shown_key(page.text) == secret

    used: list[int] = []
    page = await browser.post(SET_UP, {"code": await fresh_code(secret, used)})
    assert page.status == 200 and page.url.endswith("/console/")
    assert "Two-step sign-in is on" in (await browser.get(SET_UP)).words
    await browser.post("/console/sign-out")

    page = await browser.sign_in("ada@council.example")
    assert _path(page.url) == ENTER and "Code from your authenticator app" in page.words
    assert secret not in page.text
    await stays_on_code_page(browser)
    page = await browser.post(ENTER, {"code": wrong_code(secret)})
    assert page.status == 401 and "The code is not right" in page.words
    await stays_on_code_page(browser)

    code = await fresh_code(secret, used)
    page = await browser.post(ENTER, {"code": code})
    assert page.status == 200 and page.url.endswith("/console/")
    assert "Unclaimed conversations" in page.words
    await browser.post("/console/sign-out")

    await browser.sign_in("ada@council.example")
    page = await browser.post(ENTER, {"code": code})  # seen over a shoulder: used already
    assert page.status == 401 and "The code is not right" in page.words
    await stays_on_code_page(browser)

    async with console.services.db.sessions() as session:
        mine = await audit.search(session, actor=staff_id, action="second_factor")
    actions = [entry.action for entry, _ in mine]
    for action in ("set_up", "confirmed", "passed", "failed"):
        assert f"second_factor.{action}" in actions
    for entry, _ in mine:
        assert secret not in str(entry.detail) and code not in str(entry.detail)


async def test_the_secret_is_not_stored_in_plaintext(console: Console):
    await console.add_staff("adviser", "bo@council.example", "Bo Adviser")
    browser = await console.browser("bo@council.example")
    secret = await set_up(browser, [])
    data_dir = console.gateway.data_dir
    assert files_containing(data_dir, [b"bo@council.example"])  # the search finds what is there
    needles = [secret.encode(), base64.b32decode(secret)]
    assert files_containing(data_dir, needles) == []


async def test_too_many_wrong_codes_lock_the_account(console: Console):
    await console.add_staff("adviser", "cy@council.example", "Cy Adviser")
    browser = await console.browser("cy@council.example")
    used: list[int] = []
    secret = await set_up(browser, used)
    await browser.post("/console/sign-out")
    await browser.sign_in("cy@council.example")
    for _ in range(4):
        assert (await browser.post(ENTER, {"code": wrong_code(secret)})).status == 401
    page = await browser.post(ENTER, {"code": wrong_code(secret)})
    assert page.status == 401 and "Account locked" in page.words
    assert "/console/sign-in" in (await browser.get("/console/")).url  # this session ended
    page = await browser.sign_in("cy@council.example")
    assert "locked" in page.words and page.url.endswith("/console/sign-in")


@pytest.fixture
async def strict_console(
    tmp_path: Path, relay: Relay, risk_detector: object
) -> AsyncIterator[Console]:
    """A gateway whose safeguarding leads must use two-step sign-in."""
    settings = mail_settings(
        tmp_path / "var",
        relay.port,
        INTAKE_PUBLIC_URL=PUBLIC_URL,
        INTAKE_REQUIRE_MFA="safeguarding_lead",
    )
    async with running_gateway(settings, relay, risk_detector) as gateway:
        console = Console(gateway)
        try:
            yield console
        finally:
            for browser in console.browsers:
                await browser.session.close()


async def test_a_role_that_must_is_sent_to_set_up_first(strict_console: Console):
    await strict_console.add_staff("safeguarding_lead", "lee@council.example", "Lee Lead")
    await strict_console.add_staff("adviser", "al@council.example", "Al Adviser")
    lead = await strict_console.browser("lee@council.example")
    assert _path(lead.last.url) == SET_UP
    assert "Your role needs a code as well as a password" in lead.last.words
    for path in ("/console/", "/console/audit", ENTER):
        assert _path((await lead.get(path)).url) == SET_UP, path
    assert _path((await lead.post("/console/conversations/0123abcd/claim")).url) == SET_UP
    await set_up(lead, [])
    page = await lead.get("/console/audit")
    assert page.status == 200 and page.url.endswith("/console/audit")

    adviser = await strict_console.browser("al@council.example")
    page = await adviser.get("/console/")
    assert page.status == 200 and page.url.endswith("/console/")
    assert "Unclaimed conversations" in page.words


# -- the store, on SQLite and PostgreSQL -------------------------------------------------------
class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_codes_are_good_once_within_a_step_either_side(db: Database):
    staff = await StaffStore(db).add("dee@council.example", "Dee", "adviser", PASSWORD)
    clock = Clock(1_800_000_015.0)
    factor = SecondFactor(db, clock)
    secret = await factor.begin_set_up(staff.id)
    assert await factor.pending(staff.id) == secret
    code = pyotp.TOTP(secret).generate_otp
    step = int(clock.now // 30)
    assert not await factor.verify(staff.id, code(step))  # not on until confirmed
    assert not await factor.confirm(staff.id, code(step + 2))  # outside the window
    assert await factor.confirm(staff.id, code(step))
    assert await factor.pending(staff.id) is None
    with pytest.raises(SecondFactorError):
        await factor.begin_set_up(staff.id)  # one in use is never replaced unasked

    assert not await factor.verify(staff.id, code(step))  # the confirming code, again
    assert await factor.verify(staff.id, code(step + 1))  # a phone a little ahead
    assert not await factor.verify(staff.id, code(step + 1))  # used
    assert not await factor.verify(staff.id, code(step - 1))  # older than the one used
    clock.now += 60
    assert not await factor.verify(staff.id, code(step + 4))  # too far ahead
    spaced = code(step + 2)[:3] + " " + code(step + 2)[3:]
    assert await factor.verify(staff.id, spaced)
    assert not await SecondFactor(db, clock).verify(staff.id, spaced)  # kept in the database
    clock.now += 60
    assert await factor.verify(staff.id, code(step + 3))  # a phone a little behind
    await _no_secret_or_code_audited(db, secret, [code(s) for s in range(step - 1, step + 6)])


async def test_wrong_codes_lock_like_passwords_and_signing_in_does_not_reset(db: Database):
    staff_store = StaffStore(db)
    staff = await staff_store.add("eve@council.example", "Eve", "adviser", PASSWORD)
    clock = Clock(1_800_000_015.0)
    factor = SecondFactor(db, clock)
    secret = await factor.begin_set_up(staff.id)
    step = int(clock.now // 30)
    assert await factor.confirm(staff.id, pyotp.TOTP(secret).generate_otp(step))
    wrong = wrong_code(secret, clock.now)
    for _ in range(3):
        assert not await factor.verify(staff.id, wrong)
    assert (await staff_store.sign_in("eve@council.example", PASSWORD)).staff is not None
    assert not await factor.verify(staff.id, wrong)
    assert not await factor.locked(staff.id)
    assert not await factor.verify(staff.id, wrong)  # the fifth
    assert await factor.locked(staff.id)
    assert not await factor.verify(staff.id, pyotp.TOTP(secret).generate_otp(step + 1))
    assert (await staff_store.sign_in("eve@council.example", PASSWORD)).locked


async def test_removed_by_its_owner_or_an_admin_only(db: Database):
    store = StaffStore(db)
    owner = await store.add("fay@council.example", "Fay", "adviser", PASSWORD)
    other = await store.add("gus@council.example", "Gus", "adviser", PASSWORD)
    admin = await store.add("hal@council.example", "Hal", "admin", PASSWORD)
    clock = Clock(1_800_000_015.0)
    factor = SecondFactor(db, clock)
    for remover in (owner.id, admin.id):
        secret = await factor.begin_set_up(owner.id)
        assert await factor.confirm(owner.id, pyotp.TOTP(secret).generate_otp(int(clock.now // 30)))
        with pytest.raises(SecondFactorError):
            await factor.remove(owner.id, actor=other.id)
        await factor.remove(owner.id, actor=remover)
        assert await factor.pending(owner.id) is None
        assert not await factor.verify(owner.id, pyotp.TOTP(secret).generate_otp(0))
        clock.now += 30
    async with db.sessions() as session:
        removed = await audit.search(session, action="second_factor.removed")
    assert sorted(entry.actor for entry, _ in removed) == sorted([owner.id, admin.id])
    assert {entry.subject_id for entry, _ in removed} == {owner.id}


async def _no_secret_or_code_audited(db: Database, secret: str, codes: list[str]) -> None:
    async with db.sessions() as session:
        entries = await audit.entries(session, limit=1000)
    assert entries
    for entry in entries:
        written = f"{entry.actor} {entry.action} {entry.subject_id} {entry.detail}"
        assert secret not in written and not any(c in written for c in codes)


def _path(url: str) -> str:
    """Where a page is, without its query (the guard adds where to go next)."""
    from urllib.parse import urlsplit

    return urlsplit(url).path
