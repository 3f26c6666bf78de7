"""The alert call's own webhooks: what the lead hears, pressing 1, and Twilio's call report.

    POST /twilio/alert-call?alert=ID          the words: a concern needs you now, press 1
    POST /twilio/alert-call/ack?alert=ID      the key pressed
    POST /twilio/alert-call/status?alert=ID   Twilio's status callback (answered or not)

Signed like every Twilio webhook, and only the call placed for that alert (its CallSid) counts,
so the alert id in the address grants nothing by itself. The words say nothing about the
concern: whoever picks up the phone learns only that the lead is needed."""

from __future__ import annotations

import logging

from aiohttp import web
from twilio.twiml.voice_response import Gather, VoiceResponse

from intake.logs import log_event
from intake.safeguarding.alerts import CALL_PATH, Alerter
from intake.safeguarding.sms_webhook import delivery_report_handler
from intake.voice.signature import TwilioSignature, read_signed_form
from intake.voice.twiml import render, say_all

log = logging.getLogger("intake.safeguarding")

ASK = (
    "This is Parent Partnership safeguarding.",
    "A concern needs you now.",
    "Press 1 to acknowledge.",
)
NOT_ACKNOWLEDGED = (
    "The concern is not acknowledged yet.",
    "Details are in the console. Goodbye.",
)
THANKS = ("Thank you. The concern is acknowledged.", "Details are in the console. Goodbye.")
ROUTES = (CALL_PATH, f"{CALL_PATH}/ack", f"{CALL_PATH}/status")


def _ask(alert_id: str, first: tuple[str, ...] = ()) -> VoiceResponse:
    response = VoiceResponse()
    for _ in range(2):  # twice, in case the first was missed as the phone came to an ear
        gather = Gather(
            action=f"{CALL_PATH}/ack?alert={alert_id}", method="POST", num_digits=1, timeout=8
        )
        say_all(gather, [*first, *ASK])
        response.append(gather)
        first = ()
    say_all(response, NOT_ACKNOWLEDGED)
    response.hangup()
    return response


def call_handlers(alerter: Alerter, signature: TwilioSignature) -> dict:
    """The three handlers, by path."""

    async def words(request: web.Request) -> web.Response:
        form = await read_signed_form(request, signature)
        if isinstance(form, web.Response):
            return form
        return _xml(render(_ask(request.query.get("alert", ""))))

    async def pressed(request: web.Request) -> web.Response:
        form = await read_signed_form(request, signature)
        if isinstance(form, web.Response):
            return form
        alert_id = request.query.get("alert", "")
        if str(form.get("Digits", "")) != "1":
            return _xml(render(_ask(alert_id, ("That was not 1.",))))
        concern_id = await alerter.acknowledge_call(alert_id, str(form.get("CallSid", "")))
        if concern_id is None:
            log_event(log, "alert_call_ack_refused")
            response = VoiceResponse()
            say_all(response, NOT_ACKNOWLEDGED)
            response.hangup()
            return _xml(render(response))
        response = VoiceResponse()
        say_all(response, THANKS)
        response.hangup()
        return _xml(render(response))

    status = delivery_report_handler(alerter, signature, "call", "CallSid", "CallStatus")
    return dict(zip(ROUTES, (words, pressed, status), strict=True))


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml", charset="utf-8")
