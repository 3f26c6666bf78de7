"""Inputs as they arrive: transcripts, email threads, SMS, junk, and very long texts."""

from __future__ import annotations

import time

import pytest

from nlp.quoting import strip_quoted_reply
from nlp.risk import CHUNK_CHARS, Assessment, split_chunks


@pytest.mark.parametrize(
    "text",
    [
        "hi um yeah it's about my son er his stepdad smacks him really hard with a belt",
        "um hello i'm ringing because er my daughter's been saying she wants to die and um",
        "hes been missing since 3pm phone off its dark now",
        "MY PARTNER HIT MY DAUGHTER WITH THE REMOTE",
        "we found out they keep him locked in the garden shed",
    ],
)
def test_transcript_and_sms_style_is_flagged(detector, text):
    assert detector.assess(text).flagged, text


def test_asr_misspellings_are_matched(detector):
    # Speech recognition writes "paracetemol"; fuzzy rules match it.
    assert detector.assess("she's took loads of paracetemol").flagged


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "\x00\x01\x02\xff", "🙂🙂🙂 thanks 👍", "\ufffd\ufffd", "a" * 10_000],
)
def test_junk_is_not_flagged_and_does_not_crash(detector, text):
    result = detector.assess(text)
    assert isinstance(result, Assessment)
    assert not result.flagged


def test_invalid_utf8_bytes_are_decoded_with_replacement(detector):
    result = detector.assess(b"his dad hit him \xff\xfe with a belt")
    assert result.flagged


def test_non_text_is_refused(detector):
    with pytest.raises(TypeError):
        detector.assess(12345)


def test_evidence_offsets_point_into_the_text(detector):
    text = "Hello. 🙂 Something else: his dad grabbed him by the neck on Sunday."
    result = detector.assess(text)
    assert result.flagged
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.text


def test_assess_many_matches_assess(detector):
    texts = ["his dad hit him", "can I get help with transport?", "", "she wants to die"]
    assert detector.assess_many(texts) == [detector.assess(t) for t in texts]


def test_very_long_text_is_assessed_in_full_and_in_bounded_time(detector):
    filler = "The annual review was long and the council still has not named a school. " * 14_000
    text = filler + "My partner hit my daughter with a belt last night."
    assert len(text) > 1_000_000
    start = time.perf_counter()
    result = detector.assess(text)
    elapsed = time.perf_counter() - start
    assert result.flagged
    (evidence,) = {e for e in result.evidence if e.rule == "physical.implement"}
    assert text[evidence.start : evidence.end] == evidence.text
    assert evidence.start > 1_000_000
    assert elapsed < 30


def test_chunks_cover_everything_with_bounded_size():
    text = ("word " * 3000 + "\n\n") * 5
    chunks = list(split_chunks(text))
    assert all(len(c) <= CHUNK_CHARS for _, c in chunks)
    assert chunks[0][0] == 0
    assert chunks[-1][0] + len(chunks[-1][1]) == len(text)
    for (a, ca), (b, _cb) in zip(chunks, chunks[1:], strict=False):
        assert b <= a + len(ca)  # no gaps


def test_phrase_on_a_chunk_boundary_is_found(detector):
    pad = "x " * (CHUNK_CHARS // 2 - 10)
    text = pad + "his dad hit him with a belt " + pad
    assert detector.assess(text).flagged


# -- quoted replies and signatures --------------------------------------------------------


def test_strip_gmail_style_quote():
    body = (
        "Thanks, that helps.\n\nJo\n\n"
        "On Mon, 3 Mar 2025, Parent Partnership Service <advice@example.org> wrote:\n"
        "> If you are worried a child is at risk of harm, call 999.\n"
    )
    assert strip_quoted_reply(body) == "Thanks, that helps.\n\nJo"


def test_strip_wrapped_attribution():
    body = (
        "New text here.\n\nOn Mon, 3 Mar 2025 at 09:41, Parent Partnership\n"
        "Service <a@b.org> wrote:\n> old"
    )
    assert strip_quoted_reply(body) == "New text here."


def test_strip_outlook_original_message():
    body = "See below.\n\n-----Original Message-----\nFrom: PPS\nSent: Monday\nTo: me\n\nold text"
    assert strip_quoted_reply(body) == "See below."


def test_strip_outlook_header_block():
    body = (
        "Yes please.\n\nFrom: Parent Partnership <a@b.org>\n"
        "Sent: 3 March 2025 10:00\nSubject: Re: review"
    )
    assert strip_quoted_reply(body) == "Yes please."


def test_strip_signature_and_mobile_footer():
    assert strip_quoted_reply("Hi there\n-- \nJo Bloggs\n07700 900123") == "Hi there"
    assert strip_quoted_reply("Hi there\n\nSent from my iPhone") == "Hi there"


def test_risk_above_quote_is_kept_and_quoted_footer_ignored(detector):
    body = (
        "Can we do mediation by phone? Craig put me in hospital again last week.\n\n"
        "On Wed, 12 Feb 2025 at 09:41, Parent Partnership Service <advice@example.org> wrote:\n"
        "> Dear Claire, mediation is on 3 March.\n"
    )
    assert detector.assess(strip_quoted_reply(body)).flagged
    footer_only = (
        "Thanks, I'll send the letter today.\n\nOn Tue, 11 Mar 2025 PPS wrote:\n"
        "> If a child is in immediate danger or at risk of harm call 999 or social care.\n"
    )
    assert not detector.assess(strip_quoted_reply(footer_only)).flagged


def test_strip_keeps_text_without_quotes_and_bare_forwards():
    assert strip_quoted_reply("just a message\nwith two lines") == "just a message\nwith two lines"
    assert strip_quoted_reply("> all quoted") == "> all quoted"
    assert strip_quoted_reply("") == ""
