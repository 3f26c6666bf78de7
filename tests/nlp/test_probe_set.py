"""Generalisation: a probe set written without looking at the rules (tests/nlp/data), and
severity: "immediate" means danger now or at the point of harm."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "he's going to kill himself tonight he's got a rope",
        "my son has gone missing he's six and autistic",
        "she's just swallowed a whole packet of paracetamol",
        "i might hurt her right now i need someone to come",
        "he's hitting her right now i can hear it",
        "he strangled my daughter last night",
        "my husband put his hands round my neck and squeezed",
        "he's got a knife and he's threatening the kids",
        "my daughter has run off and it's getting dark and she's not answering",
        "she's locked herself in the bathroom with a knife and says she's gonna end it",
        "honestly i can't do this anymore i've got the tablets out and the kids are asleep",
        "he's outside banging on the windows and he's not allowed near us",
    ],
)
def test_danger_now_is_immediate(detector, text):
    result = detector.assess(text)
    assert result.flagged and result.severity == "immediate", (text, result)


@pytest.mark.parametrize(
    "text",
    [
        "she keeps going missing and comes back with new trainers",
        "he came back from respite with bruises on his arms",
        "his dad calls him a useless freak",
    ],
)
def test_worrying_but_not_now_is_concern(detector, text):
    result = detector.assess(text)
    assert result.flagged and result.severity == "concern", (text, result)


@pytest.mark.parametrize(
    "text",
    [
        "he had a knife for cutting his food at the table",
        "he hits his head when he's overwhelmed, the OT has a plan",
        "the council is killing me with this paperwork",
        "what if social services get involved",
        "my son was assaulted in 2019 and the police dealt with it",
        "his epilepsy medication makes him drowsy",
        "our caseworker has gone missing in action",
        "there's no domestic violence or anything, we just disagree about schools",
        "when demands get too high he runs out of class, the school has a safe space",
    ],
)
def test_hard_negatives_are_not_flagged(detector, text):
    result = detector.assess(text)
    assert not result.flagged, (text, result)
