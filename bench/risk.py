"""Risk detector throughput and latency against bare spaCy tokenisation in the same run.

    python -m bench.risk [--messages 2000] [--risk-share 0.1] [--seed 7] [--json]

Messages of 20, 100, 250 and 1,000 words are built from a fixed set of enquiry sentences (in
email and transcript style) with a share of them carrying one risk sentence, so both the
fast path (nothing to match) and the full path (rules, context) are exercised. For each
size it reports messages per second and p50/p99 latency of ``RiskDetector.assess`` (rules
and model, as the gateway runs it), of the rules alone, and of ``spacy.blank("en")`` on the
same texts, and the ratio; then the resident memory of the process before and after loading
the detector. Single process, one text at a time.
--json also prints one JSON object as the last line of stdout, for machines (CI, comparisons).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ENQUIRY = [
    "Hi, I'm writing about my son's EHCP draft, which still doesn't name a school.",
    "The council have missed the twenty week deadline and nobody returns my calls.",
    "Can someone come with me to the annual review next Thursday at ten?",
    "She has dyslexia and the school say she doesn't need an assessment.",
    "um hi yeah it's about the transport he's moving to a special school eleven miles away",
    "the sendco says he's on sen support but i've never seen a plan or anything",
    "We would like to know whether Section F is specific enough before we appeal.",
    "Our mediation is booked for next month and I'm nervous about what happens.",
    "He has been on a part-time timetable for six months and I've had to give up work.",
    "Could you send me the leaflet about why you keep information about families?",
    "honestly this process is killing me and the caseworker never answers the phone",
    "He bangs his head when he is overwhelmed but his OT has a sensory plan for it.",
    "The tribunal bundle is three hundred pages and I don't know what a working document is.",
    "is there a parent support group for adhd near basingstoke that meets in the evenings",
    "They want to reduce his one to one hours because he is doing well with the support.",
    "Thanks for coming to the meeting yesterday, it made such a difference having you there.",
]
RISK = [
    "His dad grabbed him by the neck on Sunday and there are still marks.",
    "she said she wants to die and she has been cutting her arms every night",
    "My partner hit my daughter with the remote and she has a cut on her head.",
    "there's no food in the house and the baby's formula ran out this morning",
    "he's been missing since last night and his phone is off",
    "a man she met online keeps asking her to send photos and not tell me",
]


def make_messages(words: int, count: int, risk_share: float, seed: int) -> list[str]:
    """``count`` texts of exactly ``words`` words; about ``risk_share`` carry a risk sentence."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts: list[str] = []
        if rng.random() < risk_share:
            parts.extend(rng.choice(RISK).split())
        while len(parts) < words:
            parts.extend(rng.choice(ENQUIRY).split())
        rng.shuffle(chunks := [parts[i : i + 12] for i in range(0, len(parts), 12)])
        flat = [w for chunk in chunks for w in chunk][:words]
        out.append(" ".join(flat))
    return out


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux /proc)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_each(fn: Callable[[str], object], texts: list[str]) -> list[float]:
    """Per-call latency in seconds, after a short warm-up."""
    for text in texts[:50]:
        fn(text)
    gc.collect()
    gc.disable()
    try:
        out = []
        clock = time.perf_counter
        for text in texts:
            start = clock()
            fn(text)
            out.append(clock() - start)
        return out
    finally:
        gc.enable()


def summary(latencies: list[float]) -> tuple[float, float, float]:
    """(messages per second, p50 ms, p99 ms)."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(ordered) / sum(ordered), statistics.median(ordered) * 1e3, p99 * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.risk", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=2000, help="messages per size")
    parser.add_argument("--risk-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="JSON summary as the last line")
    args = parser.parse_args(argv)

    import spacy

    before = rss_mb()
    from nlp.risk import RiskDetector

    detector = RiskDetector()
    loaded = rss_mb()
    blank = spacy.blank("en")

    print(
        f"{'words':>6} {'detector msg/s':>15} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'rules msg/s':>12} {'p99 ms':>8} "
        f"{'blank msg/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'flagged':>8}"
    )
    sizes: list[dict[str, float]] = []
    for words in (20, 100, 250, 1000):
        count = args.messages if words < 1000 else max(200, args.messages // 10)
        texts = make_messages(words, count, args.risk_share, args.seed + words)
        base = summary(time_each(blank, texts))
        rules = summary(time_each(detector.rules.assess, texts))
        mine = summary(time_each(detector.assess, texts))
        flagged = sum(a.flagged for a in detector.assess_many(texts)) / len(texts)
        print(
            f"{words:>6} {mine[0]:>15.0f} {mine[1]:>8.3f} {mine[2]:>8.3f} "
            f"{rules[0]:>12.0f} {rules[2]:>8.3f} {base[0]:>12.0f} "
            f"{base[1]:>8.3f} {base[2]:>8.3f} {base[0] / mine[0]:>6.2f} {flagged:>8.1%}"
        )
        sizes.append(
            {
                "words": words,
                "msgs_per_s": round(mine[0], 1),
                "p99_ms": round(mine[2], 3),
                "bare_msgs_per_s": round(base[0], 1),
                "rules_msgs_per_s": round(rules[0], 1),
                "rules_p99_ms": round(rules[2], 3),
            }
        )
    texts = make_messages(100, args.messages, args.risk_share, args.seed)
    start = time.perf_counter()
    detector.assess_many(texts)
    batch = len(texts) / (time.perf_counter() - start)
    print(f"\nassess_many (nlp.pipe), 100 words: {batch:.0f} msg/s")
    print("detector = rules and model combined (what the gateway runs); rules = rules alone")
    print("ratio = detector time / bare spacy.blank('en') time on the same texts")
    print(
        f"resident memory: {before:.0f} MB after importing spaCy, {loaded:.0f} MB with the "
        f"detector loaded (+{loaded - before:.0f} MB); {rss_mb():.0f} MB at the end"
    )
    if args.json:
        print(json.dumps({"sizes": sizes}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
