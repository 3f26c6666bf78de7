"""Build the spaCy pipeline and matchers used by the detector (no model downloads).

``spacy.blank("en")`` gives the tokenizer; we add the lower-case lookup lemmatizer
(spacy-lookups-data) and the rule-based sentencizer. The sentencizer is only run on texts
that reach the matcher, because context cues are scoped to the sentence around a match.
"""

from __future__ import annotations

from collections.abc import Iterable

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.vocab import Vocab

from nlp.lemmas import FACTORY
from nlp.patterns import Compiled


def build_pipeline() -> Language:
    """blank English + lemmatizer + sentencizer, ready to run (no ``initialize`` needed)."""
    nlp = spacy.blank("en")
    nlp.add_pipe(FACTORY, name="lemmatizer")
    nlp.add_pipe("sentencizer")
    return nlp


def compile_matcher(vocab: Vocab, entries: Iterable[tuple[str, tuple[Compiled, ...]]]) -> Matcher:
    """One Matcher with a key per rule/cue id; overlapping matches of a key keep the longest."""
    matcher = Matcher(vocab, validate=True)
    for key, patterns in entries:
        matcher.add(key, [p.tokens for p in patterns], greedy="LONGEST")
    return matcher
