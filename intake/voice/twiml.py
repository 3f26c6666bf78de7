"""Building TwiML: short sentences in a British voice, a keypad-and-speech Gather for every
question, and a Dial that never records. Nothing here decides policy; it only speaks.

The documents are built with twilio's verbs and written out here (`render`), character for
character as twilio's own `to_xml` writes them: that goes through an ElementTree built for the
purpose, which cost about a tenth of the event loop's time per webhook under load.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlencode

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, VoiceResponse

VOICE = "Polly.Amy"
LANGUAGE = "en-GB"
YES_NO_HINTS = "yes, no, yeah, yep, no thanks, rather not, that's fine, okay"
ANSWER_TIME = 8  # seconds to start answering: time to think, for a tired or anxious caller
DIAL_TIMEOUT = 20  # seconds a lead or adviser's phone rings before we try the next person


def action_url(path: str, step: int, **params: str) -> str:
    """Each step of a call has its own URL, so a retried webhook can be recognised."""
    return f"{path}?{urlencode({'n': step, **params})}"


def say_all(target: VoiceResponse | Gather, sentences: Iterable[str]) -> None:
    for sentence in sentences:
        if sentence:
            target.say(sentence, voice=VOICE, language=LANGUAGE)


def ask(
    sentences: Iterable[str],
    action: str,
    *,
    hints: str = YES_NO_HINTS,
    digits: int | None = 1,
    speech_timeout: str = "auto",
    timeout: int = ANSWER_TIME,
) -> VoiceResponse:
    """A question answered by a key or in words; silence also comes back to `action`. The
    caller has ANSWER_TIME seconds to begin, and their speech ends when they fall silent."""
    response = VoiceResponse()
    gather = Gather(
        input="dtmf speech",
        action=action,
        method="POST",
        num_digits=digits,
        timeout=timeout,
        speech_timeout=speech_timeout,
        language=LANGUAGE,
        hints=hints,
        action_on_empty_result=True,
    )
    say_all(gather, sentences)
    response.append(gather)
    # If Twilio ever falls through the Gather, treat it as silence at the same step.
    response.redirect(f"{action}&silent=1", method="POST")
    return response


def dial(
    sentences: Iterable[str], number: str, action: str, caller_id: str | None
) -> VoiceResponse:
    """Put the caller through. Never record: no audio of a parent is kept anywhere."""
    response = VoiceResponse()
    say_all(response, sentences)
    d = response.dial(
        action=action,
        method="POST",
        timeout=DIAL_TIMEOUT,
        caller_id=caller_id,
        answer_on_bridge=True,
    )
    d.number(number)
    return response


def speak_and_hang_up(sentences: Iterable[str]) -> VoiceResponse:
    response = VoiceResponse()
    say_all(response, sentences)
    response.hangup()
    return response


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#09;",
    }
)


def _attribute(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.translate(_ATTRIBUTE)


def _write(node: TwiML, out: list[str]) -> None:
    """One verb and what it holds, as twilio's TwiML.xml and ElementTree would write it:
    attributes sorted, booleans in lower case, a string after a child verb is its tail."""
    out.append("<" + node.name)
    for name in sorted(node.attrs):
        out.append(f' {name}="{_attribute(node.attrs[name])}"')
    value = node.value
    text = (json.dumps(value) if isinstance(value, dict) else value) if value else None
    children: list[tuple[TwiML, str | None]] = []
    for verb in node.verbs:
        if isinstance(verb, str):
            if children:
                children[-1] = (children[-1][0], verb)
            else:
                text = verb
        else:
            children.append((verb, None))
    if not text and not children:
        out.append(" />")
        return
    out.append(">")
    if text:
        out.append(text.translate(_TEXT))
    for child, tail in children:
        _write(child, out)
        if tail:
            out.append(tail.translate(_TEXT))
    out.append("</" + node.name + ">")


def render(response: VoiceResponse) -> str:
    out = [_DECLARATION]
    _write(response, out)
    text = "".join(out)
    if "<Record" in text or "record=" in text:  # a last line of defence, never expected
        raise RuntimeError("TwiML must never record a caller")
    return text
