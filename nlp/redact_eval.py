"""Measure redaction recall on a labelled JSONL file of identifiers.

    python -m nlp.redact_eval FILE

Each line: {"text", "known_names": [...], "identifiers": [...]} where identifiers are the
exact substrings that must not survive redaction. Recall is the share of identifiers that
no longer appear (case-insensitively) in the redacted text.
"""

from __future__ import annotations

import json
import sys

from nlp.redact import redact


def redaction_recall(cases: list[dict]) -> tuple[float, list[tuple[int, str]]]:
    """(recall, [(case number, identifier that survived)])."""
    total = 0
    missed: list[tuple[int, str]] = []
    for number, case in enumerate(cases, 1):
        out = redact(case["text"], case.get("known_names", ())).lower()
        for identifier in case["identifiers"]:
            total += 1
            if identifier.lower() in out:
                missed.append((number, identifier))
    return (1 - len(missed) / total if total else 1.0), missed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m nlp.redact_eval FILE", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    recall, missed = redaction_recall(cases)
    count = sum(len(c["identifiers"]) for c in cases)
    print(f"cases: {len(cases)}  identifiers: {count}  recall: {recall:.3f}")
    for number, identifier in missed:
        print(f"  missed in case {number}: a {len(identifier)}-character identifier")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
