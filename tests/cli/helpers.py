"""Running the real `intake` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without any INTAKE_ or TWILIO_ settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def intake(
    *args: str, data_dir: Path, stdin: str | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(INTAKE_DATA_DIR=str(data_dir), **env),
        cwd=cwd or data_dir.parent,
        timeout=120,
    )


DPO_EMAIL = "dpo@council.example"
DPO_PASSWORD = "the data protection officer's long password"
AS_DPO = ("--staff", DPO_EMAIL, "--password-stdin")  # sar's sign-in, the password on stdin
ADD_DPO = ("staff", "add", DPO_EMAIL, "--role", "admin", "--name", "Dee Protection", *AS_DPO[2:])


def sar(data_dir: Path, *who: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`intake sar` run by an admin (added the first time), as a council's DPO would."""
    added = intake(*ADD_DPO, data_dir=data_dir, stdin=DPO_PASSWORD + "\n", **env)
    assert added.returncode == 0 or "already exists" in added.stderr, added.stderr
    return intake("sar", *who, *AS_DPO, data_dir=data_dir, stdin=DPO_PASSWORD + "\n", **env)
