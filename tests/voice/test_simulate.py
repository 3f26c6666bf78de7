"""`intake simulate call`: a person at a terminal plays a call against the running gateway."""

from __future__ import annotations

import asyncio
import sys

from storage.values import Contact
from tests.cli.helpers import clean_env
from tests.conftest import DPO
from tests.voice.conftest import AUTH_TOKEN, PUBLIC_URL, Gateway


async def run_simulator(
    gateway: Gateway, keyboard: str, *args: str, url: str | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "simulate",
        "call",
        "--url",
        url or gateway.url,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(
            INTAKE_DATA_DIR=str(gateway.data_dir),
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            INTAKE_PUBLIC_URL=PUBLIC_URL,
        ),
    )
    out, err = await asyncio.wait_for(process.communicate(keyboard.encode()), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_simulated_call_consents_and_is_put_through(gateway: Gateway):
    code, out, err = await run_simulator(
        gateway, "1\n2\nI need help with school transport\ny\n", "--from", "+447911555040"
    )
    assert code == 0, err
    assert "999" in out and "keep a record" in out
    assert "[ringing +441632960001]" in out
    held = await gateway.services.records.access.export(Contact.phone("+447911555040"), *DPO)
    assert held["conversations"][0]["messages"][0]["text"] == "I need help with school transport"


async def test_simulated_withheld_call_that_declines_keeps_nothing(gateway: Gateway):
    code, out, err = await run_simulator(gateway, "no thanks\nhang up\n", "--from", "withheld")
    assert code == 0, err
    assert "will not keep any record" in out
    assert await gateway.services.records.tallies.all()


async def test_simulator_says_clearly_when_no_gateway_is_running(gateway: Gateway):
    code, _, err = await run_simulator(gateway, "", url="http://127.0.0.1:9")
    assert code == 1 and "cannot reach the gateway" in err
