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
    (a|out of it)    a group: alternatives that may be several words each ("a" OR
                     "out of it"); expanded into one token pattern per alternative.
                     "(a|out of it)?" makes the whole group optional.

An element always matches ONE token, so ``too drunk|high|out of it`` means "too", then
drunk-or-high-or-out, then "of", then "it": the phrase "too out of it" only. Such a line
silently narrows a rule, so an alternation that mixes kinds of word (article with
preposition, verb with preposition, ...) or repeats its neighbour ("mass shooting|school
shooting") next to other words is refused as ambiguous. Write multi-word alternatives as a
group, or put a single-word alternation in parentheses to confirm it: ``(have|with) a plan``.

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


MAX_EXPANSIONS = 64  # token patterns one line may expand to through (...) groups

# Word kinds for the ambiguity check: an alternation whose words are of different kinds
# ("a|out", "with|have", "possessed|a") next to other words is most often a multi-word
# alternative written without a group. Words not listed count as content words.
_KINDS: dict[str, frozenset[str]] = {}
for _kind, _words in {
    "det": "a an the this that these those my your his her its our their some any no every "
    "all both each another",
    "pron": "i me you he him she her it we us they them myself himself herself themselves "
    "someone somebody anyone everyone nobody noone hes shes theyre im ive youre",
    "prep": "to of in on at by for with from into onto out up off down over under about "
    "through across around round after before without near since until till til during",
    "conj": "and or but if when while because cos so than then as like",
    "aux": "be is are was were am 's 're 'm do does did have has had will would can could "
    "should might may must 'll 'd ll wo ca",
    "neg": "not n't nt never no cannot nobody noone without",
    "adv": "again overnight alone secretly away back home there here now today tonight "
    "yesterday abroad first down up out off in inside outside together ever still just "
    "only so too very",
}.items():
    for _w in _words.split():
        _KINDS[_w] = _KINDS.get(_w, frozenset()) | {_kind}
_CONTENT = frozenset({"content"})


def _kinds(word: str) -> frozenset[str]:
    if "n't" in word:
        return frozenset({"neg"})
    if "'" in word[1:]:  # he's, i'm, they're: a pronoun and a verb
        return frozenset({"pron", "aux"})
    return _KINDS.get(word, _CONTENT)


def compile_patterns(text: str, lexicon: Lexicon) -> tuple[Compiled, ...]:
    """Compile one pattern line, expanding ``(...)`` groups; PatternError names the fault."""
    variants = expand_groups(text)
    return tuple(_compile_checked(v, explicit, lexicon) for v, explicit in variants)


def expand_groups(text: str) -> list[tuple[str, frozenset[int]]]:
    """The plain pattern lines a line with ``(...)`` groups stands for.

    Each result is (line, positions of elements that came from a group, which need no
    ambiguity check). A group of single words, "(have|with)", stays one element; a group
    with a multi-word alternative expands into one line per alternative.
    """
    slots: list[tuple[list[list[str]], bool]] = []  # (alternatives, from a group)
    rest = text.strip()
    while rest:
        if not rest.startswith("("):
            word, _, rest = rest.partition(" ")
            if "(" in word or ")" in word:
                raise PatternError(f"pattern {text!r}: stray parenthesis in {word!r}")
            slots.append(([[word]], False))
            rest = rest.strip()
            continue
        close = rest.find(")")
        if close == -1:
            raise PatternError(f"pattern {text!r}: '(' without ')'")
        inner = rest[1:close]
        if "(" in inner:
            raise PatternError(f"pattern {text!r}: groups cannot be nested")
        after = rest[close + 1 :]
        optional = after.startswith("?")
        after = after[1:] if optional else after
        if after and not after[0].isspace():
            raise PatternError(f"pattern {text!r}: a space must follow ')' or ')?'")
        alternatives = [alt.split() for alt in inner.split("|")]
        if any(not alt for alt in alternatives):
            raise PatternError(f"pattern {text!r}: group ({inner}) has an empty alternative")
        if all(len(alt) == 1 for alt in alternatives):
            joined = "|".join(alt[0] for alt in alternatives)
            alternatives = [[joined + ("?" if optional else "")]]
        elif optional:
            alternatives.append([])
        slots.append((alternatives, True))
        rest = after.strip()
    variants: list[tuple[list[str], frozenset[int]]] = [([], frozenset())]
    for alternatives, grouped in slots:
        variants = [
            (
                elements + alt,
                marks | frozenset(range(len(elements), len(elements) + len(alt)))
                if grouped
                else marks,
            )
            for elements, marks in variants
            for alt in alternatives
        ]
        if len(variants) > MAX_EXPANSIONS:
            raise PatternError(f"pattern {text!r} expands to more than {MAX_EXPANSIONS} lines")
    if any(not elements for elements, _ in variants):
        raise PatternError(f"pattern {text!r} can expand to an empty pattern")
    return [(" ".join(elements), marks) for elements, marks in variants]


def _check_ambiguous(elements: list[str], explicit: frozenset[int], text: str) -> None:
    """Refuse an alternation that most likely hides a multi-word alternative."""
    for index, element in enumerate(elements):
        if index in explicit or "|" not in element or _GAP.match(element):
            continue
        core = element.rstrip("?").lstrip("^")
        words = [alt for alt in core.split("|") if alt and alt[0] not in "@=~"]
        neighbours = [elements[j] for j in (index - 1, index + 1) if 0 <= j < len(elements)]
        neighbours = [n for n in neighbours if not _GAP.match(n)]
        if not words or not neighbours:
            continue
        lemmas = [lemma_of(w) for w in words]
        bare = {lemma_of(n.rstrip("?")) for n in neighbours if n.rstrip("?").isalpha()}
        repeated = bool(bare & set(lemmas))
        kinds = [_kinds(w) for w in words]
        mixed = any(not (a & b) for a in kinds for b in kinds)
        if repeated or mixed:
            raise PatternError(
                f"element {element!r} in {text!r} is ambiguous: an element matches one "
                "token, so a multi-word alternative like 'a|out of it' silently means "
                "a-or-out, then 'of it'. Write multi-word alternatives as a group "
                "'(a|out of it)', or confirm a one-word alternation as '(a|out)'"
            )


def _compile_checked(line: str, explicit: frozenset[int], lexicon: Lexicon) -> Compiled:
    _check_ambiguous(line.split(), explicit, line)
    return compile_pattern(line, lexicon)


def compile_pattern(text: str, lexicon: Lexicon) -> Compiled:
    """Compile one plain pattern line; raise PatternError naming the faulty element."""
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
