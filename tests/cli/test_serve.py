"""`intake serve` as an operator runs it: no configuration at all, probes, clean SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cli.helpers import clean_env


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read()}")
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("serve did not start listening")


def _children(pid: int) -> list[int]:
    """The processes `pid` started that still run (Linux's /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _gone(pids: list[int], seconds: float = 10) -> bool:
    """Whether the processes have ended (the resource tracker ends just after its parent; an
    ended process not yet reaped counts as ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(_state(pid) in (None, "Z") for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def serve_failing(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `intake serve` where it must refuse to start; its `intake:` lines on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "intake", "serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(**{"INTAKE_HTTP_PORT": "0", **env}),
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("intake:")]
    return done, errors


def test_serve_with_no_environment_answers_probes_and_stops_on_sigterm(tmp_path: Path):
    if not _port_free(8080):
        pytest.fail("port 8080 (the default) is taken by another process on this machine")
    process = subprocess.Popen(
        [sys.executable, "-m", "intake", "serve"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for("http://127.0.0.1:8080/healthz", process)
        assert _get("http://127.0.0.1:8080/healthz")[0] == 200
        status, body = _get("http://127.0.0.1:8080/readyz")
        assert status == 200 and '"ready"' in body
        status, metrics = _get("http://127.0.0.1:8080/metrics")
        assert status == 200
        workers = _children(process.pid)
        assert len(workers) >= 2  # the risk detector's workers (INTAKE_RISK_WORKERS=2), and
        # Python's resource tracker beside them
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert _gone(workers)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (tmp_path / "var" / "intake.db").exists()
    log = (tmp_path / "var" / "logs" / "intake.log").read_text()
    assert '"event": "serving"' in log and '"event": "stopped"' in log


def test_serve_with_an_unreachable_database_fails_in_one_line(tmp_path: Path):
    url = "postgresql+asyncpg://svc:hunter2-secret@127.0.0.1:1/intake"
    done, errors = serve_failing(tmp_path, INTAKE_DATABASE_URL=url)
    assert done.returncode != 0
    assert len(errors) == 1 and "cannot reach the database" in errors[0]
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("INTAKE_ADVISER_NUMBER", "call the office", "INTAKE_ADVISER_NUMBER is not a phone number"),
        ("INTAKE_OFFICE_HOURS", "weekdays", "expected e.g. 'Mon-Fri 09:00-17:00'"),
        ("INTAKE_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("INTAKE_HTTP_PORT", "eighty", "INTAKE_HTTP_PORT must be a whole number"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(tmp_path: Path, name, value, message):
    done, errors = serve_failing(tmp_path, **{name: value})
    assert done.returncode == 1
    assert len(errors) == 1 and message in errors[0], done.stderr


def test_serve_says_clearly_when_its_port_is_taken(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done, errors = serve_failing(tmp_path, INTAKE_SMTP_PORT=str(port))
    assert done.returncode == 1
    assert len(errors) == 1 and "cannot listen" in errors[0] and str(port) in errors[0]
    assert "Traceback" not in done.stderr
