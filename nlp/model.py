"""The learned risk model at run time: a logistic regression over TF-IDF features, scored from
the committed JSON model file.

Why JSON and our own scorer: the file is data, never code (nothing is unpickled), it can be
read and diffed, and scoring needs no scikit-learn; the dot products are NumPy's (which spaCy
brings), as a message's features are weighed a few hundred at a time. `nlp.train` writes the
file; a test checks that these scores equal scikit-learn's for the same model.

The file carries a SHA-256 of its payload: a file that is missing, truncated, edited by hand or
of another format stops start-up with a message saying so (`ModelFileError`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from nlp.features import WORD_ENDINGS, char_grams, normalise, word_spans, words

FORMAT = 1
MODEL_FILE = "risk-model.json"
# Words that carry no meaning alone, left out of the "terms that weighed most" a lead reads.
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "him",
        "his",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "with",
        "you",
        "your",
    ]
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*")


class ModelFileError(RuntimeError):
    """The model file is missing, corrupt or of an unknown format."""


def default_path() -> Path:
    return Path(str(resources.files("nlp") / "model" / MODEL_FILE))


def canonical(payload: dict) -> bytes:
    """The bytes the checksum covers (and the file's own layout): sorted keys, no spaces."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(payload: dict) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


# Character features of the words of one text the model's cache lacks, worked out once while
# that text is assessed (its windows overlap) and dropped with it: the caller's dict, so
# nothing of a parent's words outlives their message.
Seen = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class Vocabulary:
    """Feature index and inverse document frequency of one analyser's terms."""

    index: dict[str, int]
    idf: list[float]


@dataclass(frozen=True)
class Head:
    """One logistic regression over [word features, char features, rule features]."""

    word: list[float]
    char: list[float]
    rules: list[float]
    intercept: float


@dataclass(frozen=True)
class Score:
    """The model's view of one text: P(risk), and P(danger now) given it is risk."""

    risk: float
    immediate: float


class RiskModel:
    """A loaded model file. Read-only once loaded, so thread-safe for scoring."""

    def __init__(self, document: dict) -> None:
        payload = document["payload"]
        self.version: str = payload["version"]
        self.rule_features: tuple[str, ...] = tuple(payload["rule_features"])
        self.thresholds: dict[str, float] = dict(payload["thresholds"])
        self.word = _vocabulary(payload["word"])
        self.char = _vocabulary(payload["char"])
        self.heads = {name: _head(h) for name, h in payload["heads"].items()}
        self.categories: dict[str, dict] = payload["categories"]
        self._word_terms = {i: t for t, i in self.word.index.items()}
        self._check_shapes()
        # Character features of the model's own words, worked out once. Only these: a cache
        # that learnt from what it scores would keep parents' words (names too) in memory.
        self._char_cache = {
            form: self._char_ids(form)
            for word in self.common_words()
            for form in (word + end for end in WORD_ENDINGS)
        }
        # The same numbers as arrays, for scoring: IDF, and each head's weights as a row.
        risk, immediate = self.heads["risk"], self.heads["immediate"]
        self._word_idf = np.array(self.word.idf, dtype=np.float64)
        self._char_idf = np.array(self.char.idf, dtype=np.float64)
        self._word_weights = np.array([risk.word, immediate.word], dtype=np.float64)
        self._char_weights = np.array([risk.char, immediate.char], dtype=np.float64)

    @classmethod
    def load(cls, path: Path | None = None) -> RiskModel:
        """Read and verify the model file; any fault is a `ModelFileError` naming the file."""
        path = path or default_path()
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise ModelFileError(
                f"risk model file {path} is missing; run `python -m nlp.train` to build it"
            ) from None
        except (OSError, ValueError) as exc:
            raise ModelFileError(
                f"risk model file {path} is unreadable or corrupt: {exc}"
            ) from None
        try:
            if document.get("format") != FORMAT:
                raise ModelFileError(f"risk model file {path} is not of format {FORMAT}")
            if checksum(document["payload"]) != document["sha256"]:
                raise ModelFileError(
                    f"risk model file {path} is corrupt (its checksum does not match); "
                    "restore it from the repository or run `python -m nlp.train`"
                )
            return cls(document)
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"risk model file {path} is malformed: {exc!r}") from None

    # -- scoring --------------------------------------------------------------------------

    def score(self, text: str, rule_values: tuple[float, ...], seen: Seen | None = None) -> Score:
        """Score a text (any length: the caller bounds it) with the rules' verdict as features:
        both heads in one pass over its features. `seen`: see `Seen`."""
        word_ids, char_ids = self._ids(text, seen)
        risk_head, immediate_head = self.heads["risk"], self.heads["immediate"]
        risk, immediate = _weighed_rows(word_ids, self._word_idf, self._word_weights)
        char_risk, char_immediate = _weighed_rows(char_ids, self._char_idf, self._char_weights)
        risk += char_risk
        immediate += char_immediate
        for r_weight, i_weight, value in zip(
            risk_head.rules, immediate_head.rules, rule_values, strict=True
        ):
            risk += r_weight * value
            immediate += i_weight * value
        return Score(
            _sigmoid(risk + risk_head.intercept), _sigmoid(immediate + immediate_head.intercept)
        )

    def terms(self, text: str, limit: int = 6) -> list[str]:
        """The word terms of `text` that pushed P(risk) up the most, strongest first."""
        word_counts = Counter(self._ids(text)[0])
        weights = self.heads["risk"].word
        x = _tfidf(word_counts, self.word.idf)
        pushes = sorted(((v * weights[i], i) for i, v in x.items() if weights[i] > 0), reverse=True)
        named = (self._word_terms[i] for _, i in pushes)
        return [t for t in named if t not in FUNCTION_WORDS][:limit]

    def risk(self, text: str, seen: Seen | None = None) -> float:
        """P(risk) of a text on its words alone (no rule features): for naming the sentences
        that carried a flag."""
        word_ids, char_ids = self._ids(text, seen)
        total = self.heads["risk"].intercept
        total += _weighed_rows(word_ids, self._word_idf, self._word_weights)[0]
        total += _weighed_rows(char_ids, self._char_idf, self._char_weights)[0]
        return _sigmoid(total)

    def _ids(self, text: str, seen: Seen | None = None) -> tuple[list[int], list[int]]:
        """The feature index of each word term and each character gram, as often as it occurs."""
        folded = normalise(text)
        index = self.word.index
        word_ids = [i for i in map(index.get, words(folded)) if i is not None]
        return word_ids, self._char_features(folded, seen)

    def category(self, text: str) -> str | None:
        """The most likely harm category for a text the model flagged (a sparse head)."""
        folded = normalise(text)
        counts = Counter(i for i in map(self.word.index.get, words(folded)) if i is not None)
        x = _tfidf(counts, self.word.idf)
        best, best_score = None, -math.inf
        for name, head in self.categories.items():
            weights = head["word"]
            value = head["intercept"] + sum(v * weights.get(str(i), 0.0) for i, v in x.items())
            if value > best_score:
                best, best_score = name, value
        return best

    def _char_features(self, folded: str, seen: Seen | None = None) -> list[int]:
        out: list[int] = []
        cache = self._char_cache
        seen = {} if seen is None else seen
        for word in folded.split():
            found = cache.get(word)
            if found is None:
                found = seen.get(word)
            if found is None:
                found = seen[word] = self._char_ids(word)
            out.extend(found)
        return out

    def _char_ids(self, word: str) -> tuple[int, ...]:
        index = self.char.index
        return tuple(i for g in char_grams(word) if (i := index.get(g)) is not None)

    def common_words(self) -> list[str]:
        """The model's single-word terms, the most common first (lowest IDF): words of the
        labelled data it was trained on, so nothing of any parent's."""
        idf, found = self.word.idf, self.word.index.items()
        return [t for _, t in sorted((idf[i], t) for t, i in found if " " not in t)]

    # -- explanation ----------------------------------------------------------------------

    def term_spans(self, text: str, lo: int, hi: int, terms: list[str]) -> list[tuple[int, int]]:
        """Where each weighty word term (a word or a two-word phrase) occurs in text[lo:hi]."""
        spans = word_spans(text[lo:hi])
        folded = [normalise(text[lo + s : lo + e]) for s, e in spans]
        wanted = set(terms)
        out = []
        for k, (s, e) in enumerate(spans):
            if folded[k] in wanted:
                out.append((lo + s, lo + e))
            if k + 1 < len(spans) and f"{folded[k]} {folded[k + 1]}" in wanted:
                out.append((lo + s, lo + spans[k + 1][1]))
        return out

    def _check_shapes(self) -> None:
        for name, head in self.heads.items():
            if (len(head.word), len(head.char), len(head.rules)) != (
                len(self.word.idf),
                len(self.char.idf),
                len(self.rule_features),
            ):
                raise ValueError(f"head {name!r} does not match the vocabularies")
        for key in ("review", "concern", "immediate", "rules_floor"):
            if not 0.0 < self.thresholds[key] <= 1.01:
                raise ValueError(f"threshold {key!r} out of range")


def _tfidf(counts: Counter, idf: list[float]) -> dict[int, float]:
    """Sublinear TF × IDF, L2-normalised: scikit-learn's TfidfVectorizer(sublinear_tf=True)."""
    values = {i: (1.0 + math.log(c)) * idf[i] for i, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in values.values()))
    return {i: v / norm for i, v in values.items()} if norm else {}


def _weighed_rows(ids: list[int], idf: np.ndarray, weights: np.ndarray) -> tuple[float, ...]:
    """The L2-normalised sublinear TF-IDF vector of the features `ids` (each as often as it
    occurs), dotted with each row of `weights`."""
    if not ids:
        return (0.0,) * len(weights)
    found, counts = np.unique(np.array(ids, dtype=np.intp), return_counts=True)
    values = idf[found] * (1.0 + np.log(counts))
    norm = math.sqrt(float(values @ values))
    if not norm:
        return (0.0,) * len(weights)
    return tuple(float(x) for x in (weights[:, found] @ values) / norm)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _vocabulary(section: dict) -> Vocabulary:
    terms, idf = section["terms"], section["idf"]
    if len(terms) != len(idf) or len(set(terms)) != len(terms):
        raise ValueError("vocabulary terms and weights do not match")
    return Vocabulary({t: i for i, t in enumerate(terms)}, [float(x) for x in idf])


def _head(section: dict) -> Head:
    return Head(
        [float(x) for x in section["word"]],
        [float(x) for x in section["char"]],
        [float(x) for x in section["rules"]],
        float(section["intercept"]),
    )


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, blank edges trimmed."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
