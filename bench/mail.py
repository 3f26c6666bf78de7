"""Messages per second accepted over SMTP by the gateway (`intake serve`: parse, risk detector,
pending hold on SQLite, consent request queued in the outbox) against a bare aiosmtpd handler
that answers 250 at once, in the same run.

Each side runs as its own server process on loopback; the same client (aiosmtplib, several
concurrent sessions, a new parent's email each time) drives both. No relay is configured, so
the consent requests wait in the outbox: this measures acceptance, not onward delivery.

    python -m bench.mail [--sessions 8] [--messages 400] [--repeat 1] [--json]

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
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib

TEXT = (
    "Hello, I am writing about my son who is nine and has autism and ADHD. His school says they "
    "cannot meet his needs and have suggested a reduced timetable, which means he is only in for "
    "mornings. We applied for an EHC needs assessment in March and the council refused it. I "
    "do not know whether we can appeal, how long it takes, or whether we need a solicitor. He is "
    "very anxious in the mornings and some days he will not get in the car. His teacher is kind "
    "but the SENCo has not replied to my emails for three weeks. Could someone explain what our "
    "options are, and whether the school is allowed to do this without a plan in place? I would "
    "also like to know what support there is for me, as I am finding it hard. Thank you."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_bare(port: int) -> None:
    from aiosmtpd.smtp import SMTP

    class Accept:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Accept(), hostname="bare", loop=loop), "127.0.0.1", port
        )
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _start(kind: str, smtp_port: int, data_dir: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        INTAKE_DATA_DIR=str(data_dir),
        INTAKE_HTTP_PORT=str(_free_port()),
        INTAKE_SMTP_PORT=str(smtp_port),
        INTAKE_LOG_LEVEL="WARNING",
    )
    env.pop("INTAKE_SMTP_RELAY", None)
    if kind == "bare":
        cmd = [sys.executable, "-m", "bench.mail", "--serve-bare", str(smtp_port)]
    else:
        cmd = [sys.executable, "-m", "intake", "serve"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _wait_listening(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not start")


def _message(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Parent {n} <parent{n}@example.org>"
    msg["To"] = "help@pps.example.org"
    msg["Subject"] = "Reduced timetable and EHC assessment"
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(TEXT)
    return msg


async def _drive(port: int, sessions: int, messages: int, offset: int) -> tuple[int, float]:
    accepted = 0
    per_session = messages // sessions

    async def session(s: int) -> None:
        nonlocal accepted
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60, start_tls=False)
        await client.connect()
        for i in range(per_session):
            n = offset + s * per_session + i
            msg = _message(n)
            errors, _ = await client.send_message(msg)
            if not errors:
                accepted += 1
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(session(s) for s in range(sessions)))
    return accepted, time.perf_counter() - started


async def _measure(kind: str, sessions: int, messages: int, label: str = "") -> float:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix=f"bench-mail-{kind}-") as tmp:
        process = _start(kind, port, Path(tmp))
        try:
            await _wait_listening(port)
            await _drive(port, sessions, sessions * 5, 10_000_000)  # warm up
            accepted, seconds = await _drive(port, sessions, messages, 0)
        finally:
            process.terminate()
            process.wait(timeout=30)
    rate = accepted / seconds
    print(
        f"{label}{kind:>8}: {accepted} messages in {seconds:.2f}s = {rate:,.0f} msgs/s", flush=True
    )
    return rate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median is reported")
    parser.add_argument("--json", action="store_true", help="JSON summary as the last line")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    print(
        f"{args.sessions} concurrent SMTP sessions, {args.messages} new-thread messages each side,"
        f" {args.repeat} run(s)"
    )
    runs: list[dict[str, float]] = []
    for n in range(1, args.repeat + 1):
        label = f"run {n} " if args.repeat > 1 else ""
        run = {
            f"{kind}_msgs_per_s": round(
                asyncio.run(_measure(kind, args.sessions, args.messages, label)), 1
            )
            for kind in ("bare", "gateway")
        }
        runs.append(run)
        if args.repeat > 1:
            print(f"{label}gateway / bare = {_ratio(run):.3f}")
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    if args.repeat > 1:
        print(
            f"median   bare: {median['bare_msgs_per_s']:,.0f} msgs/s, gateway: "
            f"{median['gateway_msgs_per_s']:,.0f} msgs/s"
        )
    print(f"gateway / bare = {_ratio(median):.3f}")
    # the target's own measure: each run's ratio (both sides measured in that run), their median
    ratio = round(statistics.median(_ratio(run) for run in runs), 3)
    if args.repeat > 1:
        print(f"median of the runs' ratios = {ratio:.3f}")
    if args.json:
        summary = {"sessions": args.sessions, "messages": args.messages, **median}
        print(json.dumps({**summary, "median_ratio": ratio, "runs": runs}))


def _ratio(run: dict[str, float]) -> float:
    return run["gateway_msgs_per_s"] / run["bare_msgs_per_s"]


if __name__ == "__main__":
    main()
