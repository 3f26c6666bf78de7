"""Generalisation, third round: a probe set written without looking at the rules or the
earlier probe sets (nlp/data/train/probe_unseen_3.jsonl): vague and euphemistic disclosures,
very short texts, long voice transcripts with the risk in the middle, grandparents, foster
carers and siblings reporting, professionals as the ones harming, online harms,
speech-recognition errors, and hard negatives (violent idioms, medical conditions, managed
behaviours, resolved history, questions answered with a denial).

First run, before any rule change: recall 0.748 (29 misses of 115), FPR 0.087 (7 of 80)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        # fresh wordings of the gaps the probe found, not the probe's own sentences
        "the kids were left on there own overnight again",
        "i found razor blades hidden under her mattress",
        "his arms are covered in cuts and he wears long sleeves in summer",
        "he shoved me while i was feeding the baby",
        "his nan tells him no one wants him and he should go into care",
        "the carer gives her medicine to keep her quiet on the minibus",
        "they drugged him to get him to sleep",
        "she was found in a different city by the police at 3am",
        "older lads pick him up from school in a black car",
        "she's being kept off school to look after her dad who's poorly",
        "the unit left him in the calm room for three hours",
        "my partner's on the brown again and nodded off holding the baby",
        "a man online keeps asking her to take her top off on video",
        "he put his willy in her mouth she said",
        "she said she'll take them somewhere I'll never find them",
        "he's hidden the kids' passports",
        "her dad twisted her arm till it cracked",
        "she slapped his face so hard it left a mark",
        "the support worker keeps taking money from her bank card",
        "the cook made him eat eggs even though he's allergic",
    ],
)
def test_fresh_wordings_of_probe_3_gaps_are_flagged(detector, text):
    assert detector.assess(text).flagged, (text, detector.explain(text))


@pytest.mark.parametrize(
    "text",
    [
        # own hair, own inner voice, low muscle tone, a denial after the question
        "he pulls his hair out when he's anxious",
        "my son pulls his hair out at night, it's trichotillomania",
        "she keeps pulling her hair out before exams",
        "he tells himself he's stupid when he gets things wrong",
        "his anxiety voice tells him he's useless and he freezes",
        "she has low muscle tone and is quite floppy",
        "he goes floppy during his absence seizures",
        "does he take cocaine? no, nothing like that, he's just tired",
        "has anyone hurt her? no. the bruise was from PE",
        # other hard negatives of the same kinds
        "his eczema is so itchy he scratches till he bleeds",
        "she wants to keep her autism diagnosis secret from her friends",
        "I read an article about county lines, is there a youth club nearby",
        "the SENCO held a gun to my head to agree to the part-time timetable",
        "he had a fall at home and broke his wrist, can he have a scribe",
        "she bruises very easily because of her haemophilia",
    ],
)
def test_probe_3_hard_negatives_are_not_flagged(detector, text):
    result = detector.assess(text)
    assert not result.flagged, (text, result)


@pytest.mark.parametrize(
    "text",
    [
        "his dad pulled his hair out in clumps",
        "he pulls her hair and drags her up the stairs",
        "does he hit her? yes, most nights",
        "the baby is floppy and won't wake up after he shook her",
    ],
)
def test_the_false_alarm_fixes_keep_real_harm(detector, text):
    assert detector.assess(text).flagged, (text, detector.explain(text))
