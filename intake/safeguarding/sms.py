"""Sending an SMS through Twilio's REST API with the twilio package's async client.

Why a class of our own: the gateway must keep working without a Twilio account (alerts then
wait, visibly, in the alert table), and tests point INTAKE_TWILIO_API_URL at a local server that
speaks Twilio's REST protocol instead of patching the client.
"""

from __future__ import annotations

from typing import Protocol

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

REQUEST_TIMEOUT = 10.0


class SmsSender(Protocol):
    async def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        """Send one SMS (Twilio reports its delivery to `status_callback`); return the
        provider's message id; raise on failure."""
        ...

    async def close(self) -> None: ...


def rest_client(
    account_sid: str, auth_token: str, api_url: str
) -> tuple[AsyncTwilioHttpClient, Client]:
    """Twilio's async REST client, pointed at `api_url` (Twilio, or a local test server)."""
    http = AsyncTwilioHttpClient(timeout=REQUEST_TIMEOUT)
    client = Client(account_sid, auth_token, http_client=http)
    client.api.base_url = api_url.rstrip("/")
    return http, client


class TwilioSms:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_url: str) -> None:
        self._http, self._client = rest_client(account_sid, auth_token, api_url)
        self._from = from_number

    async def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        extra = {"status_callback": status_callback} if status_callback else {}
        message = await self._client.messages.create_async(
            to=to, from_=self._from, body=body, **extra
        )
        return str(message.sid)

    async def close(self) -> None:
        await self._http.close()
