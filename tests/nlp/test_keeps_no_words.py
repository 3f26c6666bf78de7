"""The detector keeps nothing of what it reads: a parent's words (a child's name, an address)
leave no string, lexeme or cache entry in the process once the message is assessed, and the
words it does keep warm (the model's own vocabulary) change how fast it tokenises, not what."""

from __future__ import annotations

import json
from pathlib import Path

from nlp.pipeline import build_pipeline, warm_forms
from nlp.risk import RiskDetector

UNIQUE = ("Quorbelline", "Fitzwhistlemere", "Zandravoo")
MESSAGE = (
    "My daughter {0} is seven. Her dad {1} hit her again last night and she is scared to go "
    "home. We live at 14 {2} Close."
)


def _lexemes(detector: RiskDetector) -> set[int]:
    """The lexemes the vocabulary holds (its len() counts ever made, not still held)."""
    return {lexeme.orth for lexeme in detector.nlp.vocab}


def _kept(detector: RiskDetector, word: str) -> list[str]:
    """Where in the detector's memory `word` (in any case) is still found."""
    places = []
    strings = detector.nlp.vocab.strings
    for form in (word, word.lower()):
        if form in strings:
            places.append(f"string {form!r}")
        if any(key.startswith(form.lower()) for key in detector.model._char_cache):
            places.append(f"character cache {form!r}")
    return places


def test_assessing_a_message_leaves_none_of_its_words_in_memory(combined: RiskDetector) -> None:
    lexemes = _lexemes(combined)
    found = combined.assess(MESSAGE.format(*UNIQUE))
    assert found.flagged  # the message was read, and read right
    assert any("hit her" in e.text for e in found.evidence)
    assert [place for word in UNIQUE for place in _kept(combined, word)] == []
    assert _lexemes(combined) == lexemes


def test_many_different_messages_do_not_grow_the_vocabulary(combined: RiskDetector) -> None:
    combined.assess("warming up the detector once")
    lexemes, strings = _lexemes(combined), len(combined.nlp.vocab.strings)
    combined.assess_many([f"Name{n:04d} wrote about Place{n:04d} Road." for n in range(300)])
    assert (_lexemes(combined), len(combined.nlp.vocab.strings)) == (lexemes, strings)


def test_explaining_a_match_keeps_nothing_either(combined: RiskDetector) -> None:
    matches = combined.rules.explain(MESSAGE.format(*UNIQUE))
    assert matches  # a lead sees why the rules fired
    assert [place for word in UNIQUE for place in _kept(combined, word)] == []


def test_the_warm_tokenizer_splits_text_as_a_cold_one_does(combined: RiskDetector) -> None:
    cold = build_pipeline()
    path = Path(__file__).parent / "data" / "long_letter.txt"
    texts = [path.read_text(encoding="utf-8")]
    texts += [json.loads(line)["text"] for line in _probe_lines()]
    texts += [" ".join(warm_forms(combined.model.common_words()[:400]))]
    for text in texts:
        with combined.nlp.memory_zone():
            warm = [(t.text, t.whitespace_) for t in combined.nlp.tokenizer(text)]
        assert warm == [(t.text, t.whitespace_) for t in cold.tokenizer(text)]


def test_warm_forms_are_the_words_as_they_stand_in_a_sentence() -> None:
    assert warm_forms(["school", "he's"]) == [
        "school", "school,", "school.", "School", "School,", "School.",
        "he's", "he's,", "he's.", "He's", "He's,", "He's.",
    ]  # fmt: skip


def _probe_lines() -> list[str]:
    """Some labelled messages of every style (the committed training data)."""
    data = sorted((Path(__file__).resolve().parents[2] / "nlp" / "data").rglob("*.jsonl"))
    lines = [line for p in data for line in p.read_text(encoding="utf-8").splitlines() if line]
    return lines[:: max(1, len(lines) // 300)]
