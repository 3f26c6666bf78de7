"""Reading a parent's answer to the consent question from keys or natural speech.

Why careful: "no problem" means yes and "I'd rather not" means no. Anything unclear is asked
again once, then treated as no: record-keeping needs a clear yes.
"""

from __future__ import annotations

import enum
import re
import tomllib
from functools import cache
from pathlib import Path


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"
    SILENCE = "silence"
    PERSON = "person"  # pressed 0 / asked for a person


YES_DIGIT, NO_DIGIT, PERSON_DIGIT = "1", "2", "0"
LONG_ANSWER = 20  # words; beyond this, only the first ANSWER_WINDOW words are read as an answer
ANSWER_WINDOW = 8

_WORD = re.compile(r"[a-z']+")
_YES_PHRASES = (
    "no problem",
    "no problems",
    "no worries",
    "not a problem",
    "that's fine",
    "thats fine",
    "that is fine",
    "go ahead",
    "of course",
    "i agree",
    "i consent",
    "i do",
    "you may",
    "you can",
    "that's ok",
    "that's okay",
    "fine by me",
    "please do",
    "don't mind",
    "do not mind",
    "dont mind",
    "why not",
    "i don't mind",
    "go on then",
)
_NO_PHRASES = (
    "rather not",
    "prefer not",
    "no thanks",
    "no thank you",
    "don't",
    "do not",
    "not really",
    "i'd rather you didn't",
    "rather you didn't",
    "no way",
    "nope",
    "i don't want",
    "not happy",
    "please don't",
    "keep nothing",
    "not keep",
    "dont",
)
_UNSURE = (
    "no idea",
    "not sure",
    "unsure",
    "don't know",
    "dont know",
    "do not know",
    "no clue",
    "not certain",
    "maybe",
)
_YES_WORDS = {
    "yes",
    "yeah",
    "yep",
    "yup",
    "aye",
    "sure",
    "ok",
    "okay",
    "fine",
    "alright",
    "certainly",
    "absolutely",
    "definitely",
    "agreed",
    "agree",
    "consent",
    "ya",
    "yah",
}
_NO_WORDS = {"no", "nah", "nope", "never", "decline", "refuse", "not"}
_PERSON_WORDS = (
    "speak to a person",
    "speak to someone",
    "talk to someone",
    "real person",
    "operator",
    "an adviser",
    "a human",
    "talk to a person",
)


def interpret(digits: str | None = None, speech: str | None = None) -> Answer:
    """Classify one answer; keys win over speech because they are unambiguous."""
    if digits:
        first = digits.strip()[:1]
        if first == YES_DIGIT:
            return Answer.YES
        if first == NO_DIGIT:
            return Answer.NO
        if first == PERSON_DIGIT:
            return Answer.PERSON
        return Answer.UNCLEAR
    if speech is None or not speech.strip():
        return Answer.SILENCE
    spoken = speech.lower().replace("\u2019", "'")
    wordlike = sum(ch.isalpha() or ch.isspace() or ch in "'.,?!-" for ch in spoken)
    if wordlike < 0.8 * len(spoken):
        return Answer.UNCLEAR  # garbled: a stray "ok" in noise is not consent
    words = _WORD.findall(spoken)
    if len(words) > LONG_ANSWER:
        words = words[:ANSWER_WINDOW]  # a long story: only its opening can be the answer
    text = " ".join(words)
    if not text:
        return Answer.UNCLEAR
    if any(p in f" {text} " for p in (f" {w} " for w in _PERSON_WORDS)):
        return Answer.PERSON
    padded = f" {text} "
    if any(f" {p} " in padded for p in _UNSURE):
        return Answer.UNCLEAR  # "no idea", "not sure": neither a yes nor a no
    said_yes = any(f" {p} " in padded for p in _YES_PHRASES)
    if said_yes:
        padded_wo = padded
        for p in _YES_PHRASES:
            padded_wo = padded_wo.replace(f" {p} ", " ")
    else:
        padded_wo = padded
    said_no = any(f" {p} " in padded_wo for p in _NO_PHRASES)
    words = set(padded_wo.split())
    said_yes = said_yes or bool(words & _YES_WORDS)
    said_no = said_no or bool(words & _NO_WORDS)
    if said_yes and not said_no:
        return Answer.YES
    if said_no and not said_yes:
        return Answer.NO
    return Answer.UNCLEAR


_ANSWER_STARTS = frozenset(
    {"yes", "yeah", "yep", "yup", "ok", "okay", "sure", "fine", "y", "please", "consent"}
    | {"agreed", "no", "nope", "nah", "n"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s*[.!?;]+$|\s+-\s+")
_ANY_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # any script: "tak", "não", "نعم"
OTHER_LANGUAGES = Path(__file__).resolve().parent / "wording" / "answers" / "other_languages.toml"
_GREETING = re.compile(r"^(hi|hello|hey|dear|good (morning|afternoon|evening))\b", re.IGNORECASE)
BARE_ANSWER = 12  # words: a reply this short that is only a yes or no says nothing more


def answer_line(text: str) -> str:
    """The first line of a reply that is not a greeting: where a written answer stands."""
    for line in text.splitlines():
        if line.strip() and not (_GREETING.match(line.strip()) and len(line.split()) <= 4):
            return line.strip()
    return ""


def answer_sentence(text: str) -> str:
    """The first sentence of that line: "Yes that is fine, thank you. Please ring me after
    3pm" answers with "Yes that is fine, thank you" and says more after it."""
    return _SENTENCE_END.split(answer_line(text), maxsplit=1)[0].strip()


def answer_rest(text: str) -> str:
    """What a reply says after its answer: the parent's message, to keep once they say yes."""
    start = text.find(answer_sentence(text))
    rest = text[start + len(answer_sentence(text)) :] if start >= 0 else text
    return rest.strip(" \t\r\n.!?;,-")


def read_written(text: str | None) -> Answer | None:
    """A clear YES or NO opening a reply, else None (more words for the hold).

    Stricter than the spoken reading on purpose: a parent writing more about their child must
    never be taken as a no. Only the first sentence of the first line that is not a greeting
    counts, only if it starts with an answer word (in English or another language parents use,
    see wording/answers/), and only if the reading of that sentence is clear.
    """
    sentence = answer_sentence(text or "")
    words = _words(sentence)
    if not words or len(words) > BARE_ANSWER or _asks(text or "", sentence):
        return None
    other = _other_languages()
    if words[0] in other:  # "Tak", "Tak, dziękuję", "Oui merci"
        return other[words[0]]
    if words[0] not in _ANSWER_STARTS:
        return None
    if words[0] in ("y", "n"):
        if len(words) > 1:
            return None
        return Answer.YES if words[0] == "y" else Answer.NO
    answer = interpret(None, sentence)
    return answer if answer in (Answer.YES, Answer.NO) else None


def _asks(text: str, sentence: str) -> bool:
    """The answer is itself a question ("ok then but who will see it?"): not an answer yet."""
    line = answer_line(text)
    return line[len(sentence) : len(sentence) + 2].lstrip().startswith("?")


def _words(text: str) -> list[str]:
    return _ANY_WORD.findall(text.lower().replace("\u2019", "'"))


@cache
def _other_languages() -> dict[str, Answer]:
    """Yes and no in other languages, from the wording's data (one word each, first word)."""
    data = tomllib.loads(OTHER_LANGUAGES.read_text(encoding="utf-8"))
    found: dict[str, Answer] = {}
    for language in data.values():
        for word in language.get("yes", ()):
            found[word.lower().split()[0]] = Answer.YES
        for word in language.get("no", ()):
            found[word.lower().split()[0]] = Answer.NO
    for english in _ANSWER_STARTS:  # English readings win ("no" is also Spanish for no)
        found.pop(english, None)
    return found


_WITHDRAWAL = re.compile(
    r"\b(withdraw(ing)? (my )?consent|no longer (consent|agree)|(do not|don't) keep (a )?"
    r"(record|anything)|stop keeping|(delete|erase|remove) (all )?(of )?(my|our|the) "
    r"(records?|details|information|data|messages?|emails?)|(delete|erase) everything)\b",
    re.IGNORECASE,
)


def wants_withdrawal(text: str | None) -> bool:
    """A written reply from a consented parent whose first sentence takes consent back ("Please
    delete my records", "I withdraw my consent"): handled as a No after a Yes. Only clear words
    count: a parent's "no" to an adviser's question is not a withdrawal."""
    return bool(_WITHDRAWAL.search(answer_sentence(text or "")))
