"""Load the risk rules, word classes and context cues from the TOML files in this folder.

Rules are data so a safeguarding lead can read and extend them: one file per category of
harm, each rule with an id, a severity, a short example phrase it must match, and patterns
in the language described in ``nlp.patterns``. ``lexicon.toml`` holds shared word classes;
``context.toml`` holds the cues (negation, hypotheticals, idioms, ...) that cut false alarms.
Anything wrong in a file stops loading with a ``RuleError`` naming the file and the rule:
a silently skipped rule is a missed child.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from nlp.lemmas import lemma_of
from nlp.patterns import Compiled, Lexicon, PatternError, compile_patterns

RULES_DIR = Path(__file__).resolve().parent
LEXICON_FILE = "lexicon.toml"
CONTEXT_FILE = "context.toml"
SEVERITIES = ("immediate", "concern")
CONTEXTS = ("negation", "hypothetical", "procedure", "fiction", "historic", "idiom", "denial")
EXPLANATIONS = ("managed", "clinical", "accident")  # opt-in: benign explanations of a behaviour
# "negation_far": a negative subject ("nobody", "no one") that reaches further back than a
# negation word; it counts as a negation (rules opt out of both with ignore = ["negation"]).
CUE_KINDS = CONTEXTS + EXPLANATIONS + ("escalation", "imminent", "negation_far")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class RuleError(ValueError):
    """A rule file that cannot be loaded; the message names the file and the rule id."""


@dataclass(frozen=True)
class Rule:
    """One risk rule: what it matches, how serious a match is, and which contexts apply."""

    id: str
    category: str
    severity: str
    example: str
    patterns: tuple[Compiled, ...]
    ignore: frozenset[str]  # context rules that must not silence this rule
    explained_by: frozenset[str]  # benign explanations that may silence it (opt-in)
    near: tuple[Compiled, ...] = ()  # if set, one of these must match close by


@dataclass(frozen=True)
class Cue:
    """A context cue (negation word, idiom, fiction marker, ...) and its patterns."""

    id: str
    kind: str
    example: str
    patterns: tuple[Compiled, ...]


@dataclass(frozen=True)
class RuleSet:
    """Everything loaded from one rules directory."""

    rules: tuple[Rule, ...]
    cues: tuple[Cue, ...]
    lexicon: Lexicon
    categories: tuple[str, ...]


def load_rules(rules_dir: Path | None = None) -> RuleSet:
    """Load and validate every rule file; raise RuleError on the first problem."""
    folder = Path(rules_dir) if rules_dir is not None else RULES_DIR
    lexicon = _load_lexicon(folder / LEXICON_FILE)
    cues = _load_cues(folder / CONTEXT_FILE, lexicon)
    rules: list[Rule] = []
    categories: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name in (LEXICON_FILE, CONTEXT_FILE):
            continue
        category, file_rules = _load_category(path, lexicon)
        categories.append(category)
        for rule in file_rules:
            if rule.id in seen:
                raise RuleError(
                    f"{path.name}: rule {rule.id}: id already used in {seen[rule.id].name}"
                )
            seen[rule.id] = path
            rules.append(rule)
    if not rules:
        raise RuleError(f"{folder}: no rule files (*.toml besides {LEXICON_FILE}, {CONTEXT_FILE})")
    return RuleSet(tuple(rules), cues, lexicon, tuple(categories))


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleError(f"{path.name}: file is missing from {path.parent}") from None
    except UnicodeDecodeError as exc:
        raise RuleError(f"{path.name}: not valid UTF-8 ({exc.reason})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        rule = _rule_near_error(text, str(exc))
        where = f"rule {rule}: " if rule else ""
        raise RuleError(f"{path.name}: {where}TOML syntax error: {exc}") from None


def _rule_near_error(text: str, message: str) -> str | None:
    """The id of the last rule that starts before the line the TOML parser complained about."""
    match = re.search(r"line (\d+)", message)
    lines = text.splitlines()
    upto = int(match.group(1)) if match else len(lines)
    found = None
    for line in lines[:upto]:
        id_match = re.match(r'\s*id\s*=\s*"([^"]*)"', line)
        if id_match:
            found = id_match.group(1)
    return found


def _load_lexicon(path: Path) -> Lexicon:
    data = _read(path)
    classes = data.get("classes")
    if not isinstance(classes, dict) or not classes:
        raise RuleError(f"{path.name}: needs a [classes] table of NAME = [words]")
    lemmas: dict[str, frozenset[str]] = {}
    excluded: dict[str, frozenset[str]] = {}
    for name, words in classes.items():
        if not re.match(r"^[A-Z][A-Z0-9_]*$", name):
            raise RuleError(f"{path.name}: class {name}: names are UPPER_CASE")
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise RuleError(f"{path.name}: class {name}: must be a list of words")
        keep = {lemma_of(w) for w in words if not w.startswith("!")}
        drop = {w[1:].lower() for w in words if w.startswith("!")}
        bad = [w for w in keep if " " in w]
        if bad:
            raise RuleError(f"{path.name}: class {name}: one word per entry, not {bad[0]!r}")
        lemmas[name] = frozenset(keep)
        excluded[name] = frozenset(drop)
    return Lexicon(lemmas=lemmas, excluded_forms=excluded)


def _compile_all(path: Path, rule_id: str, patterns: object, lexicon: Lexicon) -> tuple:
    if not isinstance(patterns, list) or not patterns:
        raise RuleError(f"{path.name}: rule {rule_id}: 'patterns' must be a non-empty list")
    compiled = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise RuleError(f"{path.name}: rule {rule_id}: pattern {pattern!r} is not a string")
        try:
            compiled.extend(compile_patterns(pattern, lexicon))
        except PatternError as exc:
            raise RuleError(f"{path.name}: rule {rule_id}: {exc}") from None
    return tuple(compiled)


def _entry_id(path: Path, entry: object, index: int) -> str:
    if not isinstance(entry, dict):
        raise RuleError(f"{path.name}: entry {index + 1} is not a table")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleError(
            f"{path.name}: rule {rule_id or f'#{index + 1}'}: id must look like 'category.name'"
        )
    example = entry.get("example")
    if not isinstance(example, str) or not example.strip():
        raise RuleError(f"{path.name}: rule {rule_id}: needs an 'example' phrase it matches")
    return rule_id


def _load_category(path: Path, lexicon: Lexicon) -> tuple[str, list[Rule]]:
    data = _read(path)
    category = data.get("category")
    if not isinstance(category, str) or not category:
        raise RuleError(f'{path.name}: needs a top-level category = "..."')
    entries = data.get("rule")
    if not isinstance(entries, list) or not entries:
        raise RuleError(f"{path.name}: needs at least one [[rule]]")
    rules = []
    for index, entry in enumerate(entries):
        rule_id = _entry_id(path, entry, index)
        unknown = set(entry) - {
            "id",
            "example",
            "patterns",
            "severity",
            "ignore",
            "explained_by",
            "near",
            "note",
        }
        if unknown:
            raise RuleError(f"{path.name}: rule {rule_id}: unknown keys {sorted(unknown)}")
        severity = entry.get("severity", "concern")
        if severity not in SEVERITIES:
            raise RuleError(f"{path.name}: rule {rule_id}: severity must be one of {SEVERITIES}")
        ignore = entry.get("ignore", [])
        if not isinstance(ignore, list) or not set(ignore) <= set(CONTEXTS):
            raise RuleError(f"{path.name}: rule {rule_id}: ignore must list some of {CONTEXTS}")
        explained = entry.get("explained_by", [])
        if not isinstance(explained, list) or not set(explained) <= set(EXPLANATIONS):
            raise RuleError(
                f"{path.name}: rule {rule_id}: explained_by must list some of {EXPLANATIONS}"
            )
        patterns = _compile_all(path, rule_id, entry.get("patterns"), lexicon)
        near = entry.get("near")
        near_patterns = _compile_all(path, rule_id, near, lexicon) if near is not None else ()
        rules.append(
            Rule(
                rule_id,
                category,
                severity,
                entry["example"],
                patterns,
                frozenset(ignore),
                frozenset(explained),
                near_patterns,
            )
        )
    return category, rules


def _load_cues(path: Path, lexicon: Lexicon) -> tuple[Cue, ...]:
    data = _read(path)
    entries = data.get("cue")
    if not isinstance(entries, list) or not entries:
        raise RuleError(f"{path.name}: needs [[cue]] entries")
    cues = []
    for index, entry in enumerate(entries):
        cue_id = _entry_id(path, entry, index)
        kind = entry.get("kind")
        if kind not in CUE_KINDS:
            raise RuleError(f"{path.name}: rule {cue_id}: kind must be one of {CUE_KINDS}")
        unknown = set(entry) - {"id", "example", "patterns", "kind", "note"}
        if unknown:
            raise RuleError(f"{path.name}: rule {cue_id}: unknown keys {sorted(unknown)}")
        patterns = _compile_all(path, cue_id, entry.get("patterns"), lexicon)
        cues.append(Cue(cue_id, kind, entry["example"], patterns))
    return tuple(cues)
