"""A local server speaking Twilio's REST protocol for Messages and Calls: what lies outside our
walls, faked as a real HTTP peer rather than a patched function."""

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
    status_callback: str = ""
    sid: str = ""


@dataclass
class PlacedCall:
    sid: str
    to: str
    from_: str
    url: str
    method: str
    status_callback: str
    status_callback_events: list[str]


@dataclass
class FakeTwilioRest:
    account_sid: str
    auth_token: str
    sent: list[SentSms] = field(default_factory=list)
    calls: list[PlacedCall] = field(default_factory=list)
    fail_next: int = 0  # answer this many message requests with 503 before working again
    fail_calls: int = 0  # the same for calls
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._calls)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _refused(self, request: web.Request) -> web.Response | None:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if request.match_info["sid"] != self.account_sid:
            return web.json_response({"code": 20404, "message": "Not found"}, status=404)
        return None

    async def _calls(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        if self.fail_calls > 0:
            self.fail_calls -= 1
            return web.json_response({"code": 20500, "message": "Unavailable"}, status=503)
        form = await request.post()
        if "Url" not in form and "Twiml" not in form:
            return web.json_response({"code": 21205, "message": "Url is required"}, status=400)
        sid = "CA" + uuid.uuid4().hex
        call = PlacedCall(
            sid,
            str(form["To"]),
            str(form["From"]),
            str(form.get("Url", "")),
            str(form.get("Method", "POST")),
            str(form.get("StatusCallback", "")),
            [str(v) for v in form.getall("StatusCallbackEvent", [])],
        )
        self.calls.append(call)
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": call.to,
                "from": call.from_,
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            },
            status=201,
        )

    async def _messages(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": 20500, "message": "Unavailable"}, status=503)
        form = await request.post()
        sid = "SM" + uuid.uuid4().hex
        callback = str(form.get("StatusCallback", ""))
        sms = SentSms(str(form["To"]), str(form["From"]), str(form["Body"]), callback, sid)
        self.sent.append(sms)
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
