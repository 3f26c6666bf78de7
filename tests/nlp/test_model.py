"""The learned model beside the rules: the committed file, how it is read, what it says and why.

Held-out figures: nlp/data/heldout is written by a writer who never saw the rules or the model,
and is never trained or tuned on. At first sight (model risk-lr-3ebf3d4a51fe) the combined
detector found 205 of its 208 risk items (0.986) with 9 false alarms in 160 (0.056); the rules
alone 0.644 / 0.144, the model alone 0.966 / 0.025."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp import train
from nlp.evaluate import evaluate, format_report, load_items
from nlp.model import ModelFileError, RiskModel, checksum, default_path
from nlp.risk import RiskDetector

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = ROOT / "nlp" / "data" / "heldout"


def test_held_out_first_sight_recall_and_false_alarms(combined):
    items = [i for path in sorted(HELD_OUT.glob("*.jsonl")) for i in load_items(str(path))]
    report = evaluate(items, combined)
    assert len(items) >= 400
    assert report.recall >= 0.97, format_report(report)
    assert report.false_positive_rate <= 0.08, format_report(report)


def test_held_out_data_is_not_in_the_training_data():
    trained = {
        json.loads(line)["text"].strip().casefold()
        for path in train.TRAIN_DIR.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    held = [i.text.strip().casefold() for p in HELD_OUT.glob("*.jsonl") for i in load_items(str(p))]
    assert held and not [t for t in held if t in trained]


def test_run_time_scores_equal_scikit_learn_for_the_same_model():
    """The JSON file and our scorer compute what scikit-learn would (rounding aside)."""
    items = [i for i in train.load() if i.label != "borderline"][::9]
    words = [train.word_features(i.text) for i in items]
    chars = [train.char_features(i.text) for i in items]
    rules = np.array([[float(k % 2), 0.0, float(k % 3 == 0)] for k in range(len(items))])
    y = np.array([i.label == "risk" for i in items], dtype=int)
    features = train.Features(words, chars)
    x = features.matrix(words, chars, rules)
    fitted = train._logistic(train.C_RISK).fit(x, y)
    n_word, n_char = len(features.word.vocabulary_), len(features.char.vocabulary_)
    head = train._head(fitted, n_word, n_char)
    payload = {
        "version": "test",
        "rule_features": ["a", "b", "c"],
        "thresholds": {"review": 0.5, "concern": 0.6, "immediate": 0.5, "rules_floor": 0.2},
        "word": train._vocabulary(features.word),
        "char": train._vocabulary(features.char),
        "heads": {"risk": head, "immediate": head},
        "categories": {},
    }
    model = RiskModel({"format": 1, "sha256": checksum(payload), "payload": payload})
    expected = fitted.predict_proba(x)[:, 1]
    ours = [model.score(i.text, tuple(rules[k])).risk for k, i in enumerate(items)]
    assert np.allclose(ours, expected, atol=1e-4)
    assert len({round(p, 1) for p in ours}) > 3  # the scores really differ between texts


def test_the_committed_model_is_what_training_produces():
    result = subprocess.run(
        [sys.executable, "-m", "nlp.train", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the committed model is what training produces" in result.stdout


def test_every_assessment_names_the_model_version(combined):
    version = json.loads(default_path().read_bytes())["payload"]["version"]
    for text in ("my dad hit me", "can I get help with transport?", ""):
        assert combined.assess(text).model == version


@pytest.mark.parametrize(
    "text",
    [
        "Hi, about the annual review. P.S. his stepdad held him under the bath water till he "
        "went quiet and I'm scared to go home.",
        "i no its probly nothing but she keeps going to a flat in town with older lads and "
        "comes back with new trainers and cash",
        "Dear team,\n\nThank you for the draft plan.\n\nShe has been saving up her tablets in "
        "a sock and gave her sister her favourite things this week.\n\nKind regards",
        "caf\u00e9 \u2014 he said he\u2019d \u201cend it\u201d tonight \U0001f622",
    ],
)
def test_every_evidence_span_is_a_slice_of_the_text(combined, text):
    result = combined.assess(text)
    assert result.flagged
    assert any(e.rule == "model.sentence" for e in result.evidence)
    for evidence in result.evidence:
        assert 0 <= evidence.start < evidence.end <= len(text)
        assert text[evidence.start : evidence.end] == evidence.text


def test_evidence_spans_are_slices_of_a_long_text_assessed_in_chunks(combined):
    letter = (ROOT / "tests" / "nlp" / "data" / "long_letter.txt").read_text(encoding="utf-8")
    half = len(letter) // 2
    cut = letter.index("\n\n", half) + 2
    disclosure = (
        "There is something else I need to tell you. When she screams, her mum's boyfriend "
        "locks her in the cupboard under the stairs, sometimes for hours.\n\n"
    )
    text = (letter[:cut] + disclosure + letter[cut:]) * 2
    result = combined.assess(text)
    assert result.flagged
    sentences = [e for e in result.evidence if e.rule == "model.sentence"]
    assert any("cupboard" in e.text for e in sentences)
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.text


def test_a_model_flag_names_the_terms_that_weighed_most(combined):
    text = "My son came home from his dad's with a black eye and says he's scared to go back."
    result = combined.assess(text)
    terms = [e.text.lower() for e in result.evidence if e.rule == "model.term"]
    assert terms and all(t not in ("my", "his", "a", "and") for t in terms)


def test_tiers_danger_now_and_a_concern_and_no_flag(combined):
    now = combined.assess(
        "he's outside the door now shouting that he'll kill us, the kids are hiding upstairs"
    )
    assert now.flagged and now.severity == "immediate"
    later = combined.assess("My daughter told me her uncle touched her at the weekend.")
    assert later.flagged and later.severity in ("concern", "immediate")
    assert not combined.assess("Can you explain what a Section 41 school is?").flagged


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "risk-model.json"
    shutil.copy(default_path(), target)
    return target


def test_a_corrupt_model_file_is_refused_with_a_clear_message(tmp_path):
    path = _copy_model(tmp_path)
    data = bytearray(path.read_bytes())
    where = data.index(b'"review":') + len(b'"review":')
    data[where : where + 1] = b"9" if data[where : where + 1] != b"9" else b"8"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        RiskDetector(path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="corrupt"):
        RiskDetector(path)
    with pytest.raises(ModelFileError, match="missing"):
        RiskDetector(tmp_path / "nowhere.json")


def test_a_corrupt_model_file_stops_start_up(tmp_path):
    path = _copy_model(tmp_path)
    path.write_bytes(path.read_bytes().replace(b'"format":1', b'"format":7'))
    env = dict(
        os.environ,
        INTAKE_DATA_DIR=str(tmp_path / "data"),
        INTAKE_HTTP_PORT="0",
        INTAKE_SMTP_PORT="0",
        INTAKE_RISK_MODEL=str(path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "intake", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "risk model file" in result.stderr and "format" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "intake.db").exists()  # nothing was opened


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        b"\xff\xfe\x00\x01 binary \x00 junk".decode("utf-8", errors="replace"),
        "\U0001f600\U0001f622\U0001f52a" * 40,
        "Mi hijo tiene autismo y necesito ayuda con la escuela.",
        "\u0645\u0631\u062d\u0628\u0627 \u0627\u0628\u0646\u064a \u064a\u062d\u062a\u0627\u062c",
        "x" * 20_000,
    ],
)
def test_odd_input_is_assessed_by_the_model_too(combined, text):
    result = combined.assess(text)
    assert result.model == combined.version
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.text


def test_invalid_utf8_bytes_are_assessed_not_refused(combined):
    result = combined.assess(b"my dad hit me with a belt \xff\xfe last night")
    assert result.flagged and result.model == combined.version


def test_a_megabyte_of_text_is_assessed_with_the_disclosure_in_it_found(combined):
    filler = "The tribunal date is in March and the LA still has not sent the bundle. "
    disclosure = (
        "He burns her arms with a lighter. She showed me the marks and begged me not to tell. "
    )
    text = filler * 7_000 + "\n\n" + disclosure + "\n\n" + filler * 7_000
    assert len(text) > 1_000_000
    result = combined.assess(text)
    assert result.flagged
    assert any("lighter" in e.text for e in result.evidence)


def test_the_detector_loads_its_model_from_any_working_directory(tmp_path):
    code = (
        "from nlp.risk import RiskDetector; print(RiskDetector().assess('my dad hit me').flagged)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
