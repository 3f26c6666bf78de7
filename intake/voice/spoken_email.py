"""Turning a spoken email address ("jane dot smith at example dot com") into an address, and
back into words for reading it to the caller to confirm."""

from __future__ import annotations

import re

from storage.values import InvalidContact, normalise_email

_WORDS = {
    "at": "@",
    "at sign": "@",
    "dot": ".",
    "full stop": ".",
    "period": ".",
    "point": ".",
    "underscore": "_",
    "under score": "_",
    "dash": "-",
    "hyphen": "-",
    "minus": "-",
    "plus": "+",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "oh": "0",
}
_SAY = {"@": " at ", ".": " dot ", "_": " underscore ", "-": " dash ", "+": " plus "}
_FILLERS = {"um", "uh", "er", "erm", "its", "it's", "is", "my", "email", "address", "e-mail"}


def parse_spoken_email(speech: str) -> str | None:
    """Best effort; None when the result is not a plausible address."""
    text = speech.lower().strip()
    if "@" in text and " " not in text.strip("."):
        candidate = text.strip(".")
    else:
        for phrase in ("at sign", "full stop", "under score"):
            text = text.replace(phrase, phrase.replace(" ", "_PH_"))
        tokens = [t.replace("_PH_", " ") for t in re.split(r"[\s,]+", text) if t]
        tokens = [t for t in tokens if t not in _FILLERS]
        pieces = []
        for token in tokens:
            if token in _WORDS:
                pieces.append(_WORDS[token])
            else:
                pieces.append(token.strip("."))
        out: list[str] = []
        i = 0
        while i < len(pieces):  # "double t" -> "tt"
            if pieces[i] == "double" and i + 1 < len(pieces):
                out.append(pieces[i + 1] * 2)
                i += 2
                continue
            out.append(pieces[i])
            i += 1
        candidate = "".join(out)
    try:
        return normalise_email(candidate)
    except InvalidContact:
        return None


def speak_email(address: str) -> str:
    """Words for reading an address back: symbols named, so a caller can check it."""
    return re.sub(r"\s+", " ", "".join(_SAY.get(ch, ch) for ch in address)).strip()
