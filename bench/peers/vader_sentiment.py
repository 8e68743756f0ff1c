"""The peer for sentiment: VADER, the lexicon analyser most people reach for, in one
Python process. Compound score >= 0.05 positive, <= -0.05 negative, else neutral (the
thresholds VADER's authors recommend)."""

from __future__ import annotations

import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

THRESHOLD = 0.05


def label(compound: float) -> str:
    if compound >= THRESHOLD:
        return "positive"
    if compound <= -THRESHOLD:
        return "negative"
    return "neutral"


def predict(texts: list[str]) -> list[str]:
    analyser = SentimentIntensityAnalyzer()
    return [label(analyser.polarity_scores(t)["compound"]) for t in texts]


def throughput(texts: list[str], min_seconds: float = 3.0) -> float:
    """Reviews per second, repeating the texts until at least `min_seconds` have passed."""
    analyser = SentimentIntensityAnalyzer()
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        for t in texts:
            analyser.polarity_scores(t)
        done += len(texts)
    return done / (time.perf_counter() - t0)
