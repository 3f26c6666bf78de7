"""`POST /twilio/sms`: the on-call lead acknowledges an alert by replying "ACK <ref>"; and
`POST /twilio/sms/status`, Twilio's delivery report on an alert SMS.

Signed like every Twilio webhook. Only numbers on the rota can acknowledge; anyone else gets an
empty answer, so the number reveals nothing about the service's concerns."""

from __future__ import annotations

import logging

from aiohttp import web
from twilio.twiml.messaging_response import MessagingResponse

from intake.logs import log_event
from intake.safeguarding.alerts import Alerter, reference
from intake.voice.signature import TwilioSignature, read_signed_form
from storage.values import InvalidContact, normalise_phone

log = logging.getLogger("intake.safeguarding")


def sms_handler(alerter: Alerter, signature: TwilioSignature):  # noqa: ANN201
    async def handle(request: web.Request) -> web.Response:
        form = await read_signed_form(request, signature)
        if isinstance(form, web.Response):
            return form
        reply = MessagingResponse()
        try:
            phone = normalise_phone(str(form.get("From", "")))
        except InvalidContact:
            phone = None
        concern_id = None
        if phone is not None:
            concern_id = await alerter.acknowledge_by_phone(phone, str(form.get("Body", "")))
        if concern_id is not None:
            reply.message(f"Thank you. Concern {reference(concern_id)} is acknowledged.")
        else:
            log_event(log, "sms_not_an_acknowledgement")
        return web.Response(text=reply.to_xml(), content_type="text/xml", charset="utf-8")

    return handle


def delivery_report_handler(
    alerter: Alerter, signature: TwilioSignature, channel: str, sid: str, status: str
):  # noqa: ANN201
    """Twilio's status callback on an alert SMS or call (`?alert=ID`): form fields `sid` and
    `status` name the message or call and its result."""

    async def handle(request: web.Request) -> web.Response:
        form = await read_signed_form(request, signature)
        if isinstance(form, web.Response):
            return form
        await alerter.delivery_report(
            channel,
            request.query.get("alert", ""),
            str(form.get(sid, "")),
            str(form.get(status, "")),
        )
        return web.Response(status=204)

    return handle


def sms_status_handler(alerter: Alerter, signature: TwilioSignature):  # noqa: ANN201
    """`POST /twilio/sms/status?alert=ID`: Twilio's delivery report on an alert SMS."""
    return delivery_report_handler(alerter, signature, "sms", "MessageSid", "MessageStatus")
