"""Customer lifetime value for one as_of into gold.customer_clv: an RFM summary of purchase
days from silver.events, BG/NBD (expected purchases, P(alive)) and Gamma-Gamma (expected
spend) fitted on it, CLV over the horizon, and a calibration/holdout check of the purchase
predictions recorded in the run ledger. A re-run for the same as_of replaces its rows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from insight.clv.run import clv_all
from insight.runtime import run_job


@dataclass(frozen=True)
class Flags:
    """clv.* settings given on the command line (None: the config's), one per flag below."""

    holdout_days: int | None = None
    horizon_days: int | None = None
    monthly_discount: float | None = None


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--holdout-days",
        dest="holdout_days",
        type=int,
        help="days before as_of the predictions are checked on (default: clv.holdout_days)",
    )
    parser.add_argument(
        "--horizon-days",
        dest="horizon_days",
        type=int,
        help="days of spend the CLV covers (default: clv.horizon_days)",
    )
    parser.add_argument(
        "--discount",
        dest="monthly_discount",
        type=float,
        help="monthly discount rate of the CLV, e.g. 0.01 (default: clv.monthly_discount)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("clv", clv_all, argv, __doc__, add_args, Flags)
