"""The real `intake serve` (real risk detector) with `intake simulate email` as the parent, a
local relay, and `intake sar --email` afterwards: the operator's view of one email."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.cli.helpers import ADD_DPO, AS_DPO, DPO_PASSWORD, clean_env
from tests.mail.conftest import Relay

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _intake(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 120)
    return process.returncode, out.decode(), err.decode()


@contextlib.asynccontextmanager
async def _serving(env: dict[str, str], cwd: Path, http_port: int) -> AsyncIterator[None]:
    """`intake serve` in its own process until /readyz answers; stopped with SIGTERM, which
    it must obey cleanly."""
    serve = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "serve",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(f"http://127.0.0.1:{http_port}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert serve.returncode is None, (await serve.stderr.read()).decode()
                await asyncio.sleep(0.1)
        yield
    finally:
        if serve.returncode is None:
            serve.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(serve.wait(), 30) == 0


async def test_serve_simulate_consent_and_sar(tmp_path: Path, relay: Relay):
    http_port, smtp_port = _free_port(), _free_port()
    env = clean_env(
        INTAKE_DATA_DIR=str(tmp_path / "var"),
        INTAKE_HTTP_PORT=str(http_port),
        INTAKE_SMTP_PORT=str(smtp_port),
        INTAKE_SMTP_RELAY=f"127.0.0.1:{relay.port}",
        INTAKE_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
    )
    async with _serving(env, tmp_path, http_port), aiohttp.ClientSession() as http:
        code, out, err = await _intake(
            env,
            "simulate",
            "email",
            "--from",
            "pat@example.org",
            "--subject",
            "EHCP",
            stdin="My daughter Quillonfrey has no school place since September.\n",
        )
        assert code == 0 and out.startswith("250"), (out, err)
        [request] = await relay.wait_for(1, seconds=30)
        ref = re.search(r"\[Ref: ([A-Za-z0-9_-]{22})\]", str(request["Subject"])).group(1)

        # A link scanner fetches the link: nothing changes.
        link = re.search(r"http://\S+/consent/\S+", request.get_content()).group(0)
        async with http.get(link) as response:
            assert response.status == 200

        code, _, err = await _intake(env, *ADD_DPO, stdin=DPO_PASSWORD + "\n")
        assert code == 0, err
        code, out, _ = await _intake(
            env, "sar", "--email", "pat@example.org", *AS_DPO, stdin=DPO_PASSWORD + "\n"
        )
        assert json.loads(out)["conversations"] == []

        code, out, err = await _intake(
            env,
            "simulate",
            "email",
            "--from",
            "pat@example.org",
            "--subject",
            "EHCP",
            "--ref",
            ref,
            "--text",
            "YES",
        )
        assert code == 0 and out.startswith("250"), (out, err)
        code, out, _ = await _intake(
            env, "sar", "--email", "pat@example.org", *AS_DPO, stdin=DPO_PASSWORD + "\n"
        )
        sar = json.loads(out)
        [conversation] = sar["conversations"]
        assert "Quillonfrey" in conversation["messages"][0]["text"]
        assert sar["consent_records"][0]["method"] == "email_reply"

        code, out, _ = await _intake(
            env, "simulate", "email", "--to", "stranger@elsewhere.example", "--text", "hi"
        )
        assert code == 1 and out.startswith("550")


async def test_simulate_email_without_a_relay_shows_the_reply_the_parent_would_get(tmp_path: Path):
    http_port, smtp_port = _free_port(), _free_port()
    env = clean_env(
        INTAKE_DATA_DIR=str(tmp_path / "var"),
        INTAKE_HTTP_PORT=str(http_port),
        INTAKE_SMTP_PORT=str(smtp_port),
    )
    async with _serving(env, tmp_path, http_port):
        code, out, err = await _intake(
            env, "simulate", "email", "--from", "pat@example.org", "--text", "Help with an EHCP"
        )
        assert code == 0 and out.startswith("250"), (out, err)
        assert "The reply the parent would receive" in out
        assert "May we keep a record" in out and "[Ref:" in out
