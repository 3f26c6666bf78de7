"""Build the spaCy pipeline and matchers used by the detector (no model downloads).

``spacy.blank("en")`` gives the tokenizer; we add the lower-case lookup lemmatizer
(spacy-lookups-data) and the rule-based sentencizer. The sentencizer is only run on texts
that reach the matcher, because context cues are scoped to the sentence around a match.

A parent's words must not stay in the process after their message is assessed: the detector
tokenises inside spaCy's memory zone, so the strings and lexemes it makes are freed at the end
and the tokenizer caches nothing new. Common words are tokenised once at start-up instead
(`warm_tokenizer`), outside any zone, from a fixed list that holds nothing of anyone's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.vocab import Vocab

from nlp.features import WORD_ENDINGS
from nlp.lemmas import FACTORY
from nlp.patterns import Compiled


def build_pipeline() -> Language:
    """blank English + lemmatizer + sentencizer, ready to run (no ``initialize`` needed)."""
    nlp = spacy.blank("en")
    nlp.add_pipe(FACTORY, name="lemmatizer")
    nlp.add_pipe("sentencizer")
    return nlp


WARM_BATCH = 500  # plain forms per tokenizer call when warming


def warm_forms(words: Sequence[str]) -> list[str]:
    """The whitespace-delimited forms of `words` a text most often holds (as written, with a
    capital first letter, followed by a comma or a full stop), first seen first."""
    forms = (w + end for word in words for w in (word, word.capitalize()) for end in WORD_ENDINGS)
    return list(dict.fromkeys(f for f in forms if f.strip() and " " not in f))


def warm_tokenizer(nlp: Language, words: Sequence[str]) -> int:
    """Tokenise `warm_forms(words)` once, outside any memory zone, so their lexemes and the
    tokenizer's cache entries are permanent: inside the zone the cache cannot grow, and an
    unknown word costs a new lexeme and a full affix split every time. Returns the forms
    cached. Why a fixed list: the cache must hold nothing a parent wrote.

    spaCy caches nothing more of a call's text once it meets a special case ("he's", "Mr."),
    so forms that may be or hold one are tokenised one per call; the rest in batches."""
    forms = warm_forms(words)
    tokenizer = nlp.tokenizer
    tokenizer.max_cache_size = max(tokenizer.max_cache_size, 2 * len(forms))
    specials = tokenizer.rules or {}
    bare = {f: f.rstrip(",.") for f in forms}
    plain = [f for f, word in bare.items() if word.isalnum() and not {f, word} & specials.keys()]
    for form in set(forms).difference(plain):
        tokenizer(form)
    for start in range(0, len(plain), WARM_BATCH):
        tokenizer(" ".join(plain[start : start + WARM_BATCH]))
    return len(forms)


def compile_matcher(vocab: Vocab, entries: Iterable[tuple[str, tuple[Compiled, ...]]]) -> Matcher:
    """One Matcher with a key per rule/cue id; overlapping matches of a key keep the longest."""
    matcher = Matcher(vocab, validate=True)
    for key, patterns in entries:
        matcher.add(key, [p.tokens for p in patterns], greedy="LONGEST")
    return matcher
