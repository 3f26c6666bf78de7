"""Remove identifying details from text for case studies and log-safe excerpts.

The policy allows case studies for training only "with identifying details removed". This
finds phone numbers (``phonenumbers``), email addresses, UK postcodes, street addresses,
dates of birth, NHS numbers, schools ("Larkrise Primary", "St Mary's C of E Junior School")
and names - names known from the record, and names a text introduces with a cue ("my son
Theo", "called Jade", "Mrs Patel", a sign-off line, an age: "Theo, who is 7", "my 9-year-old
Amira") - and replaces each with a placeholder such as ``[PHONE]``, ``[SCHOOL]`` or ``[NAME]``.
An age stays once its name has gone: "[NAME], who is 7" identifies nobody.

It errs towards removing too much: a redacted case study that lost a word is fine, one that
names a child is not. What is said about the child's needs stays (``nlp.redact_words``): a
case study without it teaches nothing. It is rule-based and fast; no statistical model is
needed. ``redact_marked`` also says where each placeholder stands, so a page can mark them for
the person checking the result.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from nlp.lemmas import lemma_table
from nlp.redact_words import (
    NEEDS_WORDS,
    NUMBER_WORDS,
    SCHOOL_CHURCH,
    SCHOOL_GENERIC,
    SCHOOL_KINDS,
    SCHOOL_KINDS_SPOKEN,
    english_words,
    words,
)

PLACEHOLDERS = {
    "PHONE": "[PHONE]",
    "EMAIL": "[EMAIL]",
    "POSTCODE": "[POSTCODE]",
    "ADDRESS": "[ADDRESS]",
    "DOB": "[DOB]",
    "NHS": "[NHS]",
    "NAME": "[NAME]",
    "SCHOOL": "[SCHOOL]",
}
# What each placeholder stands for, in words for the person checking a redaction.
DESCRIPTIONS = {
    "PHONE": "phone number",
    "EMAIL": "email address",
    "POSTCODE": "postcode",
    "ADDRESS": "street address",
    "DOB": "date of birth",
    "NHS": "NHS number",
    "NAME": "name",
    "SCHOOL": "school",
}
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))

_EMAIL = re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b")
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.I
)
_STREET = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Crescent|Court|Ct|Place|"
    r"Gardens|Terrace|Grove|Hill|Park|Rise|View|Walk|Mews|Square|Row|Parade|Green|Gate|Estate)"
)
_ADDRESS = re.compile(
    r"\b(?:(?:Flat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+)?\d{1,4}[A-Za-z]?,?\s+"
    r"(?:[A-Z][a-z]+\s+){1,3}" + _STREET + r"\b(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)?",
)
_ADDRESS_LOWER = re.compile(
    r"\b\d{1,4}[a-z]?\s+(?:[a-z]+\s+){1,3}" + _STREET.lower() + r"\b",
)
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MONTHS
    + r",?\s+\d{4}|"
    + _MONTHS
    + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{4}-\d{2}-\d{2})"
)
_DOB = re.compile(
    r"(?:\b(?:DOB|D\.O\.B\.?|date of birth|born(?:\s+on)?|birthday)\b[:\s]*(?:(?:is|was)\s+)?)"
    r"(" + _DATE + r")",
    re.I,
)
_NHS = re.compile(r"\b(\d{3})[ -]?(\d{3})[ -]?(\d{4})\b")
_NHS_CUE = re.compile(r"\bNHS\b", re.I)

_RELATIONS = (
    r"(?:son|daughter|boy|girl|child|kid|baby|nephew|niece|grandson|granddaughter|brother|"
    r"sister|stepson|stepdaughter|husband|wife|partner|ex|ex-husband|ex-wife|boyfriend|"
    r"girlfriend|dad|mum|father|mother|twins?|friend|neighbour|carer|teacher|sendco|senco)"
)
_CUED = re.compile(
    r"\b(?:(?:my|our|his|her|their)\s+(?:\w+\s+)?" + _RELATIONS + r"|called|named|name\s+is|"
    r"name's|i'm|i\s+am|this\s+is|it's|dear|hi|hello|hiya|thanks|thank\s+you)"
    r"[\s,(]+(?:(?:is|was|called|named)\s+)?(?=([A-Za-z][A-Za-z'’-]+(?:\s+[A-Z][a-z'’-]+)?))",
    re.I,
)
_POSSESSOR = re.compile(
    r"\b([A-Z][a-z'’-]+)['’]s\s+(?:mum|mam|mom|dad|mother|father|nan|gran|grandad|grandma|"
    r"brother|sister|school|teacher|ta|senco|plan|ehcp|needs|carer|keyworker|key)\b"
)
_TITLE_WORD = re.compile(r"(?<=[a-z,;:)] )([A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?)\b")
_CALENDAR = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "christmas",
        "easter",
    ]
)
_TITLED = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+([A-Z][A-Za-z'’-]+(?:[ -][A-Z][A-Za-z'’-]+)?)"
)
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|many thanks|regards|kind regards|best wishes|best|cheers|"
    r"yours sincerely|yours faithfully|yours|love|warmly|warm regards|sincerely|"
    r"thanks in advance|with thanks|all the best|take care)[,.!]?\s*$",
    re.I,
)
_SIGNATURE_NAME = re.compile(
    r"^\s*([A-Z][a-z'’-]+(?:\s+(?:and|&)\s+[A-Z][a-z'’-]+)?"
    r"(?:\s+[A-Z][a-z'’-]+){0,2})\s*$"
)
_INLINE_SIGN_OFF = re.compile(
    r"\b(?:thanks|regards|cheers|best wishes|love|thank you),\s+([A-Z][a-z'’-]+)\b", re.I
)
# A school: capitalised name words, perhaps its church, then its kind ("Oakfield Academy",
# "St Mary's C of E Junior School", "Basingstoke College of Technology").
_SCHOOL = re.compile(
    r"\b((?:(?:St\.?|Saint)\s+)?[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|of|on|upon|&)){0,4}?)"
    r"(?:\s+" + SCHOOL_CHURCH + r")?"
    r"((?:\s+(?:" + SCHOOL_KINDS + "|" + SCHOOL_KINDS_SPOKEN + r")\b)+)"
    r"(?:\s+(?:and|&)\s+(?:Nursery|Sixth Form|Pre-?[Ss]chool)\b)?"
    r"(?:\s+of\s+(?:the\s+)?[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?"
)
# The same in a transcript, all lower case: "he goes to oakfield academy".
_SCHOOL_SPOKEN = re.compile(
    r"\b((?:[a-z][a-z'’-]*\s+){1,3}?)" + SCHOOL_KINDS_SPOKEN + r"(?:\s+school)?\b"
)
# A name given with an age. The age stays; the name goes, wherever it appears. Cue words
# match in any case, the name's first word too (transcripts); a surname only capitalised.
_AGE = r"(?:\d{1,2}|" + NUMBER_WORDS + r")(?:\s+and\s+a\s+half)?"
_YEARS_OLD = r"[-\s]?(?:years?|yrs?)[-\s]?old\b"
_AGE_NAME = r"([A-Za-z][A-Za-z'’-]+)((?:\s+[A-Z][a-z'’-]+)?)"
_SOFTENER = r"(?:now\s+|only\s+|just\s+|nearly\s+|almost\s+)?"
_AGED_NAMES = [
    # "my 9-year-old Amira", "our nine year old son Jack", "my 7yo called Rose"
    re.compile(
        r"(?i:\b(?:my|our|his|her|their|the)\s+(?:(?:little|eldest|youngest|oldest|middle|only)"
        r"\s+)?" + _AGE + r"(?:" + _YEARS_OLD + r"|\s?y/?o\b)\s+(?:" + _RELATIONS + r"\s+)?"
        r"(?:(?:is\s+)?(?:called|named)\s+)?)" + _AGE_NAME
    ),
    # "Theo, who is 7", "Theo aged 7", "Theo, age 7", "Theo who's just turned seven"
    re.compile(
        _AGE_NAME + r"(?i:,?\s+(?:who\s+is|who['’]s|who\s+has\s+just\s+turned|who\s+turned|"
        r"who\s+will\s+be|who\s+turns|aged?)\s+" + _SOFTENER + _AGE + r")\b"
    ),
    # "Theo is 7.", "Theo's seven and", "Theo is 7 years old"
    re.compile(
        _AGE_NAME
        + r"(?i:(?:\s+(?:is|was|has\s+just\s+turned|turned|turns|will\s+be)|['’]s)\s+"
        + _SOFTENER
        + _AGE
        + r"(?="
        + _YEARS_OLD
        + r"|\s*(?:[,.;:!?)]|$)|\s+(?:and|but|now|so|"
        r"in|this|next)\b))"
    ),
    # "Amira (9)", "Theo (aged 7)", "Theo (7 years)"
    re.compile(
        _AGE_NAME + r"(?i:\s*\(\s*(?:aged?\s*)?\d{1,2}\s*(?:years?|yrs?|y/?o)?(?:\s+old)?\s*\))"
    ),
    # "Theo, 7, has autism", "Theo, a 7-year-old with", "Theo 7 years old"
    re.compile(
        _AGE_NAME + r"(?i:,?\s+(?:(?:an?\s+)?" + _AGE + _YEARS_OLD + r"|(?:aged?\s+)?\d{1,2},))"
    ),
]
# Words that take a number the way a child takes an age ("Room 7 is", "Mine is 7").
_NOT_AGED = words(
    """which mine both each everyone everybody nobody someone somebody total number page room
    class group set level score grade size band step stage part chapter item question point
    term week day month hour minute age aged year years it its"""
)
# Capitalised words that follow cues but are not names.
_NOT_NAMES = frozenset(
    [
        "i",
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "he",
        "she",
        "they",
        "we",
        "you",
        "it",
        "his",
        "her",
        "their",
        "my",
        "our",
        "me",
        "him",
        "them",
        "us",
        "is",
        "was",
        "are",
        "be",
        "been",
        "has",
        "have",
        "had",
        "do",
        "did",
        "not",
        "no",
        "yes",
        "who",
        "what",
        "when",
        "where",
        "why",
        "how",
        "this",
        "that",
        "there",
        "here",
        "just",
        "also",
        "very",
        "really",
        "about",
        "for",
        "with",
        "from",
        "into",
        "on",
        "in",
        "at",
        "to",
        "of",
        "by",
        "as",
        "if",
        "then",
        "thanks",
        "thank",
        "please",
        "hi",
        "hello",
        "dear",
        "sir",
        "madam",
        "team",
        "all",
        "everyone",
        "adviser",
        "advisor",
        "service",
        "partnership",
        "parent",
        "parents",
        "mum",
        "dad",
        "son",
        "daughter",
        "year",
        "years",
        "old",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "school",
        "council",
        "autism",
        "adhd",
        "asd",
        "ehcp",
        "sen",
        "send",
        "senco",
        "sendco",
        "camhs",
        "nhs",
        "gp",
        "ot",
        "salt",
        "la",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "writing",
        "ringing",
        "calling",
        "phoning",
        "emailing",
        "worried",
        "sorry",
        "sure",
        "not",
        "so",
        "um",
        "er",
        "erm",
        "uh",
        "yeah",
        "yep",
        "ok",
        "okay",
        "hiya",
        "there",
        "well",
        "right",
        "honestly",
        "just",
    ]
)


@dataclass(frozen=True)
class Finding:
    """One identifying detail: where it is and what kind."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redacted:
    """Redacted text, and where each placeholder put into it stands (spans in ``text``)."""

    text: str
    placeholders: tuple[Finding, ...]

    def removed(self) -> dict[str, int]:
        """How many details of each kind were removed, e.g. ``{"NAME": 2, "SCHOOL": 1}``."""
        return dict(Counter(f.kind for f in self.placeholders))


@dataclass(frozen=True)
class Known:
    """Names and schools found in some texts, to remove from others too: a parent names
    "my son Theo" in one message and writes only "Theo" in the next."""

    names: frozenset[str] = frozenset()
    schools: frozenset[str] = frozenset()


def find_identifiers(
    text: str, known_names: Iterable[str] = (), known_schools: Iterable[str] = ()
) -> list[Finding]:
    """Every identifying span found, non-overlapping, in text order."""
    found: list[Finding] = []
    found += [Finding(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    found += [Finding(m.start(1), m.end(1), "DOB") for m in _DOB.finditer(text)]
    found += _nhs_numbers(text)
    found += _phones(text)
    found += [Finding(m.start(), m.end(), "POSTCODE") for m in _POSTCODE.finditer(text)]
    found += [Finding(m.start(), m.end(), "ADDRESS") for m in _ADDRESS.finditer(text)]
    found += [Finding(m.start(), m.end(), "ADDRESS") for m in _ADDRESS_LOWER.finditer(text)]
    found += _schools(text, known_schools)  # before names: "Larkrise" alone is its school
    found += _names(text, known_names)
    return _non_overlapping(found)


def redact_marked(
    text: str, known_names: Iterable[str] = (), known_schools: Iterable[str] = ()
) -> Redacted:
    """The text with every identifying detail replaced by a placeholder like ``[NAME]``, and
    where each placeholder now stands."""
    pieces: list[str] = []
    spans: list[Finding] = []
    last = at = 0
    for finding in find_identifiers(text, known_names, known_schools):
        kept, placeholder = text[last : finding.start], PLACEHOLDERS[finding.kind]
        pieces += [kept, placeholder]
        at += len(kept)
        spans.append(Finding(at, at + len(placeholder), finding.kind))
        at += len(placeholder)
        last = finding.end
    pieces.append(text[last:])
    return Redacted("".join(pieces), tuple(spans))


def redact(text: str, known_names: Iterable[str] = ()) -> str:
    """The text with every identifying detail replaced by a placeholder like ``[NAME]``."""
    return redact_marked(text, known_names).text


def learn(texts: Iterable[str], known_names: Iterable[str] = ()) -> Known:
    """The names and schools any of these texts gives, with the names already known."""
    known_names = tuple(known_names)
    names: set[str] = set()
    schools: set[str] = set()
    for text in texts:
        names |= _name_words(text, known_names)
        schools |= {phrase for _, _, phrase in _school_spans(text)}
    return Known(frozenset(names), frozenset(schools))


def redact_together(texts: Sequence[str], known_names: Iterable[str] = ()) -> list[Redacted]:
    """Each text redacted, a name or school found in any of them removed from all of them."""
    known = learn(texts, known_names)
    return [redact_marked(text, known.names, known.schools) for text in texts]


def placeholders_in(text: str) -> tuple[Finding, ...]:
    """Every placeholder a text already holds, e.g. those kept by a person editing it."""
    kinds = {placeholder: kind for kind, placeholder in PLACEHOLDERS.items()}
    return tuple(Finding(m.start(), m.end(), kinds[m.group()]) for m in _PLACEHOLDER.finditer(text))


def _phones(text: str) -> list[Finding]:
    out = []
    for match in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID):
        if not re.fullmatch(_DATE, match.raw_string.strip()):
            out.append(Finding(match.start, match.end, "PHONE"))
    # Numbers phonenumbers will not parse as written by hand, e.g. "07700 900 412".
    for m in re.finditer(r"(?<![\d£])(?:\+44\s?|0)\d{2,4}(?:[\s-]?\d){6,8}(?!\d)", text):
        out.append(Finding(m.start(), m.end(), "PHONE"))
    return out


def _nhs_numbers(text: str) -> list[Finding]:
    out = []
    for m in _NHS.finditer(text):
        digits = "".join(m.groups())
        cued = _NHS_CUE.search(text[max(0, m.start() - 40) : m.start()])
        if cued or _nhs_checksum_ok(digits):
            out.append(Finding(m.start(), m.end(), "NHS"))
    return out


def _nhs_checksum_ok(digits: str) -> bool:
    """Modulus 11 check digit of a 10-digit NHS number."""
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9]) and digits[0] != "0"


def _is_name(word: str) -> bool:
    word = _bare(word)
    low = word.lower()
    if low in _NOT_NAMES or low in NEEDS_WORDS:
        return False
    if len(low) < 2 or not re.sub(r"['’-]", "", low).isalpha():
        return False
    # Capitalised words are names unless very common; lower-case ones (transcripts) only
    # when they are not English words at all ("tyler", "jayden").
    return word[0].isupper() or low not in lemma_table()


def _bare(word: str) -> str:
    """ "Theo's" -> "Theo"."""
    for suffix in ("'s", "’s", "'", "’"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _is_aged_name(word: str) -> bool:
    """A word given an age ("Grace is 12") is a name even if it is also an English word."""
    word = _bare(word)
    low = word.lower()
    if low in _NOT_NAMES or low in NEEDS_WORDS or low in _CALENDAR or low in _NOT_AGED:
        return False
    if len(low) < 2 or not re.sub(r"['’-]", "", low).isalpha():
        return False
    return word[0].isupper() or (low not in english_words() and low not in lemma_table())


def _names(text: str, known_names: Iterable[str]) -> list[Finding]:
    out = []
    for name in _name_words(text, known_names):
        pattern = re.compile(r"(?<![\w@])" + re.escape(name) + r"(?![\w@])", re.IGNORECASE)
        out.extend(Finding(m.start(), m.end(), "NAME") for m in pattern.finditer(text))
    return out


def _name_words(text: str, known_names: Iterable[str]) -> set[str]:
    """Every word of the text that is a name, known or introduced by a cue."""
    names: set[str] = set()
    for name in known_names:
        for part in re.split(r"[\s,]+", name.strip()):
            if len(part) > 1:
                names.add(part)
    for m in _CUED.finditer(text):
        first = _bare(m.group(1).split()[0])
        if _is_name(first):
            names.add(first)
            rest = m.group(1).split()[1:]
            names.update(w for w in rest if _is_name(w) and w[0].isupper())
    for m in _TITLED.finditer(text):
        names.update(w for w in re.split(r"[ -]", m.group(1)) if _is_name(w))
    for m in _POSSESSOR.finditer(text):
        if _is_name(m.group(1)):
            names.add(m.group(1))
    # A capitalised word inside a sentence that is not an English word is a name or place.
    for m in _TITLE_WORD.finditer(text):
        word = m.group(1)
        word = _bare(word)
        if word.lower() not in _CALENDAR and _is_name(word) and word.lower() not in lemma_table():
            names.add(word)
    for m in _INLINE_SIGN_OFF.finditer(text):
        if _is_name(m.group(1)):
            names.add(m.group(1))
    lines = text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if _SIGN_OFF.match(line.strip()):
            nxt = _SIGNATURE_NAME.match(lines[i + 1])
            if nxt:
                names.update(w for w in re.split(r"\s+", nxt.group(1)) if _is_name(w))
    if lines and _SIGNATURE_NAME.match(lines[-1]) and len(lines) > 1:
        names.update(w for w in lines[-1].split() if _is_name(w) and w[0].isupper())
    for pattern in _AGED_NAMES:
        for m in pattern.finditer(text):
            names.update(_bare(w) for w in (m.group(1), *m.group(2).split()) if _is_aged_name(w))
    return names


def _schools(text: str, known_schools: Iterable[str]) -> list[Finding]:
    spans = _school_spans(text)
    out = [Finding(start, end, "SCHOOL") for start, end, _ in spans]
    for phrase in {*known_schools, *(p for _, _, p in spans)}:
        pattern = re.compile(r"(?<![\w@])" + re.escape(phrase) + r"(?![\w@])", re.IGNORECASE)
        out.extend(Finding(m.start(), m.end(), "SCHOOL") for m in pattern.finditer(text))
    return out


def _school_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, the name that tells which school) for every school named in the text."""
    out = []
    for m in _SCHOOL.finditer(text):
        words = list(re.finditer(r"\S+", m.group(1)))
        while words and _generic_school_word(words[0].group()):
            words.pop(0)  # "The", "Yesterday": before the name, not part of it
        if words and _bare(words[-1].group()) != words[-1].group() and m.group(2).islower():
            continue  # "Amira's school" is a child's school: her name is what identifies
        if words and any(_distinctive(w.group()) for w in words):
            start = m.start(1) + words[0].start()
            out.append((start, m.end(), text[start : m.start(1) + words[-1].end()]))
    for m in _SCHOOL_SPOKEN.finditer(text):
        words = list(re.finditer(r"\S+", m.group(1)))
        while words and not _spoken_school_word(words[0].group()):
            words.pop(0)  # "goes to", "the": only the name's own words stay
        if words and any(_spoken_school_word(w.group()) and _distinctive(w.group()) for w in words):
            start = m.start(1) + words[0].start()
            out.append((start, m.end(), text[start : m.start(1) + words[-1].end()]))
    return out


def _school_word(word: str) -> str:
    return _bare(word).lower().rstrip(".")


def _generic_school_word(word: str) -> bool:
    low = _school_word(word)
    return low in SCHOOL_GENERIC or low in _NOT_NAMES or low in _CALENDAR


def _distinctive(word: str) -> bool:
    """A word that tells one school from another: not its kind, church, or a needs word."""
    low = _school_word(word)
    if low in ("of", "on", "upon", "&") or _generic_school_word(word) or low in NEEDS_WORDS:
        return False
    return any(c.isalpha() for c in low)


def _spoken_school_word(word: str) -> bool:
    """In a lower-case transcript only a word no dictionary has can name a school."""
    low = _school_word(word)
    if low in ("st", "saint"):
        return True
    return _distinctive(word) and low not in english_words() and low not in lemma_table()


def _non_overlapping(found: list[Finding]) -> list[Finding]:
    """Longest first; drop anything overlapping a span already kept."""
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda f: (f.start - f.end, f.start)):
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)
