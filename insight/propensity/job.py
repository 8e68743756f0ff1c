"""Purchase and churn propensity for one as_of into gold.customer_scores (probability,
percentile, risk band and the top 3 factors per customer and target) and customer
embeddings into gold.customer_embeddings.

Models: a Keras network over the customer features (standardised numeric inputs, learned
embeddings of country, top category, channel and device) trained with Horovod across Spark
tasks from Petastorm, next to Spark MLlib GBT and logistic-regression baselines on the same
point-in-time snapshots. Tracked in MLflow; a target's model is trained with --train or when
it has no champion yet, and becomes champion only if its validation AUC is not worse.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from insight.propensity.run import propensity_all
from insight.runtime import run_job


@dataclass(frozen=True)
class Flags:
    train: bool = False  # --train
    score_only: bool = False  # --score-only
    num_proc: int | None = None  # --num-proc; None: propensity.num_proc


def add_args(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--train", dest="train", action="store_true",
                      help="train new models (then score with the champions)")  # fmt: skip
    mode.add_argument("--score-only", dest="score_only", action="store_true",
                      help="never train: score with the registered champions")  # fmt: skip
    parser.add_argument("--num-proc", dest="num_proc", type=int,
                        help="Horovod processes (default: propensity.num_proc)")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("propensity", propensity_all, argv, __doc__, add_args, Flags)
