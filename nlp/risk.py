"""The child-risk detector: does this text suggest a child may be at risk of significant harm?

A miss can leave a child in danger, so the rules lean towards flagging and every flag carries
its evidence (character span, category, rule id) for the safeguarding lead to judge. The
detector knows nothing of channels or storage: it takes text and returns an ``Assessment``.

Speed: every text is tokenised and lemmatised; only texts containing an anchor lemma of some
rule go on to sentence splitting, the rule matcher and the context cues. Long texts are cut
into bounded chunks (with an overlap so a phrase on a boundary is still seen) and all chunks
are assessed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from spacy.attrs import LEMMA
from spacy.tokens import Doc

from nlp.context import Context, CueHit
from nlp.pipeline import build_pipeline, compile_matcher
from nlp.rules import RuleSet, load_rules

CHUNK_CHARS = 4000  # text per spaCy call: bounds the time and memory of one call
CHUNK_OVERLAP = 300  # characters repeated between chunks so boundary phrases are not lost
NEAR = "#near"  # matcher key suffix for a rule's "near" patterns
NEAR_TOKENS = 30  # how close a "near" pattern must be to the rule's match


@dataclass(frozen=True)
class Evidence:
    """Why a text was flagged: the span (character offsets), its text, category and rule."""

    start: int
    end: int
    text: str
    category: str
    rule: str


@dataclass(frozen=True)
class Assessment:
    """The verdict on one text. ``severity`` is "immediate" or "concern" when flagged."""

    flagged: bool
    severity: str | None
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    def to_json(self, id: object = None) -> dict:
        """The JSON shape of ``intake risk score`` output lines."""
        return {
            "id": id,
            "flagged": self.flagged,
            "severity": self.severity,
            "categories": list(self.categories),
            "evidence": [asdict(e) for e in self.evidence],
        }


NOT_FLAGGED = Assessment(False, None, (), ())


class RiskDetector:
    """Rule-based risk detection on a blank English spaCy pipeline."""

    def __init__(self, rules_dir: Path | None = None) -> None:
        self.ruleset: RuleSet = load_rules(rules_dir)
        self.nlp = build_pipeline()
        self._lemmatizer = self.nlp.get_pipe("lemmatizer")
        self._sentencizer = self.nlp.get_pipe("sentencizer")
        vocab = self.nlp.vocab
        self._rules = {rule.id: rule for rule in self.ruleset.rules}
        self._rule_key = {vocab.strings.add(r.id): r for r in self.ruleset.rules}
        self._cue_kind = {vocab.strings.add(c.id): c.kind for c in self.ruleset.cues}
        self.matcher = compile_matcher(
            vocab,
            [(r.id, r.patterns) for r in self.ruleset.rules]
            + [(r.id + NEAR, r.near) for r in self.ruleset.rules if r.near],
        )
        self._near_key = {
            vocab.strings.add(r.id + NEAR): r.id for r in self.ruleset.rules if r.near
        }
        self._her_guard = self.ruleset.lexicon.lemmas.get("NOT_AFTER_HER", frozenset())
        self.cue_matcher = compile_matcher(vocab, ((c.id, c.patterns) for c in self.ruleset.cues))
        anchors: set[int] = set()
        self._always = False
        for rule in self.ruleset.rules:
            for pattern in rule.patterns:
                if pattern.anchor is None:
                    self._always = True
                else:
                    anchors.update(vocab.strings.add(lemma) for lemma in pattern.anchor)
        self._anchors = frozenset(anchors)

    # -- public API ---------------------------------------------------------------------

    def assess(self, text: str) -> Assessment:
        """Assess one text (any length; long texts are assessed in chunks)."""
        return self.assess_many([text])[0]

    def assess_many(self, texts: Iterable[str], batch_size: int = 256) -> list[Assessment]:
        """Assess many texts through ``nlp.pipe`` (tokeniser + lemmatiser in batches)."""
        owners: list[int] = []
        offsets: list[int] = []
        originals: list[str] = []

        def chunks() -> Iterator[str]:
            for index, text in enumerate(texts):
                text = _as_text(text)
                originals.append(text)
                for offset, chunk in split_chunks(text):
                    owners.append(index)
                    offsets.append(offset)
                    yield chunk

        found: dict[int, list[tuple[Evidence, str]]] = {}
        docs = self.nlp.pipe(chunks(), batch_size=batch_size, disable=["sentencizer"])
        for position, doc in enumerate(docs):
            hits = self._assess_doc(doc, offsets[position], originals[owners[position]])
            if hits:
                found.setdefault(owners[position], []).extend(hits)
        return [_combine(found.get(i, [])) for i in range(len(originals))]

    def rule_ids(self) -> tuple[str, ...]:
        """Ids of every loaded rule (for tests and documentation)."""
        return tuple(self._rules)

    # -- internals ----------------------------------------------------------------------

    def _is_candidate(self, doc: Doc) -> bool:
        if self._always:
            return True
        return not self._anchors.isdisjoint(doc.to_array(LEMMA).tolist())

    def _assess_doc(self, doc: Doc, offset: int, original: str) -> list[tuple[Evidence, str]]:
        if not len(doc) or not self._is_candidate(doc):
            return []
        matches = self.matcher(doc)
        if not matches:
            return []
        self._sentencizer(doc)
        context = Context(
            doc,
            (CueHit(self._cue_kind[key], s, e) for key, s, e in self.cue_matcher(doc)),
        )
        near: dict[str, list[int]] = {}
        for key, start, _end in matches:
            if key in self._near_key:
                near.setdefault(self._near_key[key], []).append(start)
        out: list[tuple[Evidence, str]] = []
        for key, start, end in matches:
            rule = self._rule_key.get(key)
            if rule is None:
                continue
            if rule.near and not any(
                abs(pos - start) <= NEAR_TOKENS for pos in near.get(rule.id, ())
            ):
                continue
            start, end = _trim(doc, start, end)
            if self._possessive_her(doc, end):
                continue
            verdict = context.judge(rule, start, end)
            if not verdict.keep:
                continue
            span = doc[start:end]
            s, e = offset + span.start_char, offset + span.end_char
            out.append((Evidence(s, e, original[s:e], rule.category, rule.id), verdict.severity))
        return out

    def _possessive_her(self, doc: Doc, end: int) -> bool:
        """A match ending in "her" followed by a body part or a person ("hit her head",
        "kicked her TA") is about her possessions, not her: drop it."""
        return (
            doc[end - 1].lower_ == "her" and end < len(doc) and doc[end].lemma_ in self._her_guard
        )


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Drop punctuation a gap swallowed at either edge, so evidence reads cleanly."""
    while end - start > 1 and doc[end - 1].is_punct:
        end -= 1
    while end - start > 1 and doc[start].is_punct:
        start += 1
    return start, end


def _combine(hits: list[tuple[Evidence, str]]) -> Assessment:
    if not hits:
        return NOT_FLAGGED
    unique: dict[tuple[int, int, str], tuple[Evidence, str]] = {}
    for evidence, severity in hits:
        key = (evidence.start, evidence.end, evidence.rule)
        if key not in unique or severity == "immediate":
            unique[key] = (evidence, severity)
    ordered = sorted(unique.values(), key=lambda h: (h[0].start, h[0].end, h[0].rule))
    evidence = tuple(e for e, _ in ordered)
    severity = "immediate" if any(s == "immediate" for _, s in ordered) else "concern"
    categories = tuple(dict.fromkeys(e.category for e in evidence))
    return Assessment(True, severity, categories, evidence)


def _as_text(text: object) -> str:
    """Accept str (or bytes, decoded with replacement); anything else is a caller error."""
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", errors="replace")
    raise TypeError(f"RiskDetector expects text, got {type(text).__name__}")


def split_chunks(text: str, size: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP):
    """Yield (offset, chunk) pieces of at most ``size`` characters covering all of ``text``.

    Cuts prefer a paragraph or sentence end, then whitespace, in the last part of a chunk;
    consecutive chunks overlap by about ``overlap`` characters.
    """
    if len(text) <= size:
        yield 0, text
        return
    start = 0
    while start < len(text):
        stop = min(start + size, len(text))
        if stop < len(text):
            window = text[start + size // 2 : stop]
            cut = -1
            for mark in ("\n\n", ". ", "? ", "! ", "\n", " "):
                cut = window.rfind(mark)
                if cut != -1:
                    stop = start + size // 2 + cut + len(mark)
                    break
        yield start, text[start:stop]
        if stop >= len(text):
            return
        next_start = max(stop - overlap, start + 1)
        space = text.find(" ", next_start, stop)
        start = space + 1 if space != -1 else next_start


_lock = threading.Lock()
_detector: RiskDetector | None = None


def get_detector() -> RiskDetector:
    """The process-wide detector, loaded once (the gateway calls this at startup)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = RiskDetector()
    return _detector
