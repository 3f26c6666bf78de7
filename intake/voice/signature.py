"""Checking X-Twilio-Signature on every webhook.

Why: anyone can POST to a public URL. A forged "caller said yes" would create records, and a
forged status callback could end a call's state. Signatures are computed over INTAKE_PUBLIC_URL
+ path + query (what Twilio called, even behind a proxy) and the posted form, and compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlparse

from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import RequestValidator, add_port, remove_port

from storage.crypto import Keyring


def development_auth_token(keyring: Keyring) -> str:
    """A per-installation signing token used when no Twilio account is configured, so that
    `intake simulate call` (which reads the same secret) can sign requests locally."""
    return hmac.new(keyring.signing_key, b"twilio-development-token", hashlib.sha256).hexdigest()[
        :32
    ]


class TwilioSignature:
    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url.rstrip("/")

    def url_for(self, path_qs: str) -> str:
        return self._public_url + path_qs

    def sign(self, path_qs: str, form: dict[str, str] | MultiDictProxy[str]) -> str:
        """The signature Twilio would send (used by the simulator, tests and benchmarks)."""
        return self._validator.compute_signature(self.url_for(path_qs), form)

    def is_valid(self, path_qs: str, form: MultiDictProxy[str], signature: str | None) -> bool:
        if not signature:
            return False
        url = self.url_for(path_qs)
        if self._matches(url, form, signature):  # the URL as configured: what Twilio signs
            return True
        parsed = urlparse(url)  # else with the port written out, or left out
        others = dict.fromkeys((add_port(parsed), remove_port(parsed))).keys() - {url}
        return any(self._matches(other, form, signature) for other in others)

    def _matches(self, url: str, form: MultiDictProxy[str], signature: str) -> bool:
        return hmac.compare_digest(self._validator.compute_signature(url, form), signature)


async def read_signed_form(
    request: web.Request, signature: TwilioSignature
) -> MultiDictProxy[str] | web.Response:
    """The posted form if Twilio signed it; otherwise the error response to send (413, 400, 403).

    Nothing of the body is logged: it may carry what a caller said."""
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return web.Response(status=413, text="request body too large\n")
    except Exception:  # noqa: BLE001 - a body we cannot read is the sender's error
        return web.Response(status=400, text="request body is not a readable form\n")
    if not signature.is_valid(request.path_qs, form, request.headers.get("X-Twilio-Signature")):
        return web.Response(status=403, text="forbidden\n")
    return form
