"""The backstop (nlp/rules/backstop.toml): "when in doubt, flag". A sentence about a child
with a fear, secrecy, threat or "something is wrong" signal that no specific rule knows is a
``concern`` named by a ``backstop.*`` rule id, never silence. It has the lowest precedence (its
evidence is dropped when a specific rule fired) and every context cue still applies.

Measured before it was enabled (first-run rules of each probe round, backstop added):
probe 1 recall 0.787 -> 0.820, probe 2 0.722 -> 0.730, probe 3 0.748 -> 0.861 (designed after
seeing probe 3's misses, so optimistic); FPR unchanged on all three and on the dev set."""

from __future__ import annotations

import pytest

from nlp.risk import BACKSTOP_CATEGORY


def _rules(result):
    return {e.rule for e in result.evidence}


@pytest.mark.parametrize(
    "text",
    [
        "things go on at her nan's house that aren't right",
        "she doesn't want me to tell nanny what grandad does",
        "he's not allowed to say what happens at his dad's",
        "he said if she tells anyone he'll kill the cat",
        "she doesn't feel safe at her dad's",
        "she's petrified of her mum's new boyfriend",
        "he's terrified to go back to his dad's at the weekend",
        "he wets himself whenever his uncle visits",
        "something happened at the sleepover and she won't talk about it",
        "i'm frightened i might snap one day",
        "her dad filmed her crying and threatens to do it again",
        "my brother keeps me locked out till midnight",
        "the little one always comes back from his dad's starving",
        "im 13 can i talk to someone about my stepdad",
    ],
)
def test_backstop_flags_unknown_phrasings_as_concern_with_its_rule_id(detector, text):
    result = detector.assess(text)
    assert result.flagged, (text, detector.explain(text))
    assert result.severity == "concern"
    assert result.categories == (BACKSTOP_CATEGORY,), result
    assert all(rule.startswith("backstop.") for rule in _rules(result)), result


@pytest.mark.parametrize(
    "text",
    [
        "she's scared of the dark and of hand dryers",
        "he's terrified of dogs, can the school keep theirs away",
        "I'm frightened the school will exclude him again",
        "we're planning a surprise party, please keep it a secret",
        "she wants to keep her diagnosis private",
        "he flinches at loud noises because of his autism",
        "he's never been unsafe at home, it's the school run I'm worried about",
        "nobody has ever threatened him, we just want a quieter classroom",
        "we lock the front door because he's a runner, the OT suggested it",
        "the news had a story about a boy who was scared of his stepdad",
        "years ago she was frightened of her dad but we left in 2015 and she's settled",
        "she says the tribunal process is not right at all",
        "she bruises easily because of her condition",
        "my son is always starving after swimming",
    ],
)
def test_backstop_stays_quiet_on_ordinary_fears_and_context(detector, text):
    result = detector.assess(text)
    assert not result.flagged, (text, detector.explain(text))


def test_backstop_evidence_names_the_rule_and_is_a_concern(detector):
    result = detector.assess("things happen at his dad's that aren't right")
    assert result.flagged and result.severity == "concern"
    assert result.categories == (BACKSTOP_CATEGORY,)
    assert [e.rule for e in result.evidence] == ["backstop.not_right"]


def test_backstop_gives_way_to_a_specific_rule(detector):
    text = "he's scared stiff of his dad, who punched him in the stomach"
    result = detector.assess(text)
    assert result.flagged
    assert not any(rule.startswith("backstop.") for rule in _rules(result)), result
    assert BACKSTOP_CATEGORY not in result.categories
    # explain() still shows the backstop match for a lead or rule author
    assert any(rule.startswith("backstop.") for rule, _text, _s in detector.explain(text))


def test_backstop_rules_are_all_concern_level(detector):
    rules = [r for r in detector.ruleset.rules if r.category == BACKSTOP_CATEGORY]
    assert len(rules) >= 5
    assert all(r.id.startswith("backstop.") and r.severity == "concern" for r in rules)
