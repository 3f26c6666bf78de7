"""A small, readable pattern language compiled to spaCy ``Matcher`` token patterns.

Safeguarding leads write rules as lines of words, not JSON. One pattern is a sequence of
space-separated elements; each element matches one token:

    hit              the lemma "hit" (hit, hits, hitting)
    hit|punch|kick   any of these lemmas (folded into one ``IN`` predicate)
    @CHILD           any lemma in the lexicon class CHILD (nlp/rules/lexicon.toml)
    =was|=were       exact lower-case forms (for tense: "is violent" but not "was violent")
    ~paracetamol     fuzzy lower-case form, for speech-recognition and spelling errors
    ^@BODY           any token that is NOT in the class / alternatives
    X?               the element is optional
    {0,3}            up to three tokens of anything

Folding alternatives and classes into ``IN`` lists keeps the matcher fast (one predicate
per class, shared by every rule that uses it), and each compiled pattern names an *anchor*:
a set of lemmas one of which must occur for the pattern to be able to match, so documents
without any anchor skip the matcher entirely.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from nlp.lemmas import forms_of, lemma_of

_GAP = re.compile(r"^\{(\d+),(\d+)\}$")
_FUZZY = re.compile(r"^~(\d?)(.+)$")
_WORD = re.compile(r"^([a-z0-9'&£:.\-/]+|[,.!?;:])$")


class PatternError(ValueError):
    """A pattern that cannot be compiled; the loader adds the file and rule id."""


@dataclass(frozen=True)
class Compiled:
    """A spaCy token pattern, plus what the index needs to skip hopeless documents.

    ``required`` pairs each required element's position with the lemmas one of which must
    be in the text (fuzzy and negated elements are never required); ``widths`` gives each
    element's minimum and maximum number of tokens.
    """

    tokens: list[dict]
    required: tuple[tuple[int, frozenset[str]], ...]
    widths: tuple[tuple[int, int], ...]

    @property
    def anchor(self) -> frozenset[str] | None:
        """The smallest required lemma set (None: the pattern cannot be prefiltered)."""
        return min((r for _, r in self.required), key=len) if self.required else None


@dataclass(frozen=True)
class Lexicon:
    """Named word classes: lemmas to match and exact forms to exclude ("bit" is not "bite")."""

    lemmas: Mapping[str, frozenset[str]]
    excluded_forms: Mapping[str, frozenset[str]]


def compile_pattern(text: str, lexicon: Lexicon) -> Compiled:
    """Compile one pattern line; raise PatternError naming the faulty element."""
    elements = text.split()
    if not elements:
        raise PatternError("empty pattern")
    tokens: list[dict] = []
    required: list[tuple[int, frozenset[str]]] = []
    widths: list[tuple[int, int]] = []
    for index, element in enumerate(elements):
        token, anchor = _compile_element(element, lexicon)
        tokens.append(token)
        op = token.get("OP")
        if op == "?":
            widths.append((0, 1))
        elif op:
            low, high = op.strip("{}").split(",")
            widths.append((int(low), int(high)))
        else:
            widths.append((1, 1))
        if anchor is not None:
            required.append((index, anchor))
    if all("OP" in t and t.get("OP", "").startswith("{") and len(t) == 1 for t in tokens):
        raise PatternError(f"pattern {text!r} is only gaps")
    if tokens[0].keys() == {"OP"} or tokens[-1].keys() == {"OP"}:
        raise PatternError(f"pattern {text!r} may not start or end with a gap")
    return Compiled(tokens=tokens, required=tuple(required), widths=tuple(widths))


def _compile_element(element: str, lexicon: Lexicon) -> tuple[dict, frozenset[str] | None]:
    gap = _GAP.match(element)
    if gap:
        low, high = int(gap.group(1)), int(gap.group(2))
        if low > high or high > 12:
            raise PatternError(f"gap {element!r} must be {{m,n}} with m <= n <= 12")
        return {"OP": f"{{{low},{high}}}"}, None
    optional = element.endswith("?") and len(element) > 1
    core = element[:-1] if optional else element
    negated = core.startswith("^")
    core = core[1:] if negated else core
    if not core:
        raise PatternError(f"element {element!r} is empty")
    lemmas: set[str] = set()
    forms: set[str] = set()
    fuzzy: dict[str, set[str]] = {}
    excluded: set[str] = set()
    for alt in core.split("|"):
        if not alt:
            raise PatternError(f"element {element!r} has an empty alternative")
        if alt.startswith("@"):
            name = alt[1:]
            if name not in lexicon.lemmas:
                raise PatternError(f"unknown class {alt!r} in {element!r}")
            lemmas |= lexicon.lemmas[name]
            excluded |= lexicon.excluded_forms.get(name, frozenset())
        elif alt.startswith("="):
            forms.add(_word(alt[1:], element))
        elif alt.startswith("~"):
            m = _FUZZY.match(alt)
            if not m:
                raise PatternError(f"bad fuzzy word {alt!r} in {element!r}")
            fuzzy.setdefault(m.group(1), set()).add(_word(m.group(2), element))
        else:
            lemmas.add(lemma_of(_word(alt, element)))
    if fuzzy and (lemmas or forms) or len(fuzzy) > 1:
        raise PatternError(
            f"element {element!r} mixes ~fuzzy words with other kinds; split it into "
            "separate alternatives"
        )
    if lemmas and forms:
        # Mixed lemmas and exact forms: expand the lemmas to all their forms (exact match).
        inverse = forms_of()
        for lemma in lemmas:
            forms |= {lemma} | inverse.get(lemma, frozenset())
        forms -= excluded
        lemmas, excluded = set(), set()
    token: dict = {}
    if lemmas:
        token["LEMMA"] = _predicate(lemmas, negated)
        if excluded:
            token["LOWER"] = {"NOT_IN": sorted(excluded)}
    elif forms:
        token["LOWER"] = _predicate(forms, negated)
    else:
        if negated:
            raise PatternError(f"element {element!r}: fuzzy words cannot be negated")
        ((edits, words),) = fuzzy.items()
        op = f"FUZZY{edits}" if edits else "FUZZY"
        token["LOWER"] = {op: {"IN": sorted(words)}} if len(words) > 1 else {op: next(iter(words))}
    if optional:
        token["OP"] = "?"
    anchor: frozenset[str] | None = None
    if not optional and not negated:
        if lemmas:
            anchor = frozenset(lemmas)
        elif forms:
            anchor = frozenset(lemma_of(f) for f in forms)
    return token, anchor


def _predicate(values: set[str], negated: bool) -> str | dict:
    if negated:
        return {"NOT_IN": sorted(values)}
    if len(values) == 1:
        return next(iter(values))
    return {"IN": sorted(values)}


def _word(word: str, element: str) -> str:
    if not _WORD.match(word):
        raise PatternError(f"element {element!r}: {word!r} is not a lower-case word")
    return word
