"""Find rule matches fast: prefilter by the lemmas a text contains, verify with the Matcher.

spaCy's ``Matcher`` checks the first token of every pattern at every token, so its cost
grows with patterns x tokens (several hundred patterns: about 10 ms per 100 words here).
Most texts contain none of the words that make a pattern possible, so each compiled
pattern is indexed under its rarest required element (stop words and a short list of
very common words count as common). For a text we look up which patterns are anchored on its lemmas,
keep those whose every required element is present, and run only those patterns' small
Matchers on windows around the anchor tokens. Single-word patterns need no Matcher.
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.attrs import LEMMA, LOWER
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from nlp.patterns import Compiled

Match = tuple[str, int, int]  # (key, start token, end token)


# Words too common to be good anchors, beyond spaCy's stop words (SEN enquiries are full of
# them). A full word-frequency table would cost ~160 MB resident; this list costs nothing.
_COMMON = frozenset(
    [
        "get",
        "go",
        "say",
        "tell",
        "come",
        "know",
        "see",
        "make",
        "take",
        "want",
        "give",
        "think",
        "look",
        "find",
        "leave",
        "feel",
        "try",
        "ask",
        "use",
        "work",
        "call",
        "keep",
        "let",
        "put",
        "mean",
        "seem",
        "help",
        "talk",
        "turn",
        "start",
        "show",
        "hear",
        "play",
        "run",
        "move",
        "live",
        "son",
        "daughter",
        "child",
        "kid",
        "boy",
        "girl",
        "mum",
        "dad",
        "school",
        "home",
        "day",
        "time",
        "year",
        "week",
        "night",
        "thing",
        "people",
        "man",
        "way",
        "life",
        "back",
        "out",
        "up",
        "like",
        "just",
        "still",
        "now",
        "really",
        "um",
        "er",
        "yeah",
    ]
)


def _rarity(lemmas: frozenset[str]) -> float:
    """Lower is rarer: a common word costs 1, any other word 0.02."""
    return sum(1.0 if lemma in STOP_WORDS or lemma in _COMMON else 0.02 for lemma in lemmas)


class _Entry:
    """One indexed pattern."""

    __slots__ = ("key", "required", "before", "after", "matcher", "single", "excluded", "attr")

    def __init__(self, key: str, pattern: Compiled, vocab: Vocab, anchor_index: int) -> None:
        strings = vocab.strings
        self.key = key
        self.required = tuple(
            frozenset(strings.add(lemma) for lemma in lemmas) for _, lemmas in pattern.required
        )
        widths = pattern.widths
        self.before = sum(high for _, high in widths[:anchor_index])
        self.after = sum(high for _, high in widths[anchor_index + 1 :])
        self.matcher: Matcher | None = None
        self.single: frozenset[int] | None = None
        self.excluded: frozenset[int] = frozenset()
        self.attr = "LEMMA"
        token = pattern.tokens[0]
        simple = len(pattern.tokens) == 1 and "OP" not in token and _plain(token)
        if simple:
            attr = "LEMMA" if "LEMMA" in token else "LOWER"
            value = token[attr]
            values = value["IN"] if isinstance(value, dict) else [value]
            self.attr = attr
            self.single = frozenset(strings.add(v) for v in values)
            if attr == "LEMMA" and "LOWER" in token:
                self.excluded = frozenset(strings.add(v) for v in token["LOWER"]["NOT_IN"])
        else:
            self.matcher = Matcher(vocab, validate=True)
            self.matcher.add(key, [pattern.tokens], greedy="LONGEST")


def _plain(token: dict) -> bool:
    """A token spec the single-word fast path can evaluate (no fuzzy, no negation)."""
    for attr, value in token.items():
        if attr not in ("LEMMA", "LOWER"):
            return False
        if isinstance(value, dict):
            if attr == "LOWER" and "LEMMA" in token and set(value) == {"NOT_IN"}:
                continue
            if set(value) != {"IN"}:
                return False
    return True


class Tokens:
    """A doc's LEMMA and LOWER hashes and where each lemma occurs, computed once per doc."""

    __slots__ = ("lemmas", "lowers", "where", "present")

    def __init__(self, doc: Doc) -> None:
        array = doc.to_array([LEMMA, LOWER]).tolist()
        self.lemmas: list[int] = [row[0] for row in array]
        self.lowers: list[int] = [row[1] for row in array]
        where: dict[int, list[int]] = {}
        for i, lemma in enumerate(self.lemmas):
            if lemma in where:
                where[lemma].append(i)
            else:
                where[lemma] = [i]
        self.where = where
        self.present = where.keys()


class PatternIndex:
    """A set of keyed patterns that can be searched in a Doc (or a window of it)."""

    def __init__(self, vocab: Vocab, entries: Iterable[tuple[str, Compiled]]) -> None:
        self._entries: list[_Entry] = []
        self._by_anchor: dict[int, list[int]] = {}
        self._always: list[int] = []
        strings = vocab.strings
        for key, pattern in entries:
            position = len(self._entries)
            if pattern.required:
                index, lemmas = min(pattern.required, key=lambda r: _rarity(r[1]))
                for lemma in lemmas:
                    self._by_anchor.setdefault(strings.add(lemma), []).append(position)
            else:
                index = 0
                self._always.append(position)
            self._entries.append(_Entry(key, pattern, vocab, index))

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, doc: Doc, tokens: Tokens, start: int = 0, end: int | None = None) -> list[Match]:
        """All matches inside tokens [start, end) of ``doc`` (``tokens`` from ``Tokens(doc)``)."""
        end = len(doc) if end is None else end
        whole = start == 0 and end >= len(doc)
        where = tokens.where
        lemmas, lowers = tokens.lemmas, tokens.lowers
        anchored: dict[int, list[int]] = {}
        by_anchor = self._by_anchor
        for lemma in tokens.present & by_anchor.keys():
            spots = where[lemma] if whole else [p for p in where[lemma] if start <= p < end]
            if spots:
                for position in by_anchor[lemma]:
                    anchored.setdefault(position, []).extend(spots)
        for position in self._always:
            anchored.setdefault(position, [start])
        out: list[Match] = []
        present = tokens.present
        for position, anchors in anchored.items():
            entry = self._entries[position]
            found = [req & present for req in entry.required]
            if not all(found):
                continue
            if entry.single is not None:
                values = lemmas if entry.attr == "LEMMA" else lowers
                for i in anchors:
                    if values[i] in entry.single and lowers[i] not in entry.excluded:
                        out.append((entry.key, i, i + 1))
                continue
            if position not in self._always:
                # Every required word must also be close enough to this anchor.
                anchors = [
                    a
                    for a in anchors
                    if all(
                        any(
                            max(start, a - entry.before) <= p <= min(end - 1, a + entry.after)
                            for lemma in lemmas_found
                            for p in where[lemma]
                        )
                        for lemmas_found in found
                    )
                ]
                if not anchors:
                    continue
            out.extend(self._verify(entry, doc, anchors, start, end, position in self._always))
        return out

    @staticmethod
    def _verify(
        entry: _Entry, doc: Doc, anchors: list[int], start: int, end: int, whole: bool
    ) -> list[Match]:
        if whole:
            spans = [(start, end)]
        else:
            spans = []
            for i in sorted(set(anchors)):
                lo, hi = max(start, i - entry.before), min(end, i + entry.after + 1)
                if spans and lo <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
                else:
                    spans.append((lo, hi))
        found: list[Match] = []
        assert entry.matcher is not None
        for lo, hi in spans:
            for _key, s, e in entry.matcher(doc[lo:hi]):
                found.append((entry.key, lo + s, lo + e))
        return found
