"""The child-risk detector: does this text suggest a child may be at risk of harm?

Rules alone miss new wordings (a third of fresh disclosures); a learned model generalises far
better but says less about why. So both run on every text: the rule detector's verdict is an
input of the model (how much to trust it was learned by cross-validation, `nlp.train`), and
every flag carries evidence: the rules' spans, and the sentences and terms that carried the
model. The tier sets how loud the alert is: ``immediate`` (danger now), ``concern``, or
``review`` (a lower-confidence flag, read the same day). The detector knows nothing of
channels or storage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from nlp.assessment import NOT_FLAGGED, Assessment, Evidence
from nlp.model import ModelFileError, RiskModel, Score, Seen, sentence_spans
from nlp.pipeline import warm_tokenizer
from nlp.rule_detector import (
    BACKSTOP_CATEGORY,
    CHUNK_CHARS,
    RuleDetector,
    _as_text,
    split_chunks,
)

__all__ = [
    "BACKSTOP_CATEGORY",
    "CHUNK_CHARS",
    "NOT_FLAGGED",
    "Assessment",
    "Evidence",
    "ModelFileError",
    "RiskDetector",
    "RuleDetector",
    "get_detector",
    "around",
    "rule_contexts",
    "rule_values",
    "windows",
    "split_chunks",
]

RULE_FEATURES = ("rules_flagged", "rules_immediate", "rules_backstop_only")
EXPLAINED_SENTENCES = 3  # at most this many sentences are named as a model flag's evidence
EXPLAINED_TERMS = 4  # and at most this many of its weightiest terms
WINDOW_CHARS = 500  # a longer text is also scored in windows of sentences this long
SENTENCE_CHARS = 12  # a shorter "sentence" ("Hi Jo,") is not scored on its own
CONTEXT_CHARS = 300  # context kept either side of a disclosure or rule match, at most
CONTEXTS = 8  # rule matches whose context the model is asked about, at most


def rule_values(ruled: Assessment) -> tuple[float, ...]:
    """The rule detector's verdict as the model's input features (see RULE_FEATURES)."""
    specific = any(c != BACKSTOP_CATEGORY for c in ruled.categories)
    return (
        float(ruled.flagged),
        float(ruled.severity == "immediate"),
        float(ruled.flagged and not specific),
    )


class RiskDetector:
    """The combined detector: the rules and the committed model (read once, here)."""

    def __init__(self, model_path: Path | None = None, rules_dir: Path | None = None) -> None:
        self.model = RiskModel.load(model_path)
        if tuple(self.model.rule_features) != RULE_FEATURES:
            raise ModelFileError("risk model file was trained on other rule features; retrain")
        self.rules = RuleDetector(rules_dir)
        self.nlp = self.rules.nlp
        warm_tokenizer(self.nlp, self.model.common_words())
        self.version = self.model.version

    def assess(self, text: str) -> Assessment:
        """Assess one text (any length; long texts are assessed in chunks)."""
        return self.assess_many([text])[0]

    def assess_many(self, texts: Iterable[str], batch_size: int = 256) -> list[Assessment]:
        originals = [_as_text(t) for t in texts]
        ruled = self.rules.assess_many(originals, batch_size)
        return [self._judge(t, r) for t, r in zip(originals, ruled, strict=True)]

    def model_only(self, texts: Iterable[str]) -> list[Assessment]:
        """The model's verdict without the rules' floor (for `nlp.evaluate`): flagged at the
        review threshold; tiers by the model's own thresholds."""
        originals = [_as_text(t) for t in texts]
        out = []
        for text, ruled in zip(originals, self.rules.assess_many(originals), strict=True):
            _, _, score = self._model_score(text, ruled)
            limits = self.model.thresholds
            if score.risk < limits["review"]:
                out.append(Assessment(False, None, (), (), self.version))
                continue
            severity = "review" if score.risk < limits["concern"] else "concern"
            if severity == "concern" and score.immediate >= limits["immediate"]:
                severity = "immediate"
            out.append(Assessment(True, severity, (), (), self.version))
        return out

    def _model_score(
        self, text: str, ruled: Assessment, seen: Seen | None = None
    ) -> tuple[int, str, Score]:
        """The model's score of the text's most worrying part: (offset, part, score).

        A long text is also scored in windows of a few sentences: one sentence of disclosure
        in pages about something else would otherwise weigh too little against the rest."""
        values = rule_values(ruled)
        return max(
            ((o, part, self.model.score(part, values, seen)) for o, part in windows(text)),
            key=lambda found: found[2].risk,
        )

    def _rule_stands(self, text: str, ruled: Assessment, risk: float, seen: Seen) -> bool:
        """A rule's flag stands when the model gives the text, or one of the rule's matches
        with a sentence either side, at least the floor learnt by cross-validation."""
        if not ruled.flagged:
            return False
        floor = self.model.thresholds["rules_floor"]
        return risk >= floor or any(
            self.model.risk(c, seen) >= floor for c in rule_contexts(text, ruled)
        )

    def _judge(self, text: str, ruled: Assessment) -> Assessment:
        seen: Seen = {}  # this text's words, for its overlapping windows; dropped on return
        offset, chunk, score = self._model_score(text, ruled, seen)
        limits = self.model.thresholds
        by_model = score.risk >= limits["review"]
        if not (by_model or self._rule_stands(text, ruled, score.risk, seen)):
            return Assessment(False, None, (), (), self.version)
        if ruled.severity == "immediate" or (
            score.risk >= limits["concern"] and score.immediate >= limits["immediate"]
        ):
            severity = "immediate"
        elif ruled.flagged or score.risk >= limits["concern"]:
            severity = "concern"
        else:
            severity = "review"
        categories = tuple(c for c in ruled.categories if c != BACKSTOP_CATEGORY)
        if not categories:
            categories = (self.model.category(chunk) or BACKSTOP_CATEGORY,)
        evidence = ruled.evidence
        if by_model:
            evidence += self._explain(text, offset, chunk, categories[0], seen)
        evidence = tuple(sorted(set(evidence), key=lambda e: (e.start, e.end, e.rule)))
        return Assessment(True, severity, categories, evidence, self.version)

    def _explain(
        self, text: str, offset: int, chunk: str, category: str, seen: Seen
    ) -> tuple[Evidence, ...]:
        """The sentences that carried the model (scored alone), and its weightiest terms in
        them, as spans of the original text."""
        scored = sorted(
            ((self.model.risk(chunk[s:e], seen), s, e) for s, e in sentence_spans(chunk)),
            reverse=True,
        )
        carrying = [x for x in scored if x[0] >= self.model.thresholds["review"]] or scored[:1]
        out: list[Evidence] = []
        terms = self.model.terms(chunk)
        for _risk, s, e in carrying[:EXPLAINED_SENTENCES]:
            a, b = offset + s, offset + e
            out.append(Evidence(a, b, text[a:b], category, "model.sentence"))
            for ts, te in self.model.term_spans(chunk, s, e, terms)[:EXPLAINED_TERMS]:
                a, b = offset + ts, offset + te
                out.append(Evidence(a, b, text[a:b], category, "model.term"))
        return tuple(out)


def rule_contexts(text: str, ruled: Assessment) -> list[str]:
    """Each rule match's sentence with a sentence either side (for the first CONTEXTS
    matches). Cross-validation chose this over the sentence alone, which let too many of the
    rules' false alarms stand."""
    if not ruled.flagged:
        return []
    found = (around(text, e.start, e.end) for e in ruled.evidence[:CONTEXTS])
    return list(dict.fromkeys(found))


def around(text: str, start: int, end: int, reach: int = 1) -> str:
    """The sentence(s) holding text[start:end], with `reach` sentences either side (at most
    CONTEXT_CHARS beyond the span each way): a disclosure with just enough context."""
    spans = sentence_spans(text)
    if not spans:
        return text[start:end]
    first = next((n for n, (_s, e) in enumerate(spans) if e > start), len(spans) - 1)
    last = next((n for n, (s_, _e) in enumerate(spans) if s_ >= end), len(spans)) - 1
    lo = spans[max(0, first - reach)][0]
    hi = spans[min(len(spans) - 1, max(first, last) + reach)][1]
    return text[max(lo, start - CONTEXT_CHARS) : min(hi, end + CONTEXT_CHARS)]


def windows(text: str, sentences: bool = False) -> Iterator[tuple[int, str]]:
    """(offset, part) pieces the model scores: each chunk, and in a chunk longer than
    WINDOW_CHARS, runs of whole sentences of about that length, each starting about half a
    window after the one before; with `sentences`, each sentence of a chunk of several too.
    The model is trained on parts like these (nlp.train), so a part is judged as a whole
    message would be."""
    for offset, chunk in split_chunks(text):
        yield offset, chunk
        spans = _short_spans(chunk)
        if len(spans) < 2:
            continue
        if sentences:
            for start, end in spans:
                if end - start >= SENTENCE_CHARS:
                    yield offset + start, chunk[start:end]
        if len(chunk) <= WINDOW_CHARS:
            continue
        i = 0
        while i < len(spans):
            start, j = spans[i][0], i
            while j + 1 < len(spans) and spans[j + 1][1] - start <= WINDOW_CHARS:
                j += 1
            if j > i:
                yield offset + start, chunk[start : spans[j][1]]
            if j == len(spans) - 1:
                break
            following = i + 1
            while following <= j and spans[following][0] - start < WINDOW_CHARS // 2:
                following += 1
            i = following


def _short_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, a sentence longer than a window (speech has no full stops) cut at
    spaces into window-sized pieces."""
    out = []
    for start, end in sentence_spans(text):
        while end - start > WINDOW_CHARS:
            cut = text.rfind(" ", start + WINDOW_CHARS // 2, start + WINDOW_CHARS)
            cut = cut if cut > start else start + WINDOW_CHARS
            out.append((start, cut))
            start = cut + 1 if text[cut : cut + 1] == " " else cut
        if end > start:
            out.append((start, end))
    return out


_lock = threading.Lock()
_detectors: dict[Path | None, RiskDetector] = {}


def get_detector(model_path: Path | None = None) -> RiskDetector:
    """The process-wide detector for a model file (the packaged one by default), loaded once;
    the gateway calls this at start-up, so a bad model file stops it there."""
    found = _detectors.get(model_path)
    if found is None:
        with _lock:
            found = _detectors.get(model_path)
            if found is None:
                found = _detectors[model_path] = RiskDetector(model_path)
    return found
