"""Generalisation, dev-style round: 150 new messages written to imitate the dev set's style,
category mix and channels (nlp/data/train/probe_devstyle.jsonl), before re-reading the rules.

First run, before any rule change: recall 0.903 (7 misses of 72), FPR 0.062 (4 of 65)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        # fresh wordings of the gaps, not the probes' own sentences
        "she said she'd throw herself under a bus",
        "he told his brother he won't be around by his birthday",
        "we've been thinking of driving the car into the canal with the girls",
        "his mum wishes she never had him and says so every day",
        "the lodger climbs into bed with her when mum's at work",
        "he pressed her hand against the radiator till she screamed",
        "her gran put soap in her mouth for saying a bad word",
        "he's started carrying a knife because of the boys he owes money to",
        "they'll send her to bangladesh to be married",
        "his stepdad makes him stand out in the rain when he's naughty",
        "the baby hasn't been bathed in weeks",
        "she hides under the table whenever her uncle comes round",
        "he texted that we'll all be sorry",
        "they're planning to cut my niece in the holidays, it's our culture",
    ],
)
def test_fresh_wordings_of_devstyle_gaps_are_flagged(detector, text):
    assert detector.assess(text).flagged, (text, detector.explain(text))


@pytest.mark.parametrize(
    "text",
    [
        "no one at home has ever hurt her",
        "nobody in this family has ever laid a finger on him",
        "he can kick his little brother in a meltdown, we have a behaviour plan from the OT",
        "she has a scratch on her arm. It was the cat, she was trying to pick it up",
        "he told the teacher his mum hits him but it turned out he meant in a pillow fight",
        "the bruise is from the trampoline",
        # everyday wordings next to the new patterns
        "I won't be here for the meeting on Friday, can we move it?",
        "you'll be sorry you missed the tribunal deadline",
        "he carries a knife and fork in his lunchbox",
        "he's been living on toast since the new meds",
        "he hasn't had a bath in days because of his sensory issues, the OT is helping",
        "my son gets into bed with her most nights",
        "can you cut my daughter's hair in the holidays",
        "the taxi will come for the kids at 8",
    ],
)
def test_devstyle_hard_negatives_are_not_flagged(detector, text):
    assert not detector.assess(text).flagged, (text, detector.explain(text))
