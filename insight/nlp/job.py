"""Score reviews with the review model: sentiment (positive/neutral/negative with its
probability), keyphrases and topic per review into gold.review_insights, then rebuild
gold.product_sentiment_daily, gold.keyphrase_weekly and gold.sentiment_alerts.

The model is trained on the lake's own star ratings (three candidates, the best on a
held-out split wins), logged and registered in MLflow, and reused on later runs. Only
reviews not yet scored by the served model are scored.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from insight.nlp.run import nlp_all
from insight.runtime import run_job


@dataclass(frozen=True)
class Flags:
    retrain: bool = False  # --retrain


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train, register and serve a new model even if a registered one exists "
        "(all reviews are then re-scored with it)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("nlp", nlp_all, argv, __doc__, add_args, Flags)
