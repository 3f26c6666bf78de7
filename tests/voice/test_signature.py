"""X-Twilio-Signature as Twilio computes it: over the public URL as configured, or the same
URL with its default port written out or left out (Twilio has signed both ways), and the
posted form. Anything else is refused."""

from __future__ import annotations

from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator

from intake.voice.signature import TwilioSignature

TOKEN = "test-token-0123456789abcdef01234"
FORM = MultiDictProxy(MultiDict({"CallSid": "CA" + "1" * 32, "From": "+447700900123"}))
PATH = "/twilio/voice/consent?n=1"


def _signed_over(url: str) -> str:
    return RequestValidator(TOKEN).compute_signature(url, FORM)


def test_the_url_as_configured_is_accepted() -> None:
    checker = TwilioSignature(TOKEN, "https://intake.example.org/")
    assert checker.is_valid(PATH, FORM, _signed_over("https://intake.example.org" + PATH))


def test_the_default_port_written_out_or_left_out_is_accepted() -> None:
    without_port = TwilioSignature(TOKEN, "https://intake.example.org")
    with_port = TwilioSignature(TOKEN, "https://intake.example.org:443")
    assert without_port.is_valid(PATH, FORM, _signed_over("https://intake.example.org:443" + PATH))
    assert with_port.is_valid(PATH, FORM, _signed_over("https://intake.example.org" + PATH))


def test_another_port_path_form_or_token_is_refused() -> None:
    checker = TwilioSignature(TOKEN, "https://intake.example.org")
    good = _signed_over("https://intake.example.org" + PATH)
    assert not checker.is_valid(PATH, FORM, _signed_over("https://intake.example.org:8443" + PATH))
    assert not checker.is_valid("/twilio/voice/help?n=1", FORM, good)
    changed = MultiDictProxy(MultiDict({**FORM, "Digits": "1"}))
    assert not checker.is_valid(PATH, changed, good)
    assert not TwilioSignature(
        "another-token-0123456789abcdef0", "https://intake.example.org"
    ).is_valid(PATH, FORM, good)
    assert not checker.is_valid(PATH, FORM, None)
    assert not checker.is_valid(PATH, FORM, "")
