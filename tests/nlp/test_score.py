"""`intake risk score` / `python -m nlp.score`: JSONL in, JSONL out, line-numbered errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from nlp.score import run

ROOT = Path(__file__).resolve().parents[2]
LINES = (
    b'{"id": "a", "text": "his dad hit him with a belt"}\n'
    b"this is not json\n"
    b'{"id": "c"}\n'
    b'{"id": "d", "text": 42}\n'
    b'{"id": "e", "text": "can I get help with transport?"}\n'
    b"\n"
    b'{"id": "f", "text": "caf\xff\xfe she wants to die"}\n'
)


def _run(data: bytes, path: str | None = None) -> tuple[int, list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(path, io.BytesIO(data), out, err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_scores_stdin_and_reports_malformed_lines_by_number():
    code, rows, err = _run(LINES)
    assert code == 1
    assert [r["id"] for r in rows] == ["a", "e", "f"]
    assert rows[0]["flagged"] and rows[0]["severity"] in ("immediate", "concern")
    assert rows[0]["categories"] == ["physical_abuse"]
    evidence = rows[0]["evidence"][0]
    assert set(evidence) == {"start", "end", "text", "category", "rule"}
    assert rows[1] == {
        "id": "e",
        "flagged": False,
        "severity": None,
        "categories": [],
        "evidence": [],
        "model": rows[0]["model"],
    }
    assert rows[0]["model"].startswith("risk-lr-")  # every assessment names its model
    assert rows[2]["flagged"]  # invalid UTF-8 replaced, the rest still read
    assert "line 2" in err and "line 3" in err and "line 4" in err
    assert "not json" not in err  # never echo a parent's words


def test_all_good_lines_exit_zero():
    code, rows, err = _run(b'{"id": 1, "text": "thanks for your help"}\n')
    assert (code, len(rows), err) == (0, 1, "")


def test_scores_a_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(LINES)
    code, rows, _err = _run(b"", str(path))
    assert code == 1 and len(rows) == 3


def test_missing_file_is_a_clear_error(tmp_path):
    code, rows, err = _run(b"", str(tmp_path / "nope.jsonl"))
    assert code == 2 and rows == [] and "cannot read" in err


def test_module_entry_point_reads_stdin():
    proc = subprocess.run(
        [sys.executable, "-m", "nlp.score"],
        input=b'{"id": "x", "text": "he keeps saying he will kill himself"}\nbad\n',
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    (row,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert row["id"] == "x" and row["severity"] == "immediate"
    assert b"line 2" in proc.stderr
