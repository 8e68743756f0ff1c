"""Product recommendations for one as_of into gold.recommendations (top-N per customer with
score, rank and a reason) and gold.similar_products (per product, for product pages).

Implicit feedback (views < add-to-cart < purchases, returns subtract, decayed by age) trains
Spark MLlib ALS over a small grid (recommend.grid), validated on the days before as_of
against a popularity baseline; the best is registered in MLflow and becomes champion only if
its validation NDCG@K is not worse. The champion serves. Cold-start customers get what is
popular in their country. A re-run for the same as_of replaces its rows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from insight.recommend.run import recommend_all
from insight.runtime import run_job


@dataclass(frozen=True)
class Flags:
    score_only: bool = False  # --score-only


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--score-only",
        dest="score_only",
        action="store_true",
        help="do not train: recommend with the registered champion model as it is",
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("recommend", recommend_all, argv, __doc__, add_args, Flags)
