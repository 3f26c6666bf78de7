"""Webhook latency under 50 concurrent calls, against a bare aiohttp handler returning fixed
TwiML in the same run.

Each side runs as its own server process on loopback; the same client (signed Twilio-style
form posts) drives both, so the ratio is what the gateway's work costs per webhook.

    python -m bench.voice [--calls 50] [--rounds 4] [--repeat 1] [--json]

--repeat N measures both sides N times and reports the median of each figure and of the runs'
ratios (each taken within its run, the targets' measure); --json also prints one JSON
object as the last line of stdout, for machines (CI, comparisons).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from intake.voice.signature import TwilioSignature
from intake.voice.simulate import CallDriver

TOKEN = "bench-token-0123456789abcdef0123"
PUBLIC = "http://bench.invalid"
FIXED = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/voice/consent?n=1" '
    'input="dtmf speech" numDigits="1"><Say voice="Polly.Amy">Hello</Say></Gather></Response>'
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_bare(port: int) -> None:
    from aiohttp import web

    async def fixed(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text=FIXED, content_type="text/xml")

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", fixed)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _start(kind: str, port: int, data_dir: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        INTAKE_DATA_DIR=str(data_dir),
        INTAKE_HTTP_PORT=str(port),
        TWILIO_AUTH_TOKEN=TOKEN,
        INTAKE_PUBLIC_URL=PUBLIC,
        INTAKE_LOG_LEVEL="WARNING",
        INTAKE_ADVISER_NUMBER="+441632960001",
        INTAKE_OFFICE_HOURS="Mon-Sun 00:00-23:59",
    )
    if kind == "bare":
        cmd = [sys.executable, "-m", "bench.voice", "--serve-bare", str(port)]
    else:
        cmd = [sys.executable, "-m", "intake", "serve"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.post(url + "/twilio/voice") as resp:
                    await resp.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def _one_call(session: aiohttp.ClientSession, url: str, latencies: list[float], n: int):
    call = CallDriver(session, url, TwilioSignature(TOKEN, PUBLIC), f"+4479115{n:05d}")
    steps = [
        ("/twilio/voice?n=0", {}),
        ("/twilio/voice/consent?n=1", {"Digits": "1" if n % 2 else "2"}),
        ("/twilio/voice/help?n=2", {"SpeechResult": "I need help with my son's EHC plan review"}),
        ("/twilio/status", {"CallStatus": "completed"}),
    ]
    for path, extra in steps:
        started = time.perf_counter()
        doc = await call.post(path, call.form(**extra))
        latencies.append((time.perf_counter() - started) * 1000)
        if doc.status not in (200, 204):
            raise RuntimeError(f"{path} answered {doc.status}")


async def _load(url: str, calls: int, rounds: int) -> list[float]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=calls)
    async with aiohttp.ClientSession(connector=connector) as session:
        for r in range(rounds):
            await asyncio.gather(
                *(_one_call(session, url, latencies, r * calls + i) for i in range(calls))
            )
    return latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(calls: int, rounds: int) -> dict[str, list[float]]:
    """Per-webhook latencies in ms for each side, one server process at a time."""
    results = {}
    for kind in ("bare", "gateway"):
        port = _free_port()
        with tempfile.TemporaryDirectory() as tmp:
            server = _start(kind, port, Path(tmp))
            try:
                url = f"http://127.0.0.1:{port}"
                asyncio.run(_wait_up(url))
                asyncio.run(_load(url, calls, 1))  # warm up
                results[kind] = asyncio.run(_load(url, calls, rounds))
            finally:
                server.terminate()
                server.wait(timeout=30)
    return results


def _row(label: str, run: dict[str, float], requests: int | str) -> None:
    for kind in ("bare", "gateway"):
        print(
            f"{label:<8}{kind:<10}{requests:>10}{run[kind + '_p50_ms']:>10.2f}"
            f"{run[kind + '_p99_ms']:>10.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.voice", description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median is reported")
    parser.add_argument("--json", action="store_true", help="JSON summary as the last line")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    print(
        f"voice webhooks, {args.calls} concurrent calls x {args.rounds} rounds, 4 webhooks each,"
        f" {args.repeat} run(s)"
    )
    print(f"{'run':<8}{'server':<10}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}", flush=True)
    runs: list[dict[str, float]] = []
    for n in range(1, args.repeat + 1):
        latencies = _measure(args.calls, args.rounds)
        run = {
            f"{kind}_{name}_ms": round(value, 3)
            for kind, values in latencies.items()
            for name, value in (("p50", statistics.median(values)), ("p99", _pct(values, 0.99)))
        }
        runs.append(run)
        _row(str(n), run, len(latencies["bare"]))
        sys.stdout.flush()
    median = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    if args.repeat > 1:
        _row("median", median, "-")
    p50 = median["gateway_p50_ms"] / median["bare_p50_ms"]
    p99 = median["gateway_p99_ms"] / median["bare_p99_ms"]
    label = " (medians)" if args.repeat > 1 else ""
    print(f"ratio gateway/bare{label}: p50 {p50:.2f}x, p99 {p99:.2f}x")
    # the target's own measure: each run's ratios (both sides measured in that run), their median
    ratios = {
        f"median_{q}_ratio": round(
            statistics.median(r[f"gateway_{q}_ms"] / r[f"bare_{q}_ms"] for r in runs), 3
        )
        for q in ("p50", "p99")
    }
    if args.repeat > 1:
        print(
            f"median of the runs' ratios: p50 {ratios['median_p50_ratio']:.2f}x,"
            f" p99 {ratios['median_p99_ratio']:.2f}x"
        )
    if args.json:
        summary = {"calls": args.calls, "rounds": args.rounds, **median}
        print(json.dumps({**summary, **ratios, "runs": runs}))


if __name__ == "__main__":
    main()
