"""Decide, for each rule match, whether its context silences it or makes it urgent.

Recall comes first, so context only ever silences a match for a stated reason tied to the
words around it: a negation just before it ("he has never been hit"), a hypothetical or a
question about procedure ("what happens if the school makes a referral"), an idiom it sits
inside ("this process is killing me"), fiction or news in the same sentence, a history that
is over ("years ago ... we left"), a question answered by a denial ("does he take drugs? no,
nothing like that"), or a known SEN behaviour that professionals manage.
Everything is token-based (cue patterns run through the spaCy Matcher), never substrings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nlp.rules import Rule

# Tokens that end a clause: a negation or "if" before one of these does not reach past it.
CLAUSE_BREAKS = frozenset(
    {
        ",",
        ";",
        ":",
        ".",
        "!",
        "?",
        "-",
        "–",
        "—",
        "but",
        "and",
        "so",
        "because",
        "cos",
        "or",
        "then",
        "though",
        "although",
        "however",
        "um",
        "er",
        "erm",
        "uh",
        "anyway",
    }
)
NEGATION_REACH = 4  # tokens before the match a negation cue may stand
NEGATION_SUBJECT_REACH = 8  # "no one at home has ever hurt her": a negative subject, same clause
HYPOTHETICAL_REACH = 8
PROCEDURE_REACH = 15
SENTENCE_REACH = 15  # fiction/news, history and urgency cues: same sentence, this near
DENIAL_REACH = 4  # tokens past a question's "?" searched for the answer ("? no, nothing like that")


@dataclass(frozen=True)
class CueHit:
    """A context cue found in the document."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Verdict:
    """Whether a match stands, its severity, and (if silenced) which context did it."""

    keep: bool
    severity: str
    silenced_by: str | None = None


class Sentences:
    """Sentence bounds per token, from the sentencizer's punctuation, without Token objects.

    Equivalent to spaCy's Sentencizer for our purposes (a sentence ends after a run of
    . ! ? and at a blank line), but computed on the LOWER hash array so a text costs a few
    microseconds instead of half a millisecond.
    """

    def __init__(self, lowers: list[int], enders: frozenset[int], breaks: frozenset[int]) -> None:
        n = len(lowers)
        self.start = [0] * n
        self.end = [n] * n
        first = 0
        i = 0
        while i < n:
            if lowers[i] in enders or lowers[i] in breaks:
                j = i + 1
                while j < n and (lowers[j] in enders or lowers[j] in breaks):
                    j += 1
                for k in range(first, j):
                    self.start[k] = first
                    self.end[k] = j
                first = j
                i = j
            else:
                i += 1
        for k in range(first, n):
            self.start[k] = first


class Context:
    """Cue positions for one document, queried per match."""

    def __init__(
        self,
        lowers: list[int],
        sentences: Sentences,
        clause_breaks: frozenset[int],
        hits: Iterable[CueHit],
    ) -> None:
        self.lowers = lowers
        self.sentences = sentences
        self.clause_breaks = clause_breaks
        self.by_kind: dict[str, list[CueHit]] = {}
        for hit in hits:
            self.by_kind.setdefault(hit.kind, []).append(hit)
        escalating = bool(self.by_kind.get("escalation"))
        # Document-wide explanations: a plan or professional anywhere in the message counts,
        # unless the message also says things are getting worse or nobody is helping yet.
        self.explained = {
            kind for kind in ("managed", "clinical") if self.by_kind.get(kind) and not escalating
        }

    def judge(self, rule: Rule, start: int, end: int) -> Verdict:
        """Apply the context rules the rule does not opt out of, in a fixed order."""
        sent = (self.sentences.start[start], self.sentences.end[start])
        clause = self._clause_start(start, sent[0])
        checks = (
            ("idiom", lambda h: h.start < end and h.end > start),
            ("negation", lambda h: max(clause, start - NEGATION_REACH) <= h.start < start),
            (
                "negation_far",
                lambda h: max(clause, start - NEGATION_SUBJECT_REACH) <= h.start < start,
            ),
            (
                "hypothetical",
                lambda h: max(clause, start - HYPOTHETICAL_REACH) <= h.start < start,
            ),
            (
                "procedure",
                lambda h: max(sent[0], start - PROCEDURE_REACH) <= h.start < start,
            ),
            ("fiction", lambda h: self._near(h, sent, start, end)),
            ("historic", lambda h: self._near(h, sent, start, end)),
            # The match is asked about and the answer denies it: "does he take cocaine? no".
            ("denial", lambda h: end <= h.start < sent[1]),
        )
        for kind, applies in checks:
            if (kind if kind != "negation_far" else "negation") in rule.ignore:
                continue
            if any(applies(h) for h in self.by_kind.get(kind, ())):
                return Verdict(False, rule.severity, kind)
        for kind in rule.explained_by:
            if kind in self.explained:
                return Verdict(False, rule.severity, kind)
        if "accident" in rule.explained_by and any(
            self._near_or_next(h, sent, start, end) for h in self.by_kind.get("accident", ())
        ):
            return Verdict(False, rule.severity, "accident")
        severity = rule.severity
        if severity == "concern" and any(
            self._near(h, sent, start, end) for h in self.by_kind.get("imminent", ())
        ):
            severity = "immediate"
        return Verdict(True, severity)

    def _clause_start(self, start: int, floor: int) -> int:
        i = start - 1
        while i >= floor:
            if self.lowers[i] in self.clause_breaks:
                return i + 1
            i -= 1
        return floor

    def _near_or_next(self, hit: CueHit, sent: tuple[int, int], start: int, end: int) -> bool:
        """Same sentence as the match, or the sentence straight after it, close to the match:
        "a scratch on her cheek. Nobody hurts her - it was the cat"."""
        if self._near(hit, sent, start, end):
            return True
        return (
            sent[1] <= hit.start < end + SENTENCE_REACH
            and self.sentences.start[hit.start] <= sent[1]
        )

    @staticmethod
    def _near(hit: CueHit, sent: tuple[int, int], start: int, end: int) -> bool:
        return (
            sent[0] <= hit.start < sent[1]
            and hit.end > start - SENTENCE_REACH
            and hit.start < end + SENTENCE_REACH
        )
