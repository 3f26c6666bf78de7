"""The consent page attacked as another site would: posted cross-site, framed, posted without
the page's form value, or sent a malformed body. Each is refused plainly (403 or 400, no stack
trace, nothing of the request echoed), and nothing is recorded; the parent can still choose."""

from __future__ import annotations

import re

from tests.mail.conftest import PUBLIC_URL, MailGateway, form_value
from tests.mail.test_flow import _consent_request, _sar


async def _link_and_form(gw: MailGateway) -> tuple[str, str, str]:
    request = await _consent_request(gw)
    link = re.search(r"https://\S+/consent/(\S+)", request.get_content()).group(1)
    async with gw.session.get(f"{gw.url}/consent/{link}") as response:
        page = await response.text()
        headers = response.headers
    assert "<main>" in page
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    form = form_value(page)
    return link, form, page


async def _nothing_recorded(gw: MailGateway) -> None:
    sar = await _sar(gw)
    assert sar["conversations"] == [] and sar["consent_records"] == []
    assert len(sar["pending_hold"]) == 1  # still waiting for the parent's own answer


async def test_a_post_from_another_site_does_not_consent(mail_gateway: MailGateway):
    gw = mail_gateway
    link, form, _ = await _link_and_form(gw)
    url = f"{gw.url}/consent/{link}"
    for headers in (
        {"Origin": "http://evil.example"},
        {"Referer": "http://evil.example/page"},
    ):
        async with gw.session.post(url, data={"form": form, "choice": "yes"}, headers=headers) as r:
            body = await r.text()
            assert r.status == 403, headers
            assert "evil" not in body and "Traceback" not in body
    await _nothing_recorded(gw)
    async with gw.session.post(
        url, data={"form": form, "choice": "yes"}, headers={"Origin": PUBLIC_URL}
    ) as response:
        assert response.status == 200  # our own page still works
    assert len((await _sar(gw))["consent_records"]) == 1


async def test_our_own_page_under_no_referrer_consents_and_a_null_origin_alone_does_not(
    mail_gateway: MailGateway,
):
    """The page's Referrer-Policy is no-referrer, so a browser sends "Origin: null" (and no
    Referer) on its own form: then the form value, which only our page carries, decides."""
    gw = mail_gateway
    link, form, _ = await _link_and_form(gw)
    url = f"{gw.url}/consent/{link}"
    null = {"Origin": "null"}
    async with gw.session.post(url, data={"choice": "yes"}, headers=null) as response:
        assert response.status == 403  # another site's page, sent with no referrer
    await _nothing_recorded(gw)
    async with gw.session.post(url, data={"form": form, "choice": "yes"}, headers=null) as r:
        assert r.status == 200 and r.headers["Referrer-Policy"] == "no-referrer"
    assert len((await _sar(gw))["consent_records"]) == 1


async def test_a_post_without_the_pages_form_value_does_not_consent(mail_gateway: MailGateway):
    gw = mail_gateway
    link, form, _ = await _link_and_form(gw)
    url = f"{gw.url}/consent/{link}"
    for data in ({"choice": "yes"}, {"form": form[:-2] + "xx", "choice": "yes"}):
        async with gw.session.post(url, data=data) as response:
            assert response.status == 403
    await _nothing_recorded(gw)


async def test_malformed_posts_are_a_400_not_a_500(mail_gateway: MailGateway):
    gw = mail_gateway
    link, _, _ = await _link_and_form(gw)
    url = f"{gw.url}/consent/{link}"
    for content_type, body in (
        ("multipart/form-data", b"--x\r\n\r\nchoice=yes\r\n--x--"),  # no boundary
        ("application/x-www-form-urlencoded; charset=bogus-8", b"choice=yes"),
        ("multipart/form-data; boundary=zz", b"\xff\xfe garbage"),
    ):
        async with gw.session.post(
            url, data=body, headers={"Content-Type": content_type}
        ) as response:
            text = await response.text()
            assert response.status in (400, 403), (content_type, response.status)
            assert "Traceback" not in text and "bogus" not in text
    await _nothing_recorded(gw)
