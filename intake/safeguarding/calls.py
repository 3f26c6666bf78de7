"""Phoning the safeguarding lead through Twilio's Calls API, for danger now.

Why a class of our own, like the SMS sender: the gateway keeps working without a Twilio account,
and tests point INTAKE_TWILIO_API_URL at a local server speaking Twilio's REST protocol. The
call's words come from our own signed webhook (intake.safeguarding.call_webhook), so nothing
about the concern travels in the request to Twilio.
"""

from __future__ import annotations

from typing import Protocol

from intake.safeguarding.sms import rest_client

RING_SECONDS = 30  # then Twilio reports "no-answer" and the call is tried again


class CallPlacer(Protocol):
    async def place(self, to: str, url: str, status_callback: str) -> str:
        """Start one outbound call that fetches its TwiML from `url`; return the call sid;
        raise on failure."""
        ...

    async def close(self) -> None: ...


class TwilioCalls:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_url: str) -> None:
        self._http, self._client = rest_client(account_sid, auth_token, api_url)
        self._from = from_number

    async def place(self, to: str, url: str, status_callback: str) -> str:
        call = await self._client.calls.create_async(
            to=to,
            from_=self._from,
            url=url,
            method="POST",
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=["completed"],
            timeout=RING_SECONDS,
        )
        return str(call.sid)

    async def close(self) -> None:
        await self._http.close()
