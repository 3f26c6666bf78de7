"""Each context rule: a case it must still flag, and a case it must leave alone."""

from __future__ import annotations

import pytest

CASES = {
    "negation": (
        "his dad hits him when he gets angry",
        "no nobody's ever hurt him, it's just the school won't let him have ear defenders",
    ),
    "procedure": (
        "the school restrained him face down and now he has carpet burns",
        "what happens if staff hold a child face down? is that allowed under their policy?",
    ),
    "hypothetical": (
        "if I go out there I'll hit him, I swear I will",
        "the new school asked if there was any domestic violence at home, there isn't",
    ),
    "idiom": (
        "my husband is suffocating him with a pillow",
        "the school is suffocating him with all these rules about uniform",
    ),
    "managed": (
        "she bangs her head on the wall until it bleeds and nobody is helping us",
        "she bangs her head until it bleeds sometimes; her OT and the LD team have a plan",
    ),
    "fiction": (
        "my son said he is going to jump off the bridge tonight",
        "he keeps singing 'im gonna jump off a cliff', it's from a cartoon song",
    ),
    "historic": (
        "her father beats her when she comes home late",
        "years ago when I was a kid my own dad beat me, anyway it's about speech therapy",
    ),
    "clinical": (
        "he says he wishes he was dead and he's stopped eating",
        "he says 'I wish I was dead' when told to stop gaming; CAMHS assessed it, "
        "safety plan in place",
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_context_rule_keeps_the_risky_case(detector, kind):
    risky, _benign = CASES[kind]
    assert detector.assess(risky).flagged, risky


@pytest.mark.parametrize("kind", sorted(CASES))
def test_context_rule_silences_the_benign_case(detector, kind):
    _risky, benign = CASES[kind]
    result = detector.assess(benign)
    assert not result.flagged, (benign, result.evidence)


def test_explain_names_the_silencing_context(detector):
    reasons = {
        reason for _rule, _text, reason in detector.explain("he has never been hit by anyone")
    }
    assert reasons == {"negation"}


def test_threat_after_negation_still_flags(detector):
    text = "when I said I'd call the police he said don't or they'll hurt me"
    assert detector.assess(text).flagged


def test_imminent_cue_raises_severity(detector):
    assert detector.assess("his dad hit him").severity == "concern"
    assert detector.assess("his dad hit him and he is here right now").severity == "immediate"


def test_immediate_rules(detector):
    assert detector.assess("she took 20 paracetamol an hour ago").severity == "immediate"
    assert detector.assess("my son has been missing since last night").severity == "immediate"


def test_context_words_match_tokens_not_substrings(detector):
    # "notice" contains "not", "iffy" contains "if": neither is a cue.
    assert detector.assess("I'd notice that his dad hits him").flagged
    assert detector.assess("it's iffy, his dad hits him").flagged
