"""The console in a real browser (Debian's Chromium, headless) against a real `intake serve`,
found as a person with a screen reader finds things: by label, role and link text.

Screenshots of the main pages are kept in test-artefacts/screenshots (or $INTAKE_SCREENSHOTS)
for a person to look at: would a tired adviser at 5 pm find their way at once?"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.cli.helpers import clean_env, intake
from tests.mail.conftest import Relay, relay  # noqa: F401 - the local relay fixture

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)
CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
SERVICE = "help@pps.example.org"
PASSWORD = "a long staff password 4 tests"
LEAD, ADVISER = "lee@council.example", "ann@council.example"
ADMIN, MAINTAINER = "ada@council.example", "max@council.example"
DISCLOSURE = "Since the summer my partner hits my son and leaves bruises on his arms."
TWILIO_TOKEN = "browser-test-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    smtp_port: int
    data_dir: Path
    env: dict[str, str]
    relay: Relay
    shots: Path

    async def mail(self, text: str, subject: str, sender: str = "jo@example.org") -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"Jo Parent <{sender}>", SERVICE, subject
        msg["Message-ID"] = f"<{os.urandom(6).hex()}@example.org>"
        msg.set_content(text)
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=self.smtp_port, start_tls=False)

    def intake(self, *args: str, stdin: str | None = None):  # noqa: ANN201
        extra = {k: v for k, v in self.env.items() if k != "INTAKE_DATA_DIR"}
        return intake(*args, data_dir=self.data_dir, stdin=stdin, **extra)


@pytest.fixture
async def served(tmp_path: Path, relay: Relay) -> AsyncIterator[Served]:  # noqa: F811
    http_port, smtp_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{http_port}"
    env = clean_env(
        INTAKE_DATA_DIR=str(tmp_path / "var"),
        INTAKE_HTTP_PORT=str(http_port),
        INTAKE_SMTP_PORT=str(smtp_port),
        INTAKE_PUBLIC_URL=url,
        INTAKE_MAIL_ADDRESS=SERVICE,
        INTAKE_SMTP_RELAY=f"127.0.0.1:{relay.port}",
        INTAKE_ESCALATE_AFTER="2",
        INTAKE_RETENTION_DAYS="730",
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
    )
    served = Served(url, smtp_port, tmp_path / "var", env, relay, tmp_path / "screenshots")
    served.shots.mkdir()
    for role, email, name in (
        ("safeguarding_lead", LEAD, "Lee Lead"),
        ("adviser", ADVISER, "Ann Adviser"),
        ("admin", ADMIN, "Ada Admin"),
        ("maintainer", MAINTAINER, "Max Maintainer"),
    ):
        added = served.intake(
            "staff",
            "add",
            email,
            "--role",
            role,
            "--name",
            name,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert added.returncode == 0, added.stderr
    assert (
        served.intake(
            "oncall",
            "set",
            "primary",
            "--name",
            "Lee Lead",
            "--phone",
            "07911000111",
            "--email",
            LEAD,
        ).returncode
        == 0
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{url}/readyz") as response:
                        if response.status == 200:
                            break
                assert process.returncode is None, "intake serve stopped"
                await asyncio.sleep(0.1)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        keep = os.environ.get("INTAKE_SCREENSHOTS") or REPO / "test-artefacts" / "screenshots"
        shutil.copytree(served.shots, keep, dirs_exist_ok=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _sign_in(browser: Browser, served: Served, email: str, heading: str = "Queue") -> Page:
    page = await (await browser.new_context(base_url=served.url)).new_page()
    await page.goto("/console/")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    if "/console/sign-in" in page.url:
        raise AssertionError(await page.inner_text("main"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    return page


async def _no_serious_violations(page: Page) -> None:
    results = await Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious


async def _consent_in_browser(browser: Browser, served: Served, before: int) -> None:
    """The parent opens the link in our email and presses the yes button."""
    request = (await served.relay.wait_for(before + 1, seconds=30))[before]
    link = re.search(r"http://\S+/consent/\S+", request.get_content()).group(0)
    parent = await (await browser.new_context()).new_page()
    await parent.goto(link)
    await parent.get_by_role("button", name=re.compile("^Yes")).click()
    await expect(parent.get_by_role("heading", name="Your answer is saved")).to_be_visible()


async def test_a_concern_reaches_the_leads_open_queue_and_is_acknowledged(
    browser: Browser, served: Served
):
    lead = await _sign_in(browser, served, LEAD)
    await served.mail(DISCLOSURE, "Please help")
    concern = lead.get_by_role("link", name=re.compile(r"^Concern [0-9A-F]{8}$"))
    await expect(concern).to_be_visible(timeout=10_000)  # no reload: the live queue
    await expect(lead.locator("#announcer")).to_contain_text("New safeguarding concern")
    await _no_serious_violations(lead)
    await lead.screenshot(path=served.shots / "queue.png", full_page=True)
    ref = (await concern.inner_text()).split()[-1]

    await concern.click()
    await expect(lead.get_by_role("heading", name=re.compile(f"Concern {ref}"))).to_be_visible()
    await expect(lead.get_by_role("mark").first).to_have_text("hits my son")
    await _no_serious_violations(lead)
    await lead.screenshot(path=served.shots / "concern.png", full_page=True)
    await lead.get_by_role("button", name="Acknowledge").click()
    await expect(lead.get_by_text("Acknowledged. No more alerts")).to_be_visible()

    await asyncio.sleep(3)  # past INTAKE_ESCALATE_AFTER: nothing may escalate now
    listed = served.intake("concerns", "list", "--json")
    [row] = json.loads(listed.stdout)
    assert row["ref"] == ref and row["status"] == "acknowledged"
    assert "deputy" not in json.dumps(row["alert_channels"])


async def test_an_adviser_replies_from_the_conversation_by_keyboard_alone(
    browser: Browser, served: Served
):
    attack = '<script>alert("x")</script><img src=x onerror="alert(1)">'
    before = len(served.relay.messages)
    await served.mail(f"My son has no school place. {attack}", "School place for Ptolemy")
    await _consent_in_browser(browser, served, before)

    page = await (await browser.new_context(base_url=served.url)).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto("/console/")
    await page.keyboard.press("Tab")  # the skip link, then the fields, in order
    await _tab_to(page, "Email address")
    await page.keyboard.type(ADVISER)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    await _tab_to(page, "School place for Ptolemy")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="School place for Ptolemy")).to_be_visible()
    await expect(page.get_by_text(attack)).to_be_visible()  # the parent's HTML shown as text
    await _no_serious_violations(page)
    await page.screenshot(path=served.shots / "conversation.png", full_page=True)

    await _tab_to(page, "Reply")
    await page.keyboard.type("We can help you ask for a school place. I will call you.")
    await _tab_to(page, "Send reply")
    sent_before = len(served.relay.messages)
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Your reply is queued")).to_be_visible()
    reply = (await served.relay.wait_for(sent_before + 1, seconds=30))[sent_before]
    assert "We can help you ask for a school place" in reply.get_content()
    assert reply["In-Reply-To"] and "[Ref:" in str(reply["Subject"])
    assert dialogs == []  # no script of the parent's ever ran


async def _tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused control's accessible name is `name`."""
    for _ in range(limit):
        focused = await page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el) return "";
                const label = el.labels && el.labels[0] ? el.labels[0].innerText : "";
                return (label || el.getAttribute("aria-label") || el.innerText || "").trim();
            }"""
        )
        if focused == name:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {name!r}")


async def test_the_limits_hold_in_a_real_browser(browser: Browser, served: Served):
    before = len(served.relay.messages)
    await served.mail(DISCLOSURE + " Wendeline is his sister.", "Worried about Wendeline")
    await _consent_in_browser(browser, served, before)
    lead = await _sign_in(browser, served, LEAD)
    concern = lead.get_by_role("link", name=re.compile(r"^Concern [0-9A-F]{8}$"))
    await expect(concern).to_be_visible(timeout=10_000)
    ref = (await concern.inner_text()).split()[-1]
    await concern.click()
    concern_url = lead.url
    await lead.get_by_role("link", name="Open the parent's conversation").click()
    conversation_url = lead.url

    adviser = await _sign_in(browser, served, ADVISER)
    refused = await adviser.goto(concern_url)
    assert refused.status == 403
    await expect(adviser.get_by_role("heading", name="You cannot see this page")).to_be_visible()
    assert "hits my son" not in await adviser.content()

    # a reply whose form lost its token is refused and nothing is sent
    await adviser.goto(conversation_url)
    await adviser.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.remove())")
    await adviser.get_by_label("Reply").fill("This must never be sent")
    sent_before = len(served.relay.messages)
    await adviser.get_by_role("button", name="Send reply").click()
    await expect(adviser.get_by_role("heading", name="Not accepted")).to_be_visible()
    await asyncio.sleep(1)
    assert all(
        "never be sent" not in m.get_content() for _, m in served.relay.messages[sent_before:]
    )
    await adviser.goto(conversation_url)
    await expect(adviser.get_by_text("This must never be sent")).to_have_count(0)

    # after Sign out, the old session cookie opens nothing
    cookies = await adviser.context.cookies()
    await adviser.get_by_role("button", name="Sign out").click()
    await expect(adviser.get_by_role("button", name="Sign in")).to_be_visible()
    thief = await browser.new_context(base_url=served.url)
    await thief.add_cookies(cookies)
    stolen = await thief.new_page()
    await stolen.goto(conversation_url)
    await expect(stolen.get_by_role("heading", name="Sign in")).to_be_visible()

    maintainer = await _sign_in(browser, served, MAINTAINER, heading="console")
    assert (await maintainer.goto(conversation_url)).status == 403
    seen, todo = set(), ["/console/"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        await maintainer.goto(path)
        text = await maintainer.content()
        for canary in ("Wendeline", "hits my son", "jo@example.org", "Jo Parent"):
            assert canary not in text, (path, canary)
        links = await maintainer.get_by_role("link").evaluate_all("els => els.map(e => e.pathname)")
        todo += [p for p in links if p.startswith("/console/") and p not in seen]
    assert "/console/health" in seen

    # ten wrong passwords lock the account
    stranger = await (await browser.new_context(base_url=served.url)).new_page()
    for attempt in range(10):
        await stranger.goto("/console/sign-in")
        await stranger.get_by_label("Email address").fill(ADVISER)
        await stranger.get_by_label("Password").fill(f"not the password {attempt}")
        await stranger.get_by_role("button", name="Sign in").click()
    await expect(stranger.get_by_text("locked for 15 minutes").first).to_be_visible()

    admin = await _sign_in(browser, served, ADMIN, heading="console")
    await admin.get_by_role("navigation", name="Menu").get_by_role("link", name="Audit log").click()
    await admin.get_by_label("What").select_option(label="Concerns")
    await admin.get_by_role("button", name="Filter").click()
    read = admin.get_by_role("row").filter(has_text="concern: read")
    await expect(read.first).to_contain_text("Lee Lead")
    await expect(read.first).to_contain_text(f"Concern {ref}")
    await admin.screenshot(path=served.shots / "audit.png", full_page=True)


async def test_the_consent_page_as_a_parent_meets_it_then_a_change_of_mind(
    browser: Browser, served: Served
):
    before = len(served.relay.messages)
    await served.mail("My daughter is waiting for a speech therapy assessment.", "Speech therapy")
    request = (await served.relay.wait_for(before + 1, seconds=30))[before]
    link = re.search(r"http://\S+/consent/\S+", request.get_content()).group(0)
    parent = await (await browser.new_context()).new_page()
    await parent.goto(link)
    await expect(parent.get_by_text("Parent Partnership Service").first).to_be_visible()
    choice = parent.get_by_role("group", name=re.compile("May we keep a record"))
    await expect(choice).to_be_visible()  # the question is the legend of the choice
    await expect(parent.get_by_text(re.compile("delete your message"))).to_be_visible()
    await expect(parent.get_by_text("We keep your records for two years")).to_be_visible()
    await _no_serious_violations(parent)
    await parent.screenshot(path=served.shots / "consent-page.png", full_page=True)
    await choice.get_by_role("button", name=re.compile("^Yes")).click()
    await expect(parent.get_by_role("heading", name="Your answer is saved")).to_be_visible()
    assert (await parent.inner_text("main")).count("Thank you") <= 1

    await parent.goto(link)  # later, the parent changes their mind
    await parent.get_by_role("button", name="No, delete what you keep about me").click()
    erased = parent.get_by_text("We have deleted your messages and your details")
    await expect(erased).to_be_visible()
    await _no_serious_violations(parent)
    adviser = await _sign_in(browser, served, ADVISER)
    await expect(adviser.get_by_role("link", name="Speech therapy")).to_have_count(0)


async def test_a_call_back_owed_to_a_caller_with_no_record_is_made_from_the_queue(
    browser: Browser, served: Served
):
    from intake.voice.signature import TwilioSignature
    from intake.voice.simulate import CallDriver

    async with aiohttp.ClientSession() as http:
        call = CallDriver(
            http, served.url, TwilioSignature(TWILIO_TOKEN, served.url), caller="+447911777888"
        )
        declined = await call.answer(await call.start(), digits="2")
        offer = await call.answer(declined, speech="how do I ask for an assessment")
        assert "only to make that call" in offer.spoken  # no adviser line here: a call-back
        booked = await call.answer(offer, digits="1")
        assert "will call you back" in booked.spoken
        await call.hang_up()
    adviser = await _sign_in(browser, served, ADVISER)
    owed = adviser.get_by_role("table", name="Call-backs for callers with no record")
    await expect(owed.get_by_role("link", name="07911 777888")).to_be_visible()
    await _no_serious_violations(adviser)
    await adviser.screenshot(path=served.shots / "queue-call-backs.png", full_page=True)
    await adviser.get_by_role("button", name="Called back 07911 777888").click()
    await expect(adviser.get_by_text("The caller's number has been deleted.")).to_be_visible()
    await expect(adviser.get_by_text("No call-backs are owed.")).to_be_visible()


async def test_a_referral_is_refused_without_permission_and_queued_with_it(
    browser: Browser, served: Served
):
    adviser = await _sign_in(browser, served, ADVISER)
    await adviser.get_by_role("link", name="New referral").click()
    await adviser.get_by_label("Referrer").fill("Mr Adeyemi, SENCo at Brookfield Primary")
    await adviser.get_by_label("Parent's contact (email or phone)").fill("07700 900789")
    await adviser.get_by_label("Reason").fill("Mum wants to ask for an EHC needs assessment")
    await adviser.get_by_role("button", name="Save referral").click()
    await expect(adviser.get_by_text("nothing has been saved").first).to_be_visible()
    await _no_serious_violations(adviser)
    await adviser.screenshot(path=served.shots / "referral-refused.png", full_page=True)
    await adviser.get_by_label("The parent has given permission for this referral").check()
    await adviser.get_by_label("How permission was given").fill("In a meeting at school, 1 Dec")
    await adviser.get_by_role("button", name="Save referral").click()
    heading = "Referral from Mr Adeyemi, SENCo at Brookfield Primary"
    await expect(adviser.get_by_role("heading", name=heading)).to_be_visible()
    await adviser.get_by_role("link", name="Queue", exact=True).click()
    await expect(adviser.get_by_role("link", name=heading)).to_be_visible()


async def test_request_information_appears_only_after_responsibility_and_permission(
    browser: Browser, served: Served
):
    before = len(served.relay.messages)
    await served.mail("We need the school's SEN support plan for Rafferty.", "Support plan")
    await _consent_in_browser(browser, served, before)
    adviser = await _sign_in(browser, served, ADVISER)
    await adviser.get_by_role("link", name="Support plan").click()
    ask = adviser.get_by_role("link", name=re.compile("^Request information"))
    await expect(ask).to_have_count(0)
    await adviser.get_by_text("Record a new permission").click()
    await adviser.get_by_label("Organisation").fill("Oakfield School")
    await adviser.get_by_label("Purpose (optional)").fill("the SEN support plan")
    await adviser.get_by_role("button", name="Record permission").click()
    await expect(adviser.get_by_text("The permission is recorded.")).to_be_visible()
    await expect(ask).to_have_count(0)  # not without parental responsibility
    await adviser.get_by_label("Parental responsibility").check()
    await adviser.get_by_role("button", name="Save parental responsibility").click()
    await expect(adviser.get_by_text("Parental responsibility is saved.")).to_be_visible()
    await expect(ask).to_have_count(1)
    await _no_serious_violations(adviser)
    await adviser.screenshot(path=served.shots / "conversation-rights.png", full_page=True)
    await ask.click()
    await adviser.get_by_label("What you are asking for").fill("A copy of the support plan")
    await _no_serious_violations(adviser)
    await adviser.get_by_role("button", name="Record request").click()
    await expect(adviser.get_by_text("The request is recorded.")).to_be_visible()
    await expect(adviser.get_by_text(re.compile("asked Oakfield School"))).to_be_visible()


async def test_erasing_a_parent_leaves_their_words_nowhere_but_keeps_the_concern(
    browser: Browser, served: Served
):
    before = len(served.relay.messages)
    words = DISCLOSURE + " Her name is Wilhelmina Quarrie."
    await served.mail(words, "Worried about home", sender="wq.parent@example.org")
    await _consent_in_browser(browser, served, before)
    lead = await _sign_in(browser, served, LEAD)
    await expect(lead.get_by_role("link", name=re.compile(r"^Concern "))).to_be_visible(
        timeout=10_000
    )
    await lead.get_by_role("link", name="Worried about home").click()
    await lead.get_by_role("button", name="Erase this parent's records").click()
    await expect(
        lead.get_by_text(re.compile("safeguarding concern raised from this parent's words is kept"))
    ).to_be_visible()
    await _no_serious_violations(lead)
    await lead.screenshot(path=served.shots / "erase.png", full_page=True)
    await lead.get_by_role("button", name="Erase", exact=True).click()
    await expect(lead.get_by_text("Enter the reason for the erasure").first).to_be_visible()
    await lead.get_by_label("Reason").fill("The parent asked by phone on 2 December")
    await lead.get_by_role("button", name="Erase", exact=True).click()
    await expect(lead.get_by_text(re.compile("records are erased"))).to_be_visible()
    await expect(lead.get_by_role("link", name="Worried about home")).to_have_count(0)
    await expect(lead.get_by_role("link", name=re.compile(r"^Concern "))).to_have_count(1)

    sar = served.intake(
        "sar", "--email", "wq.parent@example.org", "--staff", LEAD, "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert sar.returncode == 0, sar.stderr
    assert "Wilhelmina" not in sar.stdout and json.loads(sar.stdout)["conversations"] == []
    from tests.conftest import files_containing

    assert files_containing(served.data_dir, [b"Wilhelmina", b"Quarrie"]) == []


async def test_subject_access_lists_concern_items_as_withheld_until_the_lead_releases_them(
    browser: Browser, served: Served
):
    before = len(served.relay.messages)
    await served.mail(DISCLOSURE, "Please help us", sender="sar.parent@example.org")
    await _consent_in_browser(browser, served, before)
    lead = await _sign_in(browser, served, LEAD)
    await expect(lead.get_by_role("link", name=re.compile(r"^Concern "))).to_be_visible(
        timeout=10_000
    )
    await lead.get_by_role("link", name="Subject access").click()
    await lead.get_by_label("Phone number or email address").fill("sar.parent@example.org")
    await lead.get_by_role("button", name="Find").click()
    await expect(lead.get_by_role("heading", name="Withheld")).to_be_visible()
    release = lead.get_by_role("button", name=re.compile("^Release concern"))
    await expect(release).to_be_visible()
    await expect(lead.get_by_text("hits my son")).to_have_count(0)
    await _no_serious_violations(lead)
    await lead.screenshot(path=served.shots / "subject-access.png", full_page=True)
    await release.click()
    await expect(lead.get_by_text(re.compile("hits my son")).first).to_be_visible()
    async with lead.expect_download() as download:
        await lead.get_by_role("button", name="Download JSON").click()
    held = json.loads(Path(await (await download.value).path()).read_text())
    assert held["safeguarding_concerns"] and held["contact"]["value"] == "sar.parent@example.org"


async def test_a_case_study_export_holds_the_childs_needs_and_nothing_that_identifies(
    browser: Browser, served: Served
):
    story = (
        "My daughter Amira, who is 9, has autism and dyslexia and goes to Oakfield Academy. "
        "She was excluded twice and is waiting for speech and language therapy; her EHCP "
        "does not mention it. We live at 22 Larch Close, Andover SP10 3LP. Call me on "
        "07700 900456 or email amira.mum@example.org.\n\nThanks,\nSamira"
    )
    identifying = ("Amira", "Samira", "Oakfield", "Larch Close", "SP10", "900456", "amira.mum")
    needs = ("autism", "dyslexia", "excluded twice", "speech and language therapy", "EHCP")
    before = len(served.relay.messages)
    await served.mail(story, "Amira's school", sender="amira.mum@example.org")
    await _consent_in_browser(browser, served, before)
    adviser = await _sign_in(browser, served, ADVISER)
    await adviser.get_by_role("link", name="Amira's school").click()
    await adviser.get_by_role("link", name="Case study export").click()
    await expect(adviser.get_by_role("heading", name="Case study export")).to_be_visible()
    removed = adviser.get_by_role("mark")
    await expect(removed.first).to_be_visible()
    assert await removed.count() >= 7
    await expect(adviser.get_by_text("removed: school").first).to_be_attached()
    preview = await adviser.inner_text("main")
    for word in identifying:
        assert word not in preview, word
    await _no_serious_violations(adviser)
    await adviser.screenshot(path=served.shots / "case-study.png", full_page=True)

    box = adviser.get_by_label("Case study text")
    text = await box.input_value()
    await box.fill(text + "\nAmira is happier at Oakfield now.")  # typed back in by mistake
    await adviser.get_by_label("I have checked that nothing identifies the family").check()
    await adviser.get_by_role("button", name="Download").click()
    await expect(adviser.get_by_role("heading", name="Check the text again")).to_be_visible()
    await expect(adviser.get_by_text("We removed 1 name, 1 school")).to_be_visible()
    assert "Amira" not in await box.input_value()
    await _no_serious_violations(adviser)

    await adviser.get_by_label("I have checked that nothing identifies the family").check()
    async with adviser.expect_download() as started:
        await adviser.get_by_role("button", name="Download").click()
    download = await started.value
    assert download.suggested_filename == "case-study.txt"
    exported = Path(await download.path()).read_text(encoding="utf-8")
    for word in identifying:
        assert word.lower() not in exported.lower(), word
    for need in needs:
        assert need in exported, need
    assert "[NAME], who is 9" in exported and "[NAME] is happier at [SCHOOL] now." in exported


def _a_year_has_passed(served: Served) -> None:
    """As if the current wording's review date had gone by: a version added a year ago, due
    for review last month (written as the service writes it; the admin's form refuses dates
    in the past)."""
    import sqlite3

    from intake.core.wording import wording_files

    with contextlib.closing(sqlite3.connect(served.data_dir / "intake.db")) as db, db:
        [admin_id] = db.execute("SELECT id FROM staff WHERE email = ?", (ADMIN,)).fetchone()
        db.execute(
            "INSERT INTO wording_versions (version, texts, review_by, based_on, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                "2026-12y",
                json.dumps(wording_files()[-1].texts),
                "2026-11-01",
                "2026-12b",
                admin_id,
                "2025-11-01 09:00:00.000000",
            ),
        )


async def test_an_overdue_wording_review_warns_the_admin_until_a_new_version_is_added(
    browser: Browser, served: Served
):
    _a_year_has_passed(served)
    admin = await _sign_in(browser, served, ADMIN, heading="console")
    await admin.get_by_role("link", name="Wording").click()
    await expect(admin.get_by_role("heading", name="Wording", level=1)).to_be_visible()
    versions = admin.get_by_role("table", name="Versions")
    current = versions.get_by_role("row", name=re.compile("^2026-12y Current"))
    await expect(current).to_contain_text("Overdue")
    await expect(versions.get_by_role("row", name=re.compile("^2026-12b"))).to_be_visible()

    warning = admin.get_by_role("alert").filter(
        has_text="The service's wording was due for review on 1 November 2026"
    )
    for link in ("Staff accounts", "Office hours", "Wording"):  # every page says so
        await admin.get_by_role("link", name=link).click()
        await expect(warning).to_be_visible()
    await _no_serious_violations(admin)
    await admin.screenshot(path=served.shots / "wording.png", full_page=True)

    await expect(admin.get_by_label("Greeting")).to_have_value(
        re.compile("^This is the Parent Partnership Service")
    )
    await admin.get_by_label("Review by").fill("2026-01-01")
    await admin.get_by_role("button", name="Add this version").click()
    in_the_past = admin.get_by_role("link", name="The review date must be in the future")
    await expect(in_the_past).to_be_visible()
    await _no_serious_violations(admin)

    next_year = datetime.date.today().replace(day=1) + datetime.timedelta(days=300)
    await admin.get_by_label("Review by").fill(next_year.isoformat())
    await admin.get_by_role("button", name="Add this version").click()
    await expect(admin.get_by_text("The new version is added")).to_be_visible()
    added = versions.get_by_role("row", name=re.compile(r"^(?!2026-12y)\S+ Current"))
    await expect(added).to_be_visible()
    await admin.get_by_role("link", name="Staff accounts").click()
    await expect(admin.get_by_role("heading", name="Staff accounts", level=1)).to_be_visible()
    await expect(warning).to_have_count(0)
