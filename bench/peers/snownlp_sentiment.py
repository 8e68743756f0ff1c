"""The peer for Chinese sentiment: SnowNLP, the classic Chinese sentiment library (a naive
Bayes model trained on product reviews, shipped in the package), in one Python process.
sentiments >= 0.5 is positive, below it negative (SnowNLP's own reading of its score).
Only for the benchmark: `pip install snownlp==0.12.3` (make bench-sentiment does)."""

from __future__ import annotations

import time

THRESHOLD = 0.5


def scores(texts: list[str]) -> tuple[list[float], float]:
    """(P(positive) per text, reviews per second, one process) for `texts`."""
    from snownlp import SnowNLP

    t0 = time.perf_counter()
    out = [SnowNLP(t).sentiments if t.strip() else THRESHOLD for t in texts]
    return out, len(texts) / (time.perf_counter() - t0)
