"""The rule-based child-risk detector: does this text suggest a child may be at risk of harm?

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
from contextlib import contextmanager
from pathlib import Path

from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from nlp.assessment import NOT_FLAGGED, Assessment, Evidence
from nlp.context import CLAUSE_BREAKS, DENIAL_REACH, Context, CueHit, Sentences
from nlp.index import PatternIndex, Tokens
from nlp.pipeline import build_pipeline
from nlp.rules import RuleSet, load_rules

CHUNK_CHARS = 4000  # text per spaCy call: bounds the time and memory of one call
CHUNK_OVERLAP = 300  # characters repeated between chunks so boundary phrases are not lost
NEAR_TOKENS = 30  # how close a "near" pattern must be to the rule's match
CUE_WINDOW = 20  # context cues are looked for this far around a match, within its sentence
DOC_WIDE = frozenset({"managed", "clinical", "escalation"})  # cue kinds that count anywhere
SENTENCE_ENDERS = tuple(Sentencizer.default_punct_chars)
# The backstop (rules/backstop.toml) has the lowest precedence: its evidence is reported only
# when no specific rule fired on the text, so "backstop.*" names the reason exactly when the
# message would otherwise have gone unflagged.
BACKSTOP_CATEGORY = "unclassified_concern"


class RuleDetector:
    """Rule-based risk detection on a blank English spaCy pipeline."""

    def __init__(self, rules_dir: Path | None = None) -> None:
        self.ruleset: RuleSet = load_rules(rules_dir)
        self.nlp = build_pipeline()
        self._zone_lock = threading.Lock()
        vocab = self.nlp.vocab
        self._rules = {rule.id: rule for rule in self.ruleset.rules}
        self._cue_kind = {c.id: c.kind for c in self.ruleset.cues}
        self.index = PatternIndex(
            vocab, ((r.id, p) for r in self.ruleset.rules for p in r.patterns)
        )
        self._near = {
            r.id: PatternIndex(vocab, ((r.id, p) for p in r.near))
            for r in self.ruleset.rules
            if r.near
        }
        local = [c for c in self.ruleset.cues if c.kind not in DOC_WIDE]
        wide = [c for c in self.ruleset.cues if c.kind in DOC_WIDE]
        self.cues = PatternIndex(vocab, ((c.id, p) for c in local for p in c.patterns))
        self.doc_cues = PatternIndex(vocab, ((c.id, p) for c in wide for p in c.patterns))
        self._doc_wide_cues = frozenset(
            vocab.strings.add(lemma)
            for c in wide
            for p in c.patterns
            for _, lemmas in p.required
            for lemma in lemmas
        ) or frozenset({0})
        strings = vocab.strings
        self._enders = frozenset(strings.add(c) for c in SENTENCE_ENDERS)
        self._blank_lines = frozenset(strings.add(t) for t in ("\n\n", "\n\n\n", "\n \n"))
        self._punct = frozenset(strings.add(c) for c in ",.;:!?\"'()-–—") | self._enders
        self._clause_breaks = frozenset(strings.add(w) for w in CLAUSE_BREAKS) | self._blank_lines
        self._her = vocab.strings.add("her")
        self._her_guard = frozenset(
            vocab.strings.add(x) for x in self.ruleset.lexicon.lemmas.get("NOT_AFTER_HER", ())
        )

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
        with self._zone():
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

    def explain(self, text: str) -> list[tuple[str, str, str | None]]:
        """Every rule match in ``text`` as (rule id, matched text, silencing context or None).

        For safeguarding leads and rule authors: shows matches that context silenced too.
        """
        with self._zone():
            doc = self.nlp(_as_text(text)[:CHUNK_CHARS])
            return [
                (evidence.rule, evidence.text, silenced)
                for evidence, _severity, silenced in self._assess_doc(doc, 0, doc.text, all_=True)
            ]

    @contextmanager
    def _zone(self) -> Iterator[None]:
        """spaCy's memory zone around everything made from a text: its strings, lexemes and
        docs are freed when the block ends, so no word of it stays in the process (nothing of
        a doc may leave the block: hits are plain strings and offsets). Zones must not nest
        or overlap, hence the lock (the GIL serialises this work anyway)."""
        with self._zone_lock, self.nlp.memory_zone():
            yield

    def _assess_doc(self, doc: Doc, offset: int, original: str, all_: bool = False) -> list:
        if not len(doc):
            return []
        tokens = Tokens(doc)
        lemmas, lowers = tokens.lemmas, tokens.lowers
        matches = self.index.find(doc, tokens)
        if not matches:
            return []
        sentences = Sentences(lowers, self._enders, self._blank_lines)
        candidates = []
        for key, start, end in _longest_per_rule(matches):
            start, end = _trim(lowers, self._punct, start, end)
            if sentences.start[start] != sentences.start[end - 1]:
                continue  # a gap must not join two sentences
            if self._possessive_her(lemmas, end):
                continue
            rule = self._rules[key]
            if rule.near and not self._near[rule.id].find(
                doc, tokens, max(0, start - NEAR_TOKENS), min(len(doc), end + NEAR_TOKENS)
            ):
                continue
            candidates.append((rule, start, end))
        if not candidates:
            return []
        hits = self._cue_hits(doc, tokens, sentences, candidates)
        context = Context(lowers, sentences, self._clause_breaks, hits)
        out: list[tuple[Evidence, str]] = []
        for rule, start, end in candidates:
            verdict = context.judge(rule, start, end)
            if not verdict.keep and not all_:
                continue
            span = doc[start:end]
            s, e = offset + span.start_char, offset + span.end_char
            evidence = Evidence(s, e, original[s:e], rule.category, rule.id)
            if all_:
                out.append((evidence, verdict.severity, verdict.silenced_by))
            else:
                out.append((evidence, verdict.severity))
        return out

    def _cue_hits(self, doc: Doc, tokens: Tokens, sentences: Sentences, candidates) -> list[CueHit]:
        """Context cues, searched only in the sentences around candidate matches."""
        windows: list[tuple[int, int]] = []
        for _rule, start, end in sorted(candidates, key=lambda c: c[1]):
            lo = max(sentences.start[start], start - CUE_WINDOW)
            hi = min(sentences.end[end - 1], end + CUE_WINDOW)
            hi = min(len(doc), hi + DENIAL_REACH)  # the answer just after a question's "?"
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        hits = [
            CueHit(self._cue_kind[key], s, e)
            for lo, hi in windows
            for key, s, e in self.cues.find(doc, tokens, lo, hi)
        ]
        if self._doc_wide_cues.isdisjoint(tokens.present):
            return hits
        # "managed", "clinical" and "escalation" cues count anywhere in the text.
        hits.extend(
            CueHit(self._cue_kind[key], s, e) for key, s, e in self.doc_cues.find(doc, tokens)
        )
        return hits

    def _possessive_her(self, lemmas: list[int], end: int) -> bool:
        """A match ending in "her" followed by a body part or a person ("hit her head",
        "kicked her TA") is about her possessions, not her: drop it."""
        return lemmas[end - 1] == self._her and end < len(lemmas) and lemmas[end] in self._her_guard


def _longest_per_rule(matches: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Several patterns of one rule often match overlapping spans: keep the longest."""
    kept: list[tuple[str, int, int]] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    for key, start, end in sorted(matches, key=lambda m: (m[1] - m[2], m[1])):
        spans = taken.setdefault(key, [])
        if any(start < e and end > s for s, e in spans):
            continue
        spans.append((start, end))
        kept.append((key, start, end))
    return sorted(kept, key=lambda m: (m[1], m[2]))


def _trim(lowers: list[int], punct: frozenset[int], start: int, end: int) -> tuple[int, int]:
    """Drop punctuation a gap swallowed at either edge, so evidence reads cleanly."""
    while end - start > 1 and lowers[end - 1] in punct:
        end -= 1
    while end - start > 1 and lowers[start] in punct:
        start += 1
    return start, end


def _combine(hits: list[tuple[Evidence, str]]) -> Assessment:
    if not hits:
        return NOT_FLAGGED
    specific = [h for h in hits if h[0].category != BACKSTOP_CATEGORY]
    if specific:
        hits = specific
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
