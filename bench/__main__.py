"""`python -m bench` (or `make bench`): every benchmark in turn, each against its own baseline."""

import subprocess
import sys

for name in ("bench.risk", "bench.voice", "bench.mail"):
    print(f"== {name}", flush=True)
    subprocess.run([sys.executable, "-m", name], check=True)  # noqa: S603 - our own modules
