"""What a parent reads from us: every email gives the service's phone number and hours (a way
to get help without any record); a message that raised a safeguarding concern is answered first
with what happens next and where to get help now, then the question."""

from __future__ import annotations

import re
from pathlib import Path

from tests.mail.conftest import (
    Relay,
    choose_on_page,
    mail_settings,
    parent_mail,
    running_gateway,
)

PHONES = {
    "INTAKE_SERVICE_PHONE": "01632 960001",
    "INTAKE_CHILDRENS_SERVICES_NUMBER": "01632 960999",
    "INTAKE_OFFICE_HOURS": "Mon-Fri 09:00-17:00",
}


async def test_every_email_says_how_to_phone_us_and_when(
    tmp_path: Path, relay: Relay, risk_detector
):
    settings = mail_settings(tmp_path / "var", relay.port, **PHONES)
    async with running_gateway(settings, relay, risk_detector) as gw:
        assert (await gw.send(parent_mail("A question about my son's school transport")))[0] == 250
        [request] = await relay.wait_for(1)
        link = re.search(r"/consent/(\S+)", request.get_content()).group(1)
        await choose_on_page(gw, link, "no")
        [_, declined] = await relay.wait_for(2)
    for message in (request, declined):
        body = message.get_content()
        assert "call 01632 960001 (Monday to Friday, 9am to 5pm, except on bank holidays)" in body


async def test_a_disclosure_by_email_is_answered_first_with_what_happens_next(
    tmp_path: Path, relay: Relay, risk_detector
):
    settings = mail_settings(tmp_path / "var", relay.port, **PHONES)
    async with running_gateway(settings, relay, risk_detector) as gw:
        assert (await gw.send(parent_mail("I am frightened, my partner hits my son")))[0] == 250
        [request] = await relay.wait_for(1)
    body = request.get_content()
    opening = body.split("\n\n", 1)[0].replace("\r", "")
    assert opening.startswith("Thank you for telling us.")
    assert "safeguarding team will be in touch" in opening and "999" in opening
    assert "children's services on 01632 960999" in opening
    assert body.index("Thank you for telling us") < body.index("May we keep a record")
