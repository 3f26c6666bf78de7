"""The text features of the learned risk model: word 1–2-grams and character 3–5-grams.

Why our own analysers: training (scikit-learn's vectorisers, given these functions) and
scoring at run time (plain Python over the committed model file) must see exactly the same
features, and the run-time path must not depend on scikit-learn or on unpickling anything.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
CHAR_SIZES = (3, 4, 5)
# How a word most often stands before a space: bare, or ending a clause. The forms worked out
# once at start-up (the tokenizer's and the model's caches of the model's own words).
WORD_ENDINGS = ("", ",", ".")


def normalise(text: str) -> str:
    """Case-folded, compatibility-normalised text with one kind of apostrophe."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()


def words(text: str) -> list[str]:
    """Word unigrams and bigrams of an already normalised text."""
    tokens = _WORD.findall(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word token of ``text``, in the original's offsets.

    NFKC and case folding can change a text's length, so spans are found on a text that only
    had its apostrophes unified (same length) and lower-cased per character."""
    same_length = text.translate(_APOSTROPHES)
    return [m.span() for m in _WORD.finditer(same_length)]


def char_grams(word: str) -> list[str]:
    """Character 3–5-grams of one word, padded with a space either side (a word shorter than
    a size gives itself once, as scikit-learn's ``char_wb`` does)."""
    padded = f" {word} "
    out: list[str] = []
    for n in CHAR_SIZES:
        if len(padded) <= n:
            out.append(padded)
            break
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def chars(text: str) -> list[str]:
    """Character n-grams of every whitespace-separated word of an already normalised text."""
    return [gram for word in text.split() for gram in char_grams(word)]


def word_features(text: str) -> list[str]:
    """The word analyser, for training: raw text in, features out."""
    return words(normalise(text))


def char_features(text: str) -> list[str]:
    """The character analyser, for training: raw text in, features out."""
    return chars(normalise(text))
