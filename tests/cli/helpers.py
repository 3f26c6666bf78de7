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
