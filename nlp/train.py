"""Train the learned risk model from the labelled data in this repository.

    python -m nlp.train [--output PATH] [--check]

Reads every ``nlp/data/train/*.jsonl`` (never ``nlp/data/heldout``), assesses each text with
the rule detector (its verdict is an input of the model), and fits, deterministically:

- the risk head: logistic regression on TF-IDF word 1–2-grams and character 3–5-grams, with
  or without the rules' verdict as features; and the floor of model score above which a rule
  flag stands on its own. Whichever finds most risk at the target false-alarm rate in 5-fold
  cross-validation wins, judged on our own fresh data only (the ``fresh_*`` files; the rules
  were tuned on the rest, so there they would look better than they are);
- the thresholds of the tiers, from the same out-of-fold scores: ``review`` at FPR_REVIEW,
  ``concern`` where all but the least sure (1 - CONCERN_RECALL) of our own risk items stand:
  a real disclosure should be loud (an SMS at night), and ``review`` is for the doubtful;
- the danger-now head (on risk items labelled with a severity) and its threshold, set for
  IMMEDIATE_RECALL of danger-now items out of fold;
- a sparse category head, to name the harm when only the model flagged a text.

Writes the model file (JSON, with a checksum; see nlp.model). --check trains and exits 1 if
the committed file differs from what training produces.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import sklearn
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from nlp.evaluate import Item, load_items, prepare
from nlp.features import char_features, word_features
from nlp.model import FORMAT, canonical, checksum, default_path
from nlp.risk import RULE_FEATURES, RuleDetector, around, rule_contexts, rule_values, windows

DATA = Path(__file__).parent / "data"
TRAIN_DIR = DATA / "train"
OWN_PREFIX = "fresh_"  # files written blind for this model: the ones cross-validation judges
FOLDS = 5
SEED = 20261201
FPR_REVIEW = 0.06  # target false-alarm rate of any flag, out of fold on our own data
CONCERN_RECALL = 0.95  # of our own risk items, out of fold, flagged at concern or above
IMMEDIATE_RECALL = 0.90  # of danger-now items, out of fold
C_RISK = 20.0
C_IMMEDIATE = 10.0
C_CATEGORY = 8.0
WORD_FEATURES = 30_000
CHAR_FEATURES = 60_000
# A rule flag stands when the model gives the text at least this much (1.01: never alone).
RULE_FLOORS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 1.01)


def load(directory: Path = TRAIN_DIR) -> list[Item]:
    """Every labelled item, its text as the gateway assesses it (quoted email replies cut)."""
    return [
        dataclasses.replace(item, text=prepare(item))
        for path in sorted(directory.glob("*.jsonl"))
        for item in load_items(str(path))
    ]


def _own(item: Item) -> bool:
    return item.source.startswith(OWN_PREFIX)


class Features:
    """TF-IDF of both analysers, fitted on some documents, applied to any."""

    def __init__(self, word_docs: list[list[str]], char_docs: list[list[str]]) -> None:
        self.word = _fitted(word_docs, WORD_FEATURES)
        self.char = _fitted(char_docs, CHAR_FEATURES)

    def matrix(self, word_docs, char_docs, rules: np.ndarray | None) -> csr_matrix:
        parts = [self.word.transform(word_docs), self.char.transform(char_docs)]
        if rules is not None:
            parts.append(csr_matrix(rules))
        return hstack(parts, format="csr")


def _fitted(docs: list[list[str]], limit: int) -> TfidfVectorizer:
    """TF-IDF over the `limit` terms most often used, of those in at least two documents,
    equal counts in the order of the terms themselves. Why not scikit-learn's own cut
    (max_features): it orders equal counts by numpy's argsort, whose order among equals
    differs with the CPU's vector instructions, so the same data gave another vocabulary,
    and another model, on another machine."""
    uses, documents = Counter(), Counter()
    for doc in docs:
        uses.update(doc)
        documents.update(set(doc))
    kept = sorted((t for t in uses if documents[t] >= 2), key=lambda t: (-uses[t], t))[:limit]
    return TfidfVectorizer(
        analyzer=_given, sublinear_tf=True, vocabulary=sorted(kept), dtype=np.float64
    ).fit(docs)


def _given(doc: list[str]) -> list[str]:
    return doc


def _logistic(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=5000, solver="lbfgs")


def threshold_at(scores: np.ndarray, negatives: np.ndarray, fpr: float) -> float:
    """The lowest threshold whose false-alarm rate on `negatives` is at most `fpr`."""
    ranked = np.sort(scores[negatives])[::-1]
    allowed = int(np.floor(fpr * len(ranked)))
    return float(min(0.99, ranked[allowed] + 1e-9)) if allowed < len(ranked) else 0.01


class Trainer:
    def __init__(self, items: list[Item], log=print) -> None:  # noqa: ANN001
        self.items = items
        self.log = log
        self._features: dict[str, tuple[list[str], list[str]]] = {}
        ruled = RuleDetector().assess_many([i.text for i in items])
        self.rules = np.array([rule_values(r) for r in ruled], dtype=np.float64)
        self.rule_flag = self.rules[:, 0] > 0
        labels = np.array([i.label for i in items])
        self.binary = labels != "borderline"
        self.y = (labels == "risk").astype(int)
        self.own = np.array([_own(i) for i in items])
        self.negative = labels == "no_risk"
        # What the model is scored on at run time: the text and, if long, windows of it.
        self.parts = [[part for _, part in windows(i.text)] for i in items]
        self.pieces = [[part for _, part in windows(i.text, sentences=True)] for i in items]
        self.contexts = [rule_contexts(i.text, r) for i, r in zip(items, ruled, strict=True)]
        self.fragments = [self._fragments(k) for k in range(len(items))]

    def _fragments(self, k: int) -> list[tuple[str, int]]:
        """Extra training texts from item k, so the model judges a part as it judges a whole:
        the sentences and windows of a no-risk text (no risk); the parts of a risk text that
        hold its evidence, the evidence with a sentence either side, and the evidence (risk)."""
        item = self.items[k]
        if item.label == "no_risk":
            return [(part, 0) for part in self.pieces[k][1:]]
        if item.label != "risk" or not item.evidence or item.evidence not in item.text:
            return []
        out = [(part, 1) for part in self.pieces[k][1:] if item.evidence in part]
        start = item.text.index(item.evidence)
        context = around(item.text, start, start + len(item.evidence))
        for extra in (context, item.evidence):
            if extra != item.text and (extra, 1) not in out:
                out.append((extra, 1))
        return out

    def _x(self, features: Features, texts: list[str], rules: np.ndarray | None = None):
        pairs = [self._analysed(t) for t in texts]
        return features.matrix([w for w, _ in pairs], [c for _, c in pairs], rules)

    def _analysed(self, text: str) -> tuple[list[str], list[str]]:
        found = self._features.get(text)
        if found is None:
            found = self._features[text] = (word_features(text), char_features(text))
        return found

    def _fit_risk(self, rows: np.ndarray) -> tuple[Features, LogisticRegression]:
        """The risk head on items `rows` (borderline left out) and their fragments."""
        texts = [self.items[k].text for k in rows if self.binary[k]]
        y = [int(self.y[k]) for k in rows if self.binary[k]]
        for k in rows:
            for text, label in self.fragments[k]:
                texts.append(text)
                y.append(label)
        pairs = [self._analysed(t) for t in texts]
        features = Features([w for w, _ in pairs], [c for _, c in pairs])
        model = _logistic(C_RISK).fit(self._x(features, texts), np.array(y))
        return features, model

    def _score(self, features: Features, model: LogisticRegression, rows, of=None) -> np.ndarray:  # noqa: ANN001
        """P(risk) of each item as the detector takes it: the highest of its parts (or of
        another list of texts per item, `of`)."""
        of = of if of is not None else self.parts
        owners = [k for k, row in enumerate(rows) for _ in of[row]]
        texts = [part for row in rows for part in of[row]]
        out = np.zeros(len(rows))
        if not texts:
            return out
        for owner, p in zip(
            owners, model.predict_proba(self._x(features, texts))[:, 1], strict=True
        ):
            out[owner] = max(out[owner], p)
        return out

    def out_of_fold(self) -> tuple[np.ndarray, np.ndarray]:
        """P(risk) for every item from a model that never saw it (nor parts of it), and the
        highest P(risk) of its rule matches' contexts."""
        scores = np.zeros(len(self.items))
        context = np.zeros(len(self.items))
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
        strata = [f"{i.label}:{_own(i)}" for i in self.items]
        for train, test in folds.split(np.zeros(len(strata)), strata):
            features, model = self._fit_risk(train)
            scores[test] = self._score(features, model, test)
            context[test] = self._score(features, model, test, of=self.contexts)
        return scores, context

    def choose(self, scores: np.ndarray, context: np.ndarray) -> tuple[str, dict, dict]:
        """The floor above which a rule flag stands that finds the most risk on our own data
        at FPR_REVIEW out of fold, and the tiers' thresholds."""
        own_neg = self.own & self.negative
        own_pos = self.own & (self.y == 1) & self.binary
        report, best = {}, None
        for floor in RULE_FLOORS:
            fixed = self.rule_flag & (np.maximum(scores, context) >= floor)
            review = _or_threshold(scores, fixed, own_neg, FPR_REVIEW)
            loud = np.sort(scores[own_pos & ~fixed])
            at = int(np.floor((1 - CONCERN_RECALL) * int(own_pos.sum())))
            concern = max(review, float(loud[min(at, len(loud) - 1)])) if len(loud) else review
            flagged = fixed | (scores >= review)
            figures = {
                "recall": round(float(flagged[own_pos].mean()), 4),
                "fpr": round(float(flagged[own_neg].mean()), 4),
                "borderline": round(float(flagged[self.own & ~self.binary].mean()), 4),
                "review": _r(review),
                "concern": _r(concern),
                "rules_floor": floor,
            }
            key = f"rules floor {floor}"
            report[key] = figures
            self.log(f"cross-validated {key:<18} {figures}")
            if best is None or figures["recall"] > report[best]["recall"]:
                best = key
        return best, report[best], report

    def _severity_rows(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.array(
            [k for k, i in enumerate(self.items) if i.label == "risk" and i.severity], dtype=int
        )
        return rows, np.array([self.items[k].severity == "immediate" for k in rows], dtype=int)

    def _fit_immediate(self, features: Features, rows: np.ndarray, y: np.ndarray):
        x = self._x(features, [self.items[k].text for k in rows], self.rules[rows])
        return _logistic(C_IMMEDIATE).fit(x, y)

    def fit_immediate(self) -> float:
        """The danger-now threshold giving IMMEDIATE_RECALL out of fold."""
        rows, y = self._severity_rows()
        oof = np.zeros(len(rows))
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
        for train, test in folds.split(np.zeros(len(rows)), y):
            pairs = [self._analysed(self.items[k].text) for k in rows[train]]
            features = Features([w for w, _ in pairs], [c for _, c in pairs])
            model = self._fit_immediate(features, rows[train], y[train])
            x = self._x(features, [self.items[k].text for k in rows[test]], self.rules[rows[test]])
            oof[test] = model.predict_proba(x)[:, 1]
        positives = np.sort(oof[y == 1])
        threshold = float(positives[int(np.floor((1 - IMMEDIATE_RECALL) * len(positives)))])
        precision = float((y[oof >= threshold] == 1).mean())
        self.log(
            f"danger-now head: {int(y.sum())}/{len(y)} immediate; threshold {threshold:.3f} "
            f"gives recall {IMMEDIATE_RECALL:.2f}, precision {precision:.3f} out of fold"
        )
        return threshold

    def build(self) -> dict:
        choice, chosen, report = self.choose(*self.out_of_fold())
        self.log(f"chosen: {choice}")
        immediate_threshold = self.fit_immediate()
        everything = np.arange(len(self.items))
        features, risk = self._fit_risk(everything)
        fit = everything[self.binary]
        immediate = self._fit_immediate(features, *self._severity_rows())
        categories = self._categories(features)
        n_word = len(features.word.vocabulary_)
        n_char = len(features.char.vocabulary_)
        payload = {
            "version": "",
            "rule_features": list(RULE_FEATURES),
            "thresholds": {
                "review": _r(chosen["review"]),
                "concern": _r(chosen["concern"]),
                "immediate": _r(immediate_threshold),
                "rules_floor": chosen["rules_floor"],
            },
            "word": _vocabulary(features.word),
            "char": _vocabulary(features.char),
            "heads": {
                "risk": _head(risk, n_word, n_char),
                "immediate": _head(immediate, n_word, n_char),
            },
            "categories": categories,
            "training": {
                "items": len(self.items),
                "risk": int((self.y[fit] == 1).sum()),
                "no_risk": int((self.y[fit] == 0).sum()),
                "borderline_left_out": int((~self.binary).sum()),
                "cross_validation": report,
                "chosen": choice,
                "scikit_learn": sklearn.__version__,
            },
        }
        payload["version"] = "risk-lr-" + checksum(payload)[:12]
        return {"format": FORMAT, "sha256": checksum(payload), "payload": payload}

    def _categories(self, features: Features) -> dict:
        rows = [
            k
            for k, i in enumerate(self.items)
            if i.label in ("risk", "borderline") and i.category and i.category != "bullying"
        ]
        y = np.array([self.items[k].category for k in rows])
        x = features.word.transform([self._analysed(self.items[k].text)[0] for k in rows])
        out = {}
        for name in sorted(set(y)):
            model = LogisticRegression(
                C=C_CATEGORY, l1_ratio=1.0, solver="liblinear", random_state=0, max_iter=2000
            ).fit(x, (y == name).astype(int))
            weights = {str(j): _r(w) for j, w in enumerate(model.coef_[0]) if abs(w) > 1e-6}
            out[name] = {"intercept": _r(model.intercept_[0]), "word": weights}
        return out


def _or_threshold(scores, rule_flag, negatives, fpr: float) -> float:
    """The model threshold keeping the FPR of (model OR `rule_flag`) within `fpr`."""
    budget = fpr - float((rule_flag & negatives).sum()) / max(1, int(negatives.sum()))
    if budget <= 0:
        return 0.99
    unflagged = negatives & ~rule_flag
    ranked = np.sort(scores[unflagged])[::-1]
    allowed = int(np.floor(budget * int(negatives.sum())))
    return float(min(0.99, ranked[allowed] + 1e-9)) if allowed < len(ranked) else 0.01


def _vocabulary(vectoriser: TfidfVectorizer) -> dict:
    terms = sorted(vectoriser.vocabulary_, key=vectoriser.vocabulary_.get)
    return {"terms": terms, "idf": [_r(x) for x in vectoriser.idf_]}


def _head(model: LogisticRegression, n_word: int, n_char: int) -> dict:
    """A head's weights by feature block; a head fitted on text alone weighs the rules' verdict
    at nothing."""
    coef = model.coef_[0]
    rules = [_r(x) for x in coef[n_word + n_char :]] or [0.0] * len(RULE_FEATURES)
    return {
        "word": [_r(x) for x in coef[:n_word]],
        "char": [_r(x) for x in coef[n_word : n_word + n_char]],
        "rules": rules,
        "intercept": _r(model.intercept_[0]),
    }


def _r(x: float) -> float:
    """Six significant digits: the file stays small, and the same on every machine."""
    return float(f"{float(x):.6g}")


# Why the check allows a last digit: the same data and code give the same model on every
# machine except where a weight's seventh digit, which the CPU's vector instructions and BLAS
# kernels may change, rounds its sixth (`_r`) the other way; the training report is in 4.
_WEIGHT_DIGIT, _REPORT_DIGIT = 2e-5, 1e-4
_DERIVED = {"version"}  # the content's own checksum


def _same(committed: object, produced: object, report: bool = False) -> bool:
    """Whether two model payloads are the same model: the same terms, thresholds and
    structure, every number equal but for its last written digit."""
    if isinstance(committed, dict) and isinstance(produced, dict):
        if committed.keys() != produced.keys():
            return False
        return all(
            _same(committed[k], produced[k], report or k == "training")
            for k in committed
            if k not in _DERIVED
        )
    if isinstance(committed, list) and isinstance(produced, list):
        return len(committed) == len(produced) and all(
            _same(a, b, report) for a, b in zip(committed, produced, strict=True)
        )
    numbers = (int, float)
    if isinstance(committed, numbers) and isinstance(produced, numbers):
        if isinstance(committed, bool) or isinstance(produced, bool):
            return committed is produced
        return math.isclose(
            committed, produced, rel_tol=_WEIGHT_DIGIT, abs_tol=_REPORT_DIGIT if report else 0.0
        )
    return committed == produced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.train", description=__doc__)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    document = Trainer(load()).build()
    data = canonical(document) + b"\n"
    target = args.output or default_path()
    if args.check:
        committed = json.loads(target.read_bytes()) if target.exists() else None
        same = committed is not None and _same(committed["payload"], document["payload"])
        print("the committed model is what training produces" if same else "model differs")
        return 0 if same else 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(f"wrote {target} ({len(data):,} bytes), version {document['payload']['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
