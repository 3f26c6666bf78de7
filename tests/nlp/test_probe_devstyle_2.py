"""Generalisation, second dev-style round: 150 new messages imitating the dev set's style,
category mix and channels (nlp/data/train/probe_devstyle_2.jsonl), written before reading
the rules and favouring paraphrased acts with no obvious keyword.

First run, before any rule change: recall 0.627 (28 misses of 75), FPR 0.050 (3 of 60).
The misses were acts described without a harm word (a face held in a plate, water squirted
in a face, lying on a child, feeds watered down, a tie round the neck, "does things to
her", addresses and parcels, a head put through a door, an operation "for girls back
home"); the false alarms were idioms ("stabbed us in the back", "starving him of
support") and a denial ("but it was a water balloon fight")."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        # fresh wordings of the gaps, not the probe's own sentences
        "her uncle rubbed between her legs in the car",
        "the babysitter does things to him in the bathroom",
        "he got into the bath with her and she was scared",
        "my son wrapped a charger cable round his neck and tied it to the banister",
        "she asked how long it takes to bleed to death",
        "he keeps saying he doesn't want to wake up anymore",
        "he gave his brother all his games and said he's done with everything",
        "her dad knelt on her chest until she went quiet",
        "my ex held his face in the toilet till he screamed",
        "she poured cold water over her son's head when he wet the bed",
        "the baby's been left in the car outside the pub while she drinks",
        "we've no money for the meter and I've been watering down his formula",
        "a man on snapchat asked when her mum goes to work",
        "older lads keep sending him addresses and he goes with bags",
        "he's not back and it's 3am and his phone is off",
        "he slammed my head through the kitchen window while the kids watched",
        "she says she'll burn the flat down with us in it",
        "they leave him tied in his wheelchair all day",
        "the hospital found old fractures in her arms",
        "her mum makes her wear a sign saying i wet the bed and sends photos to the family",
        "they say it's time she went back home to have the thing they do to girls there",
        "I keep thinking about walking into the river with her",
        "I passed out drunk while he was in the bath",
    ],
)
def test_fresh_wordings_of_devstyle_2_gaps_are_flagged(detector, text):
    assert detector.assess(text).flagged, (text, detector.explain(text))


@pytest.mark.parametrize(
    "text",
    [
        # everyday wordings next to the new patterns
        "he pushes his face into the pillow when he's overwhelmed, the OT says it's sensory",
        "I held him until he calmed down",
        "she held her baby brother till he stopped crying",
        "he tips water over his head in the bath, it's a sensory thing",
        "I sat on her bed and read her a story",
        "he does things to annoy his sister",
        "she puts her scarf round her neck and won't take it off in class",
        "he wears his lanyard round his neck",
        "he doesn't want to wake up for school in the mornings",
        "how long does it take to get a tribunal date?",
        "I'm done with it all, the council never answer",
        "the school take photos and send them to the parents on the app",
        "we left the kids' bags in the car while we went in",
        "I can't afford the transport contribution",
        "he's not back from college till six on tuesdays",
        "nobody can explain why the plan is late",
        "he had an old fracture from football that healed fine",
        "he's running for the school council",
        "the school asked where he lives for the transport form",
        "he has a sleepover at his friend's house on friday",
        "the council put a gun to our heads",
        "he smashed his head through the window in a meltdown, the psych knows",
        "the LA are starving the school of funding",
        "the sendco stabbed us in the back at the review",
        "he told the teacher I hit him but it was a pillow fight",
        "he'll burn the toast if you let him cook",
        "they locked us out of the portal",
        "i fell asleep on the sofa while he was at school",
        "he wants to do something at the school fair so everyone notices his stall",
        "we watch telly together after tea, can his plan mention screen time?",
    ],
)
def test_devstyle_2_hard_negatives_are_not_flagged(detector, text):
    assert not detector.assess(text).flagged, (text, detector.explain(text))
