"""The same running gateway and fake Twilio REST server as the voice tests."""

from tests.voice.conftest import gateway, risk_detector, twilio_rest  # noqa: F401
