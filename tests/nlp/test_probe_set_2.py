"""Generalisation, second round: a probe set written without looking at the rules, with
indirect disclosures, a child's own words, staff and carers, online harms, parental crisis
and hard negatives in violent idiom (nlp/data/train/probe_unseen_2.jsonl)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "she said her uncle puts his hand in her knickers",
        "the escort slapped my daughter's face on the bus",
        "her stepdad takes pictures of her when she's getting changed",
        "the carer locks my daughter (7, autism) in the toilet when she screams",
        "i'm going to leave her at the police station i can't cope",
        "some man on snapchat promised my son a phone if he sends pictures of himself naked",
        "my son told me the men will hurt his little brother if he stops",
        "he came home from his mum's starving and crawling with nits",
        "my wife's drinking again and the baby was in the bath",
        "he found his dads drugs and ate some",
        "my little girl told nursery that daddy does sex with her",
        "his dad makes him stay in the car alone for hours while he's in the pub",
        "he says god told him to hurt his sister",
        "my ex has been smoking crack in front of the kids",
        "the school made him sit in a cupboard all afternoon",
        "my uncle keeps coming into my room at night i dont want to go home",
        "help my son has drunk a bottle of vodka and won't wake up",
    ],
)
def test_indirect_and_reported_disclosures_are_flagged(detector, text):
    assert detector.assess(text).flagged, (text, detector.explain(text))


@pytest.mark.parametrize(
    "text",
    [
        "my mum hurt her back so she can't do the school run",
        "she packed her bags for the residential trip and was so excited",
        "i'll drop her at the hospital for her appointment then go to work",
        "the school threatened to send him home again and exclude him",
        "his insulin needles are left in the school office",
        "i drove him to school and his anxiety was really high",
        "the pshe lessons cover county lines and grooming",
        "he found the drugs education lesson useful",
        "i wanted to punch the wall when the panel said no",
        "i'm going to lose it if the LA misses another deadline",
        "he bites and kicks other children when the hall is noisy, the school has a plan",
        "the twins were play fighting and one pushed the other off the bed",
        "he won't wake up for school in the mornings, the melatonin makes him groggy",
        "nobody knows where the EHCP draft went, the caseworker has left",
        "the teacher said they did sex education in year 6 is that normal",
        "my son plays alone for hours in his room with lego",
        "she's scared to go back to school after the bullying",
        "I would never hurt him, I just need some respite",
    ],
)
def test_more_hard_negatives_are_not_flagged(detector, text):
    result = detector.assess(text)
    assert not result.flagged, (text, result)
