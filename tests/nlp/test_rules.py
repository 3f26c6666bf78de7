"""Every rule matches its own example; every category catches fresh wording; bad rule files
fail loudly, naming the file and the rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlp.rule_detector import RuleDetector
from nlp.rules import RULES_DIR, RuleError, load_rules

RULES = load_rules().rules


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_example_fires_its_rule(detector, rule):
    result = detector.assess(rule.example)
    assert rule.id in {e.rule for e in result.evidence}, (rule.example, result)


# Fresh sentences (not from the dev set), one or more per category.
CATEGORY_CASES = {
    "physical_abuse": [
        "my husband slapped our son across the face last night",
        "his mum's partner kicks him when he won't go to bed",
    ],
    "sexual_abuse": [
        "my daughter says her step brother touches her private parts at night",
        "she told me the lodger made her do sexual things",
    ],
    "emotional_abuse": ["his father calls him a useless freak in front of everyone"],
    "neglect": [
        "the kids next door have been left alone all weekend",
        "there is nothing to eat in the house and the kids are hungry",
    ],
    "domestic_abuse": ["he strangled me in the kitchen while the kids watched"],
    "self_harm": [
        "my son told me he wants to kill himself",
        "she has been cutting her wrists in the bathroom",
    ],
    "parental_crisis": ["i'm scared of what i might do to her"],
    "exploitation": ["some older lads are making him sell drugs for them"],
    "grooming": ["a man on roblox asked him to send pictures and keep it secret"],
    "missing": ["my 12 year old has been missing since this morning"],
    "fgm": ["they are taking my niece abroad this summer to be cut"],
    "forced_marriage": ["her uncle arranged for her to be married in pakistan, she is 15"],
    "radicalisation": ["he watches isis videos and talks about becoming a martyr"],
    "institutional_abuse": ["the staff held him face down for half an hour"],
    "unexplained_injury": ["she came home from contact with bruises on her arms"],
}


@pytest.mark.parametrize(
    ("category", "text"),
    [(c, t) for c, texts in CATEGORY_CASES.items() for t in texts],
)
def test_each_category_catches_fresh_wording(detector, category, text):
    result = detector.assess(text)
    assert result.flagged, text
    assert category in result.categories, (text, result.categories)


def test_every_category_file_is_loaded():
    assert set(CATEGORY_CASES) <= set(load_rules().categories)


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_toml_syntax_error_names_file_and_rule(rules_copy):
    path = rules_copy / "missing.toml"
    text = path.read_text()
    path.write_text(
        text.replace('id = "missing.ran_off"\n', 'id = "missing.ran_off"\nbroken = [\n', 1)
    )
    with pytest.raises(RuleError) as caught:
        load_rules(rules_copy)
    assert "missing.toml" in str(caught.value)
    assert "missing.ran_off" in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"@VIOLENCE {0,2} @VICTIM",', '"@NOSUCHCLASS {0,2} @VICTIM",', "unknown class"),
        ('id = "physical.grab"\n', 'id = "physical.grab"\nseverity = "urgent"\n', "severity"),
        ('example = "his dad grabbed him by the neck"\n', "", "example"),
        ('"@VIOLENCE the little one",', '"{0,2} @VIOLENCE",', "gap"),
    ],
)
def test_invalid_rule_is_refused_with_file_and_rule(rules_copy, old, new, expected):
    path = rules_copy / "physical_abuse.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(RuleError) as caught:
        RuleDetector(rules_copy)
    message = str(caught.value)
    assert "physical_abuse.toml" in message
    assert "rule physical." in message
    assert expected in message


def test_rule_error_is_a_value_error():
    assert issubclass(RuleError, ValueError)


def test_duplicate_rule_id_is_refused(rules_copy):
    path = rules_copy / "fgm.toml"
    path.write_text(path.read_text().replace('id = "fgm.to_be_cut"', 'id = "fgm.named"'))
    with pytest.raises(RuleError, match="fgm.named"):
        load_rules(rules_copy)


@pytest.mark.parametrize(
    "pattern",
    [
        "too drunk|high|stoned|out of it",  # meant "out of it", got "too out of it" only
        "a|out of it",
        "mass shooting|shootings|school shooting",  # meant "school shooting"
        "stand|sit {0,5} for hours|all day",  # meant "all day"
    ],
)
def test_multi_word_alternative_without_group_is_refused(rules_copy, pattern):
    path = rules_copy / "parental_crisis.toml"
    text = path.read_text()
    old = '"too out of it",'
    assert old in text
    path.write_text(text.replace(old, f'"{pattern}",', 1))
    with pytest.raises(RuleError) as caught:
        load_rules(rules_copy)
    message = str(caught.value)
    assert "parental_crisis.toml" in message
    assert "rule parental.incapable" in message
    assert "ambiguous" in message and "(a|out of it)" in message


def test_group_supports_multi_word_alternatives(rules_copy):
    path = rules_copy / "parental_crisis.toml"
    text = path.read_text()
    path.write_text(text.replace('"too out of it",', '"too (drunk|high|out of it)",', 1))
    detector = RuleDetector(rules_copy)
    for text in ("i'm too out of it to do the school run", "i was too high to pick him up"):
        assert "parental.incapable" in {e.rule for e in detector.assess(text).evidence}, text


def test_group_expansion_and_confirmed_alternation():
    from nlp.patterns import PatternError, expand_groups

    lines = [line for line, _ in expand_groups("too (drunk|out of it)? now")]
    assert lines == ["too drunk now", "too out of it now", "too now"]
    # a group of single words stays one element and needs no further confirmation
    assert [line for line, _ in expand_groups("(have|with) a plan")] == ["have|with a plan"]
    for bad in ("(a|b", "a|b)", "(a|(b c))", "(a|) b", "(a b)x"):
        with pytest.raises(PatternError):
            expand_groups(bad)
