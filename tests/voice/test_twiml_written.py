"""TwiML as Twilio reads it: our writer gives, character for character, what twilio's own
`to_xml` gives for every shape of document a call meets, whatever a sentence holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twilio.twiml.voice_response import VoiceResponse

from intake.voice import twiml

AWKWARD = [
    "Thank you. You're through to the advice line.",
    'Fish & chips <b>"quoted"</b> > here',
    "Line one\nline two\r\n\ttabbed",
    "Siân's café — naïve “quotes” 😊",
    "",
]


def _shapes() -> list[VoiceResponse]:
    action = twiml.action_url("/twilio/voice/consent", 1, call="a&b")
    shapes = [
        twiml.ask(AWKWARD, action),
        twiml.ask(["Say it in your own words."], action, digits=None, hints="one, two"),
        twiml.dial(AWKWARD[:2], "+441632960001", "/twilio/voice/dialled?n=3", "+441632960999"),
        twiml.dial(["Putting you through."], "+441632960001", "/d?n=4", None),
        twiml.speak_and_hang_up(AWKWARD),
        twiml.speak_and_hang_up([]),
    ]
    mixed = VoiceResponse()
    mixed.say("before", voice=twiml.VOICE)
    mixed.append("a tail & more")  # a string after a verb is that verb's tail
    mixed.pause(length=2)
    mixed.hangup()
    first = VoiceResponse()
    first.append("text first <")
    first.say("then a verb")
    return [*shapes, mixed, first]


@pytest.mark.parametrize("response", _shapes())
def test_written_as_twilio_writes_it(response: VoiceResponse) -> None:
    written = twiml.render(response)
    assert written == response.to_xml()
    ET.fromstring(written.encode("utf-8"))  # and it is well-formed XML


def test_sentences_come_back_as_said() -> None:
    document = ET.fromstring(twiml.render(twiml.speak_and_hang_up(AWKWARD)).encode("utf-8"))
    said = [say.text for say in document.iter("Say")]
    # an XML reader turns a line end written CR LF into LF, as the standard says
    assert said == [sentence.replace("\r\n", "\n") for sentence in AWKWARD if sentence]


def test_a_recording_is_still_refused() -> None:
    response = VoiceResponse()
    response.record()
    with pytest.raises(RuntimeError, match="never record"):
        twiml.render(response)
