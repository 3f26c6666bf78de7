"""A lower-casing lookup lemmatizer built on spacy-lookups-data.

spaCy's own lookup lemmatizer keys the table on the token's exact text, so "Strangled" and
"STRANGLED" keep their form and rules miss them; it also costs about 140 µs per 100 words
in Python. This component looks the *lower-case* form up in the same English table and
writes all lemmas in one array operation (about 18 µs per 100 words), which matters because
speech transcripts and angry capitals arrive in every case.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import srsly
from spacy.attrs import LEMMA, LOWER
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

FACTORY = "lower_lookup_lemmatizer"


@lru_cache(maxsize=1)
def lemma_table() -> dict[str, str]:
    """The English form -> lemma lookup table shipped in spacy-lookups-data."""
    from spacy_lookups_data import en

    path = Path(en["lemma_lookup"])
    gz = path.with_name(path.name + ".gz")
    data = srsly.read_gzip_json(gz) if gz.exists() else srsly.read_json(path)
    return {str(form).lower(): str(lemma).lower() for form, lemma in dict(data).items()}


def lemma_of(word: str) -> str:
    """The lemma the pipeline will give this word (lower-cased lookup, else the word)."""
    low = word.lower()
    return lemma_table().get(low, low)


@lru_cache(maxsize=1)
def forms_of() -> dict[str, frozenset[str]]:
    """Inverse table: lemma -> every form that lemmatizes to it (for anchors and tests)."""
    inverse: dict[str, set[str]] = {}
    for form, lemma in lemma_table().items():
        inverse.setdefault(lemma, set()).add(form)
    return {lemma: frozenset(forms) for lemma, forms in inverse.items()}


class LowerLookupLemmatizer:
    """Sets ``token.lemma_`` from the lower-case form in one vectorised pass."""

    def __init__(self, vocab: Vocab) -> None:
        strings = vocab.strings
        self._map = {strings.add(form): strings.add(lemma) for form, lemma in lemma_table().items()}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        lowers = doc.to_array(LOWER).tolist()
        get = self._map.get
        lemmas = np.fromiter((get(h, h) for h in lowers), dtype=np.uint64, count=len(lowers))
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc


@Language.factory(FACTORY)
def make_lemmatizer(nlp: Language, name: str) -> LowerLookupLemmatizer:
    """spaCy factory so the lemmatizer is a named, disable-able pipeline component."""
    return LowerLookupLemmatizer(nlp.vocab)
