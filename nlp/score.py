"""`intake risk score [FILE]`: JSONL of {"id", "text"} in, one JSONL assessment per line out.

Reads bytes (a file, or stdin without FILE) and decodes UTF-8 with replacement, so binary
junk cannot crash a batch. A malformed line (bad JSON, no string "text") gets a message on
stderr naming its line number - never its content, which may be a parent's words - and the
other lines are still scored. Exit status 1 if any line was malformed, else 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from nlp.risk import get_detector

BATCH = 256


def _records(stream: BinaryIO, stderr: TextIO) -> Iterator[tuple[object, str] | None]:
    """Yield (id, text) per valid line, None per malformed line (after reporting it)."""
    for number, raw in enumerate(stream, 1):
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            print(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})", file=stderr)
            yield None
            continue
        if not isinstance(row, dict):
            print(f'line {number}: expected a JSON object with "id" and "text"', file=stderr)
            yield None
        elif not isinstance(row.get("text"), str):
            what = "missing" if "text" not in row else "not a string"
            print(f'line {number}: "text" is {what}', file=stderr)
            yield None
        else:
            yield row.get("id"), row["text"]


def run(path: str | None, stdin: BinaryIO, stdout: TextIO, stderr: TextIO) -> int:
    """Score every line of ``path`` (or ``stdin``); return the process exit code."""
    detector = get_detector()
    try:
        stream = open(path, "rb") if path else stdin  # noqa: SIM115 - closed below
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=stderr)
        return 2
    malformed = False
    batch: list[tuple[object, str]] = []

    def flush() -> None:
        results = detector.assess_many(text for _, text in batch)
        for (ident, _), result in zip(batch, results, strict=True):
            stdout.write(json.dumps(result.to_json(ident), ensure_ascii=False) + "\n")
        batch.clear()

    try:
        for record in _records(stream, stderr):
            if record is None:
                malformed = True
                continue
            batch.append(record)
            if len(batch) >= BATCH:
                flush()
        flush()
    finally:
        if path:
            stream.close()
    stdout.flush()
    return 1 if malformed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m nlp.score [FILE]``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or args and args[0] in ("-h", "--help"):
        print('usage: python -m nlp.score [FILE]  (JSONL {"id", "text"}; stdin without FILE)')
        return 0 if args and args[0] in ("-h", "--help") else 2
    return run(args[0] if args else None, sys.stdin.buffer, sys.stdout, sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
