"""`python -m bench [--json]` (or `make bench`): every benchmark in turn, each against its own
baseline. --json is passed on, so each benchmark ends with its JSON line, for machines (CI,
comparisons)."""

import subprocess
import sys

extra = ["--json"] if "--json" in sys.argv[1:] else []
for name in ("bench.risk", "bench.voice", "bench.mail"):
    print(f"== {name}", flush=True)
    subprocess.run([sys.executable, "-m", name, *extra], check=True)  # noqa: S603 - our own modules
