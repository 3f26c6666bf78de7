"""Training gives the same model from the same data on any machine: the vocabulary's cut
does not depend on how a CPU sorts equal counts, and the check that the committed model is
what training produces allows only a weight's last written digit to differ."""

from __future__ import annotations

import copy

from nlp import train

DOCS = [["b", "a", "c", "d"], ["a", "b", "c", "d"], ["c", "a", "e"], ["e", "f"], ["f", "b"]]


def test_equal_counts_are_cut_in_the_order_of_the_terms_whatever_the_documents_order():
    # a: 3, b: 3, c: 3, d: 2, e: 2, f: 2 uses, each in 2+ documents; room for four
    for docs in (DOCS, DOCS[::-1], [list(reversed(d)) for d in DOCS]):
        vectoriser = train._fitted(docs, 4)
        assert sorted(vectoriser.vocabulary_) == ["a", "b", "c", "d"]
        assert list(vectoriser.vocabulary_) == ["a", "b", "c", "d"]  # indices in term order


def test_a_term_in_one_document_only_is_left_out():
    vectoriser = train._fitted([["x", "x", "x", "y"], ["y", "z"]], 10)
    assert sorted(vectoriser.vocabulary_) == ["y"]


PAYLOAD = {
    "version": "risk-lr-000000000000",
    "thresholds": {"review": 0.567235, "concern": 0.949224, "rules_floor": 0.25},
    "word": {"terms": ["a", "b"], "idf": [1.69315, 2.09861]},
    "heads": {"risk": {"word": [0.123457, -3.50001], "intercept": -4.30022}},
    "categories": {"neglect": {"intercept": -5.1, "word": {"12": 0.5}}},
    "training": {"recall": 0.9705, "items": 4889},
}


def _changed(path: tuple, value: object) -> dict:
    payload = copy.deepcopy(PAYLOAD)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


def test_only_a_weights_last_digit_or_the_reports_last_digit_may_differ():
    assert train._same(PAYLOAD, copy.deepcopy(PAYLOAD))
    assert train._same(PAYLOAD, _changed(("heads", "risk", "word"), [0.123456, -3.50002]))
    assert train._same(PAYLOAD, _changed(("training", "recall"), 0.9706))
    assert train._same(PAYLOAD, _changed(("version",), "risk-lr-111111111111"))


def test_another_model_is_not_the_same():
    for path, value in (
        (("heads", "risk", "word"), [0.123457, -3.5002]),  # the fifth digit
        (("thresholds", "review"), 0.5673),
        (("word", "terms"), ["a", "c"]),
        (("word", "idf"), [1.69315]),
        (("categories", "neglect", "word"), {"13": 0.5}),
        (("training", "recall"), 0.9720),
        (("training", "items"), 4890),
    ):
        assert not train._same(PAYLOAD, _changed(path, value)), path
