"""A local server speaking Twilio's REST protocol for Messages: what lies outside our walls,
faked as a real HTTP peer rather than a patched function."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class SentSms:
    to: str
    from_: str
    body: str


@dataclass
class FakeTwilioRest:
    account_sid: str
    auth_token: str
    sent: list[SentSms] = field(default_factory=list)
    fail_next: int = 0  # answer this many requests with 503 before working again
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _messages(self, request: web.Request) -> web.Response:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if request.match_info["sid"] != self.account_sid:
            return web.json_response({"code": 20404, "message": "Not found"}, status=404)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": 20500, "message": "Unavailable"}, status=503)
        form = await request.post()
        sms = SentSms(str(form["To"]), str(form["From"]), str(form["Body"]))
        self.sent.append(sms)
        sid = "SM" + uuid.uuid4().hex
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": sms.to,
                "from": sms.from_,
                "body": sms.body,
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "price": None,
                "error_code": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status=201,
        )
